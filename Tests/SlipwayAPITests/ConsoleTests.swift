import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SlipwayRegistry
import SlipwayStorage
import Testing

@testable import SlipwayConsole

/// A browser's view of the console: its cookies and the last page's CSRF token.
struct ConsoleBrowser: Sendable {
    let api: TestAPI
    var session: String?

    /// Sends a request with the session cookie (and any extra cookie).
    func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        form: [(String, String)]? = nil,
        cookie: String? = nil,
        accept: String? = nil
    ) async throws -> Reply {
        var headers = HTTPFields()
        var cookies: [String] = []
        if let session { cookies.append("slipway_session=\(session)") }
        if let cookie { cookies.append(cookie) }
        if !cookies.isEmpty { headers[.cookie] = cookies.joined(separator: "; ") }
        if let accept { headers[.accept] = accept }
        var body: Data?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = Data(Self.encode(form).utf8)
        }
        return try await self.api.request(method, path, body: body, headers: headers)
    }

    static func encode(_ form: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }

    /// The value of the first `name="csrf"` field on a page.
    static func csrf(in page: String) -> String? {
        guard let range = page.range(of: #"name="csrf" value=""#) else { return nil }
        let rest = page[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// The value a `Set-Cookie` header gives `name`, with the header itself.
    static func cookie(_ name: String, in reply: Reply) -> (value: String, header: String)? {
        for header in reply.headers[values: .setCookie] where header.hasPrefix("\(name)=") {
            let value = header.dropFirst(name.count + 1).prefix { $0 != ";" }
            return (String(value), header)
        }
        return nil
    }

    /// Signs in with `token`; returns the browser with its session, and the sign-in reply.
    static func signIn(_ api: TestAPI, token: String) async throws -> (ConsoleBrowser, Reply) {
        var browser = ConsoleBrowser(api: api)
        let form = try await browser.send(.get, "/signin")
        let csrf = try #require(Self.csrf(in: form.text))
        let pre = try #require(Self.cookie("slipway_signin", in: form))
        let reply = try await browser.send(
            .post,
            "/signin",
            form: [("csrf", csrf), ("token", token), ("next", "/models")],
            cookie: "slipway_signin=\(pre.value)"
        )
        browser.session = Self.cookie("slipway_session", in: reply)?.value
        return (browser, reply)
    }

    /// The CSRF token on the page at `path`.
    func csrf(from path: String = "/models") async throws -> String {
        let page = try await self.send(.get, path)
        return try #require(Self.csrf(in: page.text), "\(page)")
    }
}

extension Credential {
    /// The raw secret of a bearer credential.
    var secret: String {
        String(self.headers[.authorization]?.dropFirst("Bearer ".count) ?? "")
    }
}

@Suite("Web console")
struct ConsoleTests {
    @Test("signing in sets an HttpOnly, SameSite=Strict session cookie; pages need it")
    func signIn() async throws {
        try await withServer { api in
            let anonymous = try await ConsoleBrowser(api: api).send(.get, "/models")
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location]?.hasPrefix("/signin?next=%2Fmodels") == true)

            let (browser, reply) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            #expect(reply.status == .seeOther, "\(reply)")
            #expect(reply.headers[.location] == "/models")
            let cookie = try #require(ConsoleBrowser.cookie("slipway_session", in: reply))
            #expect(cookie.header.contains("HttpOnly"))
            #expect(cookie.header.contains("SameSite=Strict"))
            #expect(!cookie.header.contains("Secure"), "plain HTTP here")
            let page = try await browser.send(.get, "/models")
            #expect(page.status == .ok)
            #expect(page.text.contains("<h1>Models</h1>"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
        }
    }

    @Test("a wrong token, a key instead of a token, or a sign-in form without its CSRF token is refused with a message")
    func signInRefusals() async throws {
        try await withServer { api in
            let (_, wrong) = try await ConsoleBrowser.signIn(api, token: "slw_u_nothing_here")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("That token does not sign you in"))
            #expect(ConsoleBrowser.cookie("slipway_session", in: wrong) == nil)

            try await api.createModel("admin/iris")
            let key = try await api.createKey("serving", in: "admin/iris", environments: ["production"])
            let (_, serving) = try await ConsoleBrowser.signIn(api, token: key.secret)
            #expect(serving.status == .unauthorized)
            #expect(serving.text.contains("deploy and serving keys cannot sign in"))

            let browser = ConsoleBrowser(api: api)
            let noCSRF = try await browser.send(.post, "/signin", form: [("token", api.server.adminToken)])
            #expect(noCSRF.status == .forbidden)
            #expect(noCSRF.text.contains("security token"))
            #expect(ConsoleBrowser.cookie("slipway_session", in: noCSRF) == nil)
        }
    }

    @Test("a model description with <script> shows as text")
    func escaping() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let patch = try await api.patch(
                "/api/v1/models/admin/iris",
                as: api.admin,
                json: #"{"description": "<script>alert('x')</script> & more"}"#
            )
            try #require(patch.status == .ok, "\(patch)")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            for path in ["/models", "/models/admin/iris"] {
                let page = try await browser.send(.get, path)
                #expect(page.status == .ok)
                #expect(!page.text.contains("<script>alert"), "\(path)")
                #expect(page.text.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"), "\(path)")
            }
        }
    }

    @Test("activating from the console needs a confirmation, the CSRF token and the role; refusals change nothing")
    func activation() async throws {
        try await withServer { api in
            try await api.createOrganization("acme", as: api.admin)
            try await api.createModel("acme/iris")
            let first = try await api.deployVerified("acme/iris", "production")
            try await api.activate("acme/iris", "production", first)
            let second = try await api.deployVerified("acme/iris", "production")
            let viewer = try await api.createUser("vera")
            try await api.setMember("vera", role: "viewer", in: "acme")
            let path = "/models/acme/iris/environments/production"

            func active() async throws -> Int? {
                try await api.registry.environment(
                    owner: "acme",
                    name: "iris",
                    environment: "production",
                    by: api.registry.authenticate(secret: api.server.adminToken)
                ).activeVersion
            }

            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let list = try await browser.send(.get, path)
            #expect(list.text.contains("\(path)/activate?version=\(second)"))
            let confirm = try await browser.send(.get, "\(path)/activate?version=\(second)")
            #expect(confirm.status == .ok)
            #expect(confirm.text.contains("Activate version \(second)?"))
            let csrf = try #require(ConsoleBrowser.csrf(in: confirm.text))

            let missing = try await browser.send(.post, "\(path)/activate", form: [("version", "\(second)")])
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("nothing was changed"))
            let wrong = try await browser.send(
                .post,
                "\(path)/activate",
                form: [("csrf", String(csrf.reversed())), ("version", "\(second)")]
            )
            #expect(wrong.status == .forbidden)
            #expect(try await active() == first)

            let (visitor, _) = try await ConsoleBrowser.signIn(api, token: viewer.secret)
            let visitorCSRF = try await visitor.csrf()
            let forbidden = try await visitor.send(
                .post,
                "\(path)/activate",
                form: [("csrf", visitorCSRF), ("version", "\(second)")]
            )
            #expect(forbidden.status == .forbidden, "\(forbidden)")
            #expect(forbidden.text.contains("Not allowed"))
            #expect(forbidden.text.contains("Nothing was changed."))
            #expect(try await active() == first)
            let viewerList = try await visitor.send(.get, path)
            #expect(!viewerList.text.contains("/activate?version="), "a viewer sees no release buttons")

            let done = try await browser.send(
                .post,
                "\(path)/activate",
                form: [("csrf", csrf), ("version", "\(second)")]
            )
            #expect(done.status == .seeOther, "\(done)")
            #expect(try await active() == second)
            let after = try await browser.send(.get, path)
            #expect(after.text.contains("Version \(second) is now active in production."))

            let back = try await browser.send(
                .post,
                "\(path)/rollback",
                form: [("csrf", csrf), ("version", "\(first)")]
            )
            #expect(back.status == .seeOther)
            #expect(try await active() == first)
        }
    }

    @Test("keys: created with the secret shown once, revoked with the CSRF token; a viewer may not")
    func keys() async throws {
        try await withServer { api in
            try await api.createOrganization("acme", as: api.admin)
            try await api.createModel("acme/iris")
            let viewer = try await api.createUser("vera")
            try await api.setMember("vera", role: "viewer", in: "acme")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let csrf = try await browser.csrf(from: "/models/acme/iris/keys")
            let created = try await browser.send(
                .post,
                "/models/acme/iris/keys",
                form: [("csrf", csrf), ("kind", "serving"), ("name", "web"), ("environments", "production")]
            )
            #expect(created.status == .created, "\(created)")
            #expect(created.text.contains("slw_s_"))
            let list = try await browser.send(.get, "/models/acme/iris/keys")
            #expect(list.text.contains("web"))
            #expect(!list.text.contains("slw_s_"), "the secret is shown once")

            let bad = try await browser.send(
                .post,
                "/models/acme/iris/keys",
                form: [("csrf", csrf), ("kind", "serving"), ("name", "other"), ("environments", "nowhere")]
            )
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("nowhere&#39; does not exist"))

            let (visitor, _) = try await ConsoleBrowser.signIn(api, token: viewer.secret)
            let visitorCSRF = try await visitor.csrf()
            let forbidden = try await visitor.send(
                .post,
                "/models/acme/iris/keys",
                form: [("csrf", visitorCSRF), ("kind", "serving"), ("name", "mine"), ("environments", "production")]
            )
            #expect(forbidden.status == .forbidden)
            let keys = try await api.registry.listKeys(
                owner: "acme",
                name: "iris",
                by: api.registry.authenticate(secret: api.server.adminToken)
            )
            #expect(keys.map(\.name) == ["web"])

            let revoke = try await browser.send(
                .post,
                "/models/acme/iris/keys/\(keys[0].id)/revoke",
                form: [("csrf", csrf)]
            )
            #expect(revoke.status == .seeOther)
            let revoked = try await api.registry.listKeys(
                owner: "acme",
                name: "iris",
                by: api.registry.authenticate(secret: api.server.adminToken)
            )
            #expect(revoked[0].revokedAt != nil)
        }
    }

    @Test("the playground and the API docs predict through the prediction API with the session's rights")
    func playgroundAndDocs() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let samples = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            let version = try await api.deploy(
                "admin/iris",
                "production",
                fields: ["summary": "iris forest", "samples": samples]
            )
            try await api.verify("admin/iris", "production", version)
            try await api.activate("admin/iris", "production", version)
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let page = try await browser.send(.get, "/models/admin/iris/playground")
            #expect(page.status == .ok)
            #expect(page.text.contains("5.1"))
            let csrf = try #require(ConsoleBrowser.csrf(in: page.text))
            let form = [
                ("csrf", csrf), ("environment", "production"), ("version", "\(version)"), ("body", samples),
            ]
            let json = try await browser.send(
                .post,
                "/models/admin/iris/playground",
                form: form,
                accept: "application/json"
            )
            #expect(json.status == .ok, "\(json)")
            #expect(json.json["version"]?.int == version)
            #expect(json.json["predictions"]?.array?.isEmpty == false)
            let html = try await browser.send(.post, "/models/admin/iris/playground", form: form)
            #expect(html.status == .ok)
            #expect(html.text.contains("ms on the server"))
            let invalid = try await browser.send(
                .post,
                "/models/admin/iris/playground",
                form: [("csrf", csrf), ("environment", "production"), ("body", #"{"ndarray": 3}"#)],
                accept: "application/json"
            )
            #expect(invalid.status == .badRequest)
            #expect(invalid.json["error"]?["field"]?.string == "ndarray")
            let noCSRF = try await browser.send(
                .post,
                "/models/admin/iris/playground",
                form: [("environment", "production"), ("body", samples)]
            )
            #expect(noCSRF.status == .forbidden)

            let docs = try await browser.send(.get, "/models/admin/iris/docs")
            #expect(docs.status == .ok)
            for language in [
                "curl", "Python (Slipway SDK)", "Python (requests)", "JavaScript (fetch)",
                "Swift (URLSession)", "Go", "Ruby", "Java",
            ] {
                #expect(docs.text.contains("<h3>\(language)</h3>"), "\(language)")
            }
            #expect(docs.text.contains("&quot;predictions&quot;"), "a real prediction's answer")
            let openAPI = try await browser.send(.get, "/models/admin/iris/openapi.json?environment=production")
            #expect(openAPI.status == .ok)
            #expect(openAPI.json["openapi"]?.string == "3.1.0")
            #expect(openAPI.json["paths"]?["/v1/admin/iris/predict/"] != nil)
        }
    }

    @Test("signing out, a revoked token and an expired session all end the session")
    func sessionsEnd() async throws {
        try await withServer { api in
            let user = try await api.createUser("olga")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: user.secret)
            let csrf = try await browser.csrf()
            let out = try await browser.send(.post, "/signout", form: [("csrf", csrf)])
            #expect(out.status == .seeOther)
            #expect(ConsoleBrowser.cookie("slipway_session", in: out)?.header.contains("Max-Age=0") == true)
            #expect(try await browser.send(.get, "/models").status == .seeOther)

            let (again, _) = try await ConsoleBrowser.signIn(api, token: user.secret)
            #expect(try await again.send(.get, "/models").status == .ok)
            let tokens = try await api.get("/api/v1/users/me/tokens", as: user)
            let id = try #require(tokens.json.array?.first?["id"]?.string, "\(tokens)")
            let revoke = try await api.delete("/api/v1/users/me/tokens/\(id)", as: user)
            try #require(revoke.status == .noContent, "\(revoke)")
            let after = try await again.send(.get, "/models")
            #expect(after.status == .seeOther)
            #expect(after.headers[.location]?.contains("expired=1") == true)
            let action = try await again.send(
                .post,
                "/models",
                form: [("csrf", "x"), ("owner", "olga"), ("name", "m")]
            )
            #expect(action.status == .unauthorized)
            #expect(action.text.contains("nothing was changed"))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-sessions-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try await SQLRegistryRepository.makeSQLite(
            path: folder.appendingPathComponent("slipway.sqlite").path,
            logger: SQLRegistryRepository.quietLogger
        )
        do {
            try await repository.migrate()
            let sessions = ConsoleSessions(store: repository, lifetime: 60)
            let now = Date()
            let (id, started) = try await sessions.start(tokenID: "t", now: now)
            let read = try await sessions.session(id: id, now: now.addingTimeInterval(30))
            #expect(read?.tokenID == "t")
            #expect(read?.csrfToken == started.csrfToken)
            #expect(
                try await repository.consoleSession(idHash: id) == nil,
                "stored under the id's hash, never the id"
            )
            try await sessions.setFlash(id: id, "Done.")
            #expect(try await sessions.session(id: id, now: now)?.flash == "Done.")
            #expect(try await sessions.session(id: id, now: now)?.flash == nil, "a message is shown once")
            #expect(try await sessions.session(id: id, now: now.addingTimeInterval(61)) == nil)
            #expect(try await sessions.session(id: id, now: now) == nil, "an expired session is removed")
            // Starting a session deletes the ones that expired.
            let (old, _) = try await sessions.start(tokenID: "old", now: now)
            _ = try await sessions.start(tokenID: "new", now: now.addingTimeInterval(120))
            #expect(try await repository.consoleSession(idHash: ConsoleSessions.hash(old)) == nil)
            let (ended, _) = try await sessions.start(tokenID: "t", now: now)
            try await sessions.end(id: ended)
            #expect(try await sessions.session(id: ended, now: now) == nil)
        } catch {
            try await repository.shutdown()
            throw error
        }
        try await repository.shutdown()
        #expect(ConsoleSessions.constantTimeEquals("abc", "abc"))
        #expect(!ConsoleSessions.constantTimeEquals("abc", "abd"))
        #expect(!ConsoleSessions.constantTimeEquals("abc", "abcd"))
    }

    @Test("next= after sign-in stays on this server")
    func localRedirects() {
        #expect(ConsoleHTTP.localPath("/models/a/b") == "/models/a/b")
        #expect(ConsoleHTTP.localPath("//evil.example") == "/models")
        #expect(ConsoleHTTP.localPath("https://evil.example") == "/models")
        #expect(ConsoleHTTP.localPath("/\\evil.example") == "/models")
        #expect(Console.isWebLink("https://example.com"))
        #expect(!Console.isWebLink("javascript:alert(1)"))
    }
}
