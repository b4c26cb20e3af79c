import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import NIOCore
import SlipwayAPI
import SlipwayRegistry

/// The web console at `/`: server-rendered pages over the same ``Registry`` calls as the management API, with
/// the signed-in user's ``Principal``, so a person can do in the browser exactly what their token allows.
///
/// ```swift
/// try Console(registry: registry, predictions: predictions).register(on: router)
/// ```
public struct Console: Sendable {
    /// Settings of the console.
    public struct Configuration: Sendable {
        /// How long a sign-in lasts.
        public var sessionLifetime: TimeInterval
        /// Whether cookies are always marked `Secure` (else only when the request came over HTTPS).
        public var alwaysSecureCookies: Bool

        /// Creates the settings (8-hour sessions, `Secure` cookies over HTTPS).
        public init(sessionLifetime: TimeInterval = 8 * 3600, alwaysSecureCookies: Bool = false) {
            self.sessionLifetime = sessionLifetime
            self.alwaysSecureCookies = alwaysSecureCookies
        }
    }

    let registry: Registry
    let predictions: PredictionAPI
    let monitoring: ConsoleMonitoring?
    let traffic: ConsoleTraffic?
    let configuration: Configuration
    let sessions: ConsoleSessions
    let library: MustacheLibrary

    /// Creates the console; throws if an embedded template does not parse. Without `monitoring` the monitoring page
    /// says it is not available and the overview shows no key metric trend; without `traffic` the traffic page shows
    /// no guardrail verdicts or experiment readout.
    public init(
        registry: Registry,
        predictions: PredictionAPI,
        monitoring: ConsoleMonitoring? = nil,
        traffic: ConsoleTraffic? = nil,
        configuration: Configuration = Configuration()
    ) throws {
        self.registry = registry
        self.predictions = predictions
        self.monitoring = monitoring
        self.traffic = traffic
        self.configuration = configuration
        self.sessions = ConsoleSessions(store: registry.repository, lifetime: configuration.sessionLifetime)
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// Adds the console's routes to `router`.
    public func register(on router: Router<SlipwayRequestContext>) {
        router.get("console/assets/console.css") { _, _ in
            Self.asset(ConsoleAssets.stylesheet, type: "text/css; charset=utf-8")
        }
        router.get("console/assets/console.js") { _, _ in
            Self.asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8")
        }
        router.get("/") { request, _ in
            try await self.visitor(request) == nil
                ? ConsoleHTTP.redirect(to: "/signin") : ConsoleHTTP.redirect(to: "/models")
        }
        router.get("signin") { request, _ in self.signInPage(request) }
        router.post("signin") { request, context in try await self.signIn(request, context) }
        router.post("signout") { request, context in try await self.signOut(request, context) }
        router.get("models") { request, context in
            try await self.page(request, context) { try await self.modelsPage(request, $0) }
        }
        router.post("models") { request, context in
            try await self.action(request, context) { try await self.createModel($0, $1) }
        }
        let model = "models/:owner/:name"
        router.get("\(model)") { request, context in
            try await self.page(request, context) { try await self.modelPage(context, $0) }
        }
        router.get("\(model)/environments/:environment") { request, context in
            try await self.page(request, context) { try await self.environmentPage(request, context, $0) }
        }
        for verb in ConsoleRelease.allCases {
            router.get("\(model)/environments/:environment/\(verb.rawValue)") { request, context in
                try await self.page(request, context) { try await self.confirmPage(verb, request, context, $0) }
            }
            router.post("\(model)/environments/:environment/\(verb.rawValue)") { request, context in
                try await self.action(request, context) { try await self.release(verb, context, $0, $1) }
            }
        }
        router.get("\(model)/environments/:environment/traffic") { request, context in
            try await self.page(request, context) { try await self.trafficPage(request, context, $0) }
        }
        router.post("\(model)/environments/:environment/traffic/rollouts") { request, context in
            try await self.action(request, context) { try await self.startRollout(context, $0, $1) }
        }
        router.post("\(model)/environments/:environment/traffic/split") { request, context in
            try await self.action(request, context) { try await self.setSplit(context, $0, $1) }
        }
        router.get("\(model)/environments/:environment/traffic/clear") { request, context in
            try await self.page(request, context) { try await self.clearSplitConfirmPage(context, $0) }
        }
        router.post("\(model)/environments/:environment/traffic/clear") { request, context in
            try await self.action(request, context) { visitor, _ in try await self.clearSplit(context, visitor) }
        }
        for command in Registry.RolloutCommand.allCases {
            router.get("\(model)/environments/:environment/traffic/\(command.rawValue)") { request, context in
                try await self.page(request, context) { try await self.rolloutConfirmPage(command, context, $0) }
            }
            router.post("\(model)/environments/:environment/traffic/\(command.rawValue)") { request, context in
                try await self.action(request, context) { visitor, _ in
                    try await self.commandRollout(command, context, visitor)
                }
            }
        }
        router.get("\(model)/environments/:environment/deployments/:version") { request, context in
            try await self.page(request, context) { try await self.deploymentPage(context, $0) }
        }
        router.get("\(model)/keys") { request, context in
            try await self.page(request, context) { try await self.keysPage(context, $0, issued: nil) }
        }
        router.post("\(model)/keys") { request, context in
            try await self.action(request, context) { try await self.createKey(context, $0, $1) }
        }
        router.post("\(model)/keys/:key/revoke") { request, context in
            try await self.action(request, context) { visitor, _ in try await self.revokeKey(context, visitor) }
        }
        router.get("\(model)/activity") { request, context in
            try await self.page(request, context) { try await self.activityPage(request, context, $0) }
        }
        router.get("\(model)/docs") { request, context in
            try await self.page(request, context) { try await self.docsPage(request, context, $0) }
        }
        router.get("\(model)/openapi.json") { request, context in
            try await self.page(request, context) { try await self.openAPI(request, context, $0) }
        }
        router.get("\(model)/monitoring") { request, context in
            try await self.page(request, context) { try await self.monitoringPage(request, context, $0) }
        }
        router.post("\(model)/monitoring/alerts") { request, context in
            try await self.action(request, context) { try await self.createAlertRule(context, $0, $1) }
        }
        router.get("\(model)/monitoring/alerts/:alert/delete") { request, context in
            try await self.page(request, context) { try await self.deleteAlertConfirmPage(context, $0) }
        }
        router.post("\(model)/monitoring/alerts/:alert/delete") { request, context in
            try await self.action(request, context) { visitor, _ in try await self.deleteAlertRule(context, visitor) }
        }
        router.get("\(model)/playground") { request, context in
            try await self.page(request, context) { try await self.playgroundPage(request, context, $0, result: nil) }
        }
        router.post("\(model)/playground") { request, context in
            try await self.action(request, context, limit: 1 << 20) { visitor, form in
                try await self.playgroundSend(request, context, visitor, form)
            }
        }
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=3600"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Sessions

    /// A signed-in person on one request.
    struct Visitor {
        var sessionID: String
        var session: ConsoleSession
        var user: User
        var principal: Principal { .user(self.user) }
    }

    /// The signed-in person, if the request carries a live session whose API token still works.
    func visitor(_ request: Request) async throws -> Visitor? {
        guard let id = ConsoleHTTP.cookie(ConsoleHTTP.sessionCookie, in: request),
            let session = try await self.sessions.session(id: id)
        else { return nil }
        guard let token = try await self.registry.repository.token(id: session.tokenID),
            token.isUsable(at: Date()),
            let user = try await self.registry.repository.user(id: token.userID)
        else {
            try await self.sessions.end(id: id)
            return nil
        }
        return Visitor(sessionID: id, session: session, user: user)
    }

    func secure(_ request: Request) -> Bool {
        self.configuration.alwaysSecureCookies || ConsoleHTTP.isHTTPS(request)
    }

    func signInPage(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let parameters = request.uri.queryParameters
        let next = ConsoleHTTP.localPath(parameters.get("next"))
        var notice: String?
        if parameters.get("expired") != nil { notice = "Your session has ended. Sign in again." }
        if parameters.get("signedout") != nil { notice = "You are signed out." }
        let csrf = ConsoleSessions.randomToken()
        let page = self.render(
            "signin",
            ["csrf": csrf, "next": next],
            layout: Layout(title: "Sign in", flash: notice, error: error)
        )
        let cookie = ConsoleHTTP.setCookie(
            ConsoleHTTP.signInCookie,
            csrf,
            maxAge: 3600,
            secure: self.secure(request)
        )
        return ConsoleHTTP.html(page, status: status, cookies: [cookie])
    }

    func signIn(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let form: [String: [String]]
        do {
            form = try await ConsoleHTTP.form(request, limit: 16 << 10)
        } catch let failure as ConsoleFailure {
            return self.signInPage(request, error: failure.message, status: failure.status)
        }
        guard let sent = form["csrf"]?.first, let expected = ConsoleHTTP.cookie(ConsoleHTTP.signInCookie, in: request),
            ConsoleSessions.constantTimeEquals(sent, expected)
        else {
            return self.signInPage(
                request,
                error: "The sign-in form was missing its security token or it expired. Try again.",
                status: .forbidden
            )
        }
        let token = (form["token"]?.first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            return self.signInPage(request, error: "Enter your API token.", status: .badRequest)
        }
        let principal: Principal
        do {
            principal = try await self.registry.authenticate(secret: token)
        } catch let error as RegistryError where error.code == .unauthenticated {
            return self.signInPage(
                request,
                error: "That token does not sign you in: \(error.message).",
                status: .unauthorized
            )
        }
        guard case .user = principal, let parsed = Secret.parse(token) else {
            return self.signInPage(
                request,
                error: "Sign in with a user's API token (slw_u_…); deploy and serving keys cannot sign in.",
                status: .unauthorized
            )
        }
        let (id, _) = try await self.sessions.start(tokenID: parsed.id)
        let secure = self.secure(request)
        return ConsoleHTTP.redirect(
            to: ConsoleHTTP.localPath(form["next"]?.first),
            cookies: [
                ConsoleHTTP.setCookie(
                    ConsoleHTTP.sessionCookie,
                    id,
                    maxAge: Int(self.configuration.sessionLifetime),
                    secure: secure
                ),
                ConsoleHTTP.setCookie(ConsoleHTTP.signInCookie, "", maxAge: 0, secure: secure),
            ]
        )
    }

    func signOut(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        try await self.action(request, context) { visitor, _ in
            try await self.sessions.end(id: visitor.sessionID)
            return ConsoleHTTP.redirect(
                to: "/signin?signedout=1",
                cookies: [
                    ConsoleHTTP.setCookie(ConsoleHTTP.sessionCookie, "", maxAge: 0, secure: self.secure(request))
                ]
            )
        }
    }

    // MARK: Page and action wrappers

    /// Runs a page for a signed-in person; sends others to the sign-in page, and shows errors as a page.
    func page(
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ body: (Visitor) async throws -> Response
    ) async throws -> Response {
        guard let visitor = try await self.visitor(request) else {
            var next = request.uri.path
            if let query = request.uri.query, !query.isEmpty { next += "?" + query }
            let expired = ConsoleHTTP.cookie(ConsoleHTTP.sessionCookie, in: request) != nil
            return ConsoleHTTP.redirect(
                to: "/signin?next=\(ConsoleHTTP.escape(next))" + (expired ? "&expired=1" : "")
            )
        }
        do {
            return try await body(visitor)
        } catch {
            return self.failure(error, request, context, visitor, changed: false)
        }
    }

    /// Runs a form post: needs a live session and the session's CSRF token; on any refusal nothing is changed and
    /// the page says why.
    func action(
        _ request: Request,
        _ context: SlipwayRequestContext,
        limit: Int = 64 << 10,
        _ body: (Visitor, [String: [String]]) async throws -> Response
    ) async throws -> Response {
        guard let visitor = try await self.visitor(request) else {
            let page = self.render(
                "message",
                [
                    "heading": "Sign in again",
                    "text": "Your session has ended or you are not signed in, so nothing was changed.",
                    "back": "/signin",
                ],
                layout: Layout(title: "Sign in again")
            )
            return ConsoleHTTP.html(page, status: .unauthorized)
        }
        do {
            let form = try await ConsoleHTTP.form(request, limit: limit)
            guard let sent = form["csrf"]?.first,
                ConsoleSessions.constantTimeEquals(sent, visitor.session.csrfToken)
            else {
                throw ConsoleFailure(
                    .forbidden,
                    "The form did not carry this session's security token (CSRF), so nothing was changed. "
                        + "Reload the page and try again."
                )
            }
            return try await body(visitor, form)
        } catch {
            return self.failure(error, request, context, visitor, changed: true)
        }
    }

    /// An error as a page: the status and the detail the API would give.
    func failure(
        _ error: any Error,
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor?,
        changed: Bool
    ) -> Response {
        let status: HTTPResponse.Status
        var text: String
        if let failure = error as? ConsoleFailure {
            status = failure.status
            text = failure.message
        } else {
            let translated = ErrorMiddleware.translate(error, request: request, context: context)
            status = translated.status
            text = translated.detail.prefix(1).uppercased() + translated.detail.dropFirst()
            if !text.hasSuffix(".") { text += "." }
            if changed && status.code < 500 { text += " Nothing was changed." }
        }
        let heading =
            switch status.code {
            case 400, 422: "Check the input"
            case 401: "Sign in again"
            case 403: "Not allowed"
            case 404: "Not found"
            case 409: "Conflict"
            case 413: "Too large"
            default: status.code < 500 ? "Cannot do that" : "Something went wrong"
            }
        var back = request.uri.path
        if request.method == .post, let referer = request.headers[.referer], let url = URL(string: referer) {
            back = ConsoleHTTP.localPath(url.path.isEmpty ? nil : url.path)
        } else if request.method == .post {
            back = "/models"
        }
        let page = self.render(
            "message",
            ["heading": heading, "text": text, "back": back],
            layout: Layout(title: heading, visitor: visitor)
        )
        return ConsoleHTTP.html(page, status: status)
    }

    // MARK: Rendering

    /// What the layout around a page shows.
    struct Layout {
        var title: String
        var visitor: Visitor?
        var model: Model?
        var tab: String = ""
        var flash: String?
        var error: String?
    }

    /// Renders a page template inside the layout.
    func render(_ template: String, _ data: [String: Any], layout: Layout) -> String {
        var data = data
        if let visitor = layout.visitor {
            data["csrf"] = visitor.session.csrfToken
            data["username"] = visitor.user.username
        }
        let content = self.library.render(data, withTemplate: template) ?? ""
        var frame: [String: Any] = [
            "title": layout.title,
            "content": content,
            "signedIn": layout.visitor != nil,
        ]
        if let visitor = layout.visitor {
            frame["csrf"] = visitor.session.csrfToken
            frame["username"] = visitor.user.username
            if let flash = visitor.session.flash { frame["flash"] = flash }
        }
        if let flash = layout.flash { frame["flash"] = flash }
        if let error = layout.error { frame["error"] = error }
        if let model = layout.model {
            var tabs: [String: Any] = ["path": Self.path(model)]
            tabs["tab" + layout.tab] = true
            frame["model"] = tabs
        }
        return self.library.render(frame, withTemplate: "layout") ?? ""
    }

    /// A page response for a signed-in visitor.
    func respond(
        _ template: String,
        _ data: [String: Any],
        title: String,
        visitor: Visitor,
        model: Model? = nil,
        tab: String = "",
        status: HTTPResponse.Status = .ok
    ) -> Response {
        ConsoleHTTP.html(
            self.render(template, data, layout: Layout(title: title, visitor: visitor, model: model, tab: tab)),
            status: status
        )
    }

    static func path(_ model: Model) -> String {
        "/models/\(ConsoleHTTP.escape(model.owner))/\(ConsoleHTTP.escape(model.name))"
    }

    static func path(_ model: Model, environment: String) -> String {
        "\(self.path(model))/environments/\(ConsoleHTTP.escape(environment))"
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "" }
        let text = date.formatted(.iso8601)
        return String(text.replacingOccurrences(of: "T", with: " ").prefix(16)) + " UTC"
    }
}

/// The release actions, each with a confirmation step.
enum ConsoleRelease: String, CaseIterable {
    case activate
    case rollback
    case promote
}
