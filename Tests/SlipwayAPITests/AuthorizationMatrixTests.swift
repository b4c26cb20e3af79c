import Foundation
import HTTPTypes
import HummingbirdTesting
import SlipwayAPI
import SlipwayRegistry
import Testing

// The authorisation matrix of docs/api.md: every kind of credential × every route × own and other model and
// environment, public and private → the designed answer. One test case per route; inside it every cell asserts.

/// A kind of credential.
enum Who: String, CaseIterable, Sendable {
    case anonymous
    case admin
    /// Owner of the `acme` organisation.
    case owner
    /// Maintainer in `acme`.
    case maintainer
    /// Viewer in `acme`.
    case viewer
    /// A signed-in user with no role in `acme`.
    case stranger
    /// A deploy key of `acme/secret` scoped to `production` and `canary`.
    case deployKey
    /// A deploy key of `acme/other`.
    case otherModelKey
    /// A serving key of `acme/secret`.
    case servingKey
    /// A revoked deploy key of `acme/secret`.
    case revokedKey
    /// An expired deploy key of `acme/secret`.
    case expiredKey
    /// Not a Slipway credential at all.
    case malformed

    var isUser: Bool { [.admin, .owner, .maintainer, .viewer, .stranger].contains(self) }
    var isDeployKey: Bool { self == .deployKey || self == .otherModelKey }
    var username: String? {
        switch self {
        case .admin: "admin"
        case .owner: "olivia"
        case .maintainer: "mark"
        case .viewer: "vera"
        case .stranger: "ursula"
        default: nil
        }
    }
}

/// Where a model-scoped request goes.
enum Target: String, CaseIterable, Sendable {
    /// The private model, in the deploy key's environment.
    case privateInScope = "acme/secret production"
    /// The private model, outside the deploy key's environments.
    case privateOutOfScope = "acme/secret staging"
    /// A public model the deploy key does not belong to.
    case publicModel = "acme/open production"

    var model: String { String(self.rawValue.split(separator: " ")[0]) }
    var environment: String { String(self.rawValue.split(separator: " ")[1]) }
    var isPublic: Bool { self == .publicModel }
}

/// What a caller may do on a model, from docs/api.md.
enum Access: Equatable {
    /// A private model the caller may not read: it answers 404.
    case hidden
    /// An anonymous caller on a public model: read only; changes answer 401.
    case anonymousReader
    /// A role on the model's owner (signed-in callers on public models are viewers).
    case role(Role)
    /// The model's own deploy key: read, plus deploying within these environments.
    case deployKey(Set<String>)

    static func of(_ who: Who, on target: Target) -> Access {
        switch who {
        case .admin, .owner: return .role(.owner)
        case .maintainer: return .role(.maintainer)
        case .viewer: return .role(.viewer)
        case .deployKey where target.model == "acme/secret": return .deployKey(["production", "canary"])
        case .anonymous: return target.isPublic ? .anonymousReader : .hidden
        default: return target.isPublic ? .role(.viewer) : .hidden
        }
    }
}

/// Who may call a route, in the words of docs/api.md's table.
enum Policy: Sendable {
    /// Health, readiness and the API document: everyone, whatever the credential.
    case system
    /// Any user token (not keys).
    case user
    /// Administrators only (on a model route, after the model is found readable).
    case administrator
    /// Members of the organisation (others get 404).
    case organizationMember
    /// Owners of the organisation.
    case organizationOwner
    /// Anyone with a valid non-serving credential, anonymous included (results are filtered).
    case anyone
    /// Maintainers of the namespace the model is created in.
    case createModel
    /// Read the model: viewers, its deploy keys, anyone when public.
    case read
    /// Download an artifact: signed-in readers and deploy keys of that environment.
    case download
    /// At least this role on the model.
    case role(Role)
    /// Maintainers, or a deploy key scoped to the target environment (and, for promotions, the destination).
    case deploy(alsoNeeds: [String] = [])

    /// The designed answer for `who` on `target`.
    func expected(_ who: Who, _ target: Target?, success: HTTPResponse.Status) -> HTTPResponse.Status {
        if case .system = self { return success }
        if [.revokedKey, .expiredKey, .malformed].contains(who) { return .unauthorized }
        if who == .servingKey { return .forbidden }
        switch self {
        case .system:
            return success
        case .user:
            return who == .anonymous ? .unauthorized : who.isUser ? success : .forbidden
        case .administrator:
            // On a model route, a private model the caller may not read still answers 404 first.
            if let target, Access.of(who, on: target) == .hidden { return .notFound }
            return who == .anonymous ? .unauthorized : who == .admin ? success : .forbidden
        case .organizationMember, .organizationOwner:
            if who == .anonymous { return .unauthorized }
            if who.isDeployKey { return .forbidden }
            if who == .stranger { return .notFound }
            if case .organizationOwner = self, who == .maintainer || who == .viewer { return .forbidden }
            return success
        case .anyone:
            return success
        case .createModel:
            if who == .anonymous { return .unauthorized }
            return [.admin, .owner, .maintainer].contains(who) ? success : .forbidden
        case .read, .download, .role, .deploy:
            let target = target!
            let access = Access.of(who, on: target)
            switch (self, access) {
            case (_, .hidden): return .notFound
            case (.read, _): return success
            case (_, .anonymousReader): return .unauthorized
            case (.download, .role): return success
            case (.download, .deployKey(let scope)): return scope.contains(target.environment) ? success : .forbidden
            case (.role(let needed), .role(let actual)): return actual >= needed ? success : .forbidden
            case (.deploy, .role(let actual)): return actual >= .maintainer ? success : .forbidden
            case (.deploy(let also), .deployKey(let scope)):
                return scope.isSuperset(of: [target.environment] + also) ? success : .forbidden
            default: return .forbidden
            }
        }
    }
}

/// The shared state a matrix route runs against.
struct World: Sendable {
    let api: TestAPI
    let credentials: [Who: Credential]

    /// Builds users, the `acme` organisation, two private and one public model with verified v1 deployments in
    /// production, staging and canary, and the keys.
    static func build(_ api: TestAPI) async throws -> World {
        var credentials: [Who: Credential] = [.anonymous: .anonymous, .admin: api.admin]
        for who in [Who.owner, .maintainer, .viewer, .stranger] {
            credentials[who] = try await api.createUser(who.username!)
        }
        try await api.createUser("bob")
        try await api.createOrganization("acme", as: credentials[.owner]!)
        try await api.setMember("mark", role: "maintainer", in: "acme")
        try await api.setMember("vera", role: "viewer", in: "acme")
        try await api.createModel("acme/secret")
        try await api.createModel("acme/open", isPublic: true)
        try await api.createModel("acme/other")
        for model in ["acme/secret", "acme/open"] {
            try await api.createEnvironment("canary", in: model)
            for environment in ["production", "staging", "canary"] {
                try await api.deployVerified(model, environment)
            }
        }
        credentials[.deployKey] = .bearer(
            try await api.createKey("deploy", in: "acme/secret", environments: ["production", "canary"]).secret
        )
        credentials[.otherModelKey] = .bearer(
            try await api.createKey("deploy", in: "acme/other", environments: ["production"]).secret
        )
        credentials[.servingKey] = .servingKey(
            try await api.createKey("serving", in: "acme/secret", environments: ["production"]).secret
        )
        let revoked = try await api.createKey("deploy", in: "acme/secret", environments: ["production"])
        let revocation = try await api.delete("/api/v1/models/acme/secret/keys/\(revoked.id)", as: api.admin)
        try #require(revocation.status == .noContent)
        credentials[.revokedKey] = .bearer(revoked.secret)
        credentials[.expiredKey] = .bearer(try await Self.insertExpiredKey(api))
        credentials[.malformed] = .bearer("not-a-slipway-token")
        return World(api: api, credentials: credentials)
    }

    /// A key cannot be created already expired through the API, so this one goes straight into the repository.
    static func insertExpiredKey(_ api: TestAPI) async throws -> String {
        let repository = api.registry.repository
        let model = try #require(try await repository.model(owner: "acme", name: "secret"))
        let secret = Secret.generate(.deployKey)
        let now = Date()
        try await repository.createKey(
            AccessKey(
                id: secret.id,
                modelID: model.id,
                kind: .deploy,
                name: "expired",
                environments: ["production", "canary"],
                secretHash: secret.hash,
                expiresAt: now.addingTimeInterval(-60),
                createdBy: .system,
                createdAt: now.addingTimeInterval(-120)
            ),
            event: ActivityEvent(modelID: model.id, at: now, actor: .system, action: .keyCreated, detail: "expired key")
        )
        return secret.value
    }
}

/// One cell's request.
struct MatrixRequest: Sendable {
    var path: String
    var json: String?
    var upload: Multipart?
}

/// What a route's request builder gets.
struct MatrixCell: Sendable {
    let world: World
    let who: Who
    let target: Target?
    let expectsSuccess: Bool
    /// Unique per cell, for names.
    let serial: Int

    var api: TestAPI { self.world.api }
    var credential: Credential { self.world.credentials[self.who]! }
    var model: String { self.target?.model ?? "acme/secret" }
    var environment: String { self.target?.environment ?? "production" }
    var modelPath: String { "/api/v1/models/\(self.model)" }
    var environmentPath: String { "\(self.modelPath)/environments/\(self.environment)" }

    /// The id (uuid) of version 1 in the target environment, read as the administrator.
    func firstDeploymentID() async throws -> String {
        let reply = try await self.api.get("\(self.environmentPath)/deployments/1", as: self.api.admin)
        return try #require(reply.json["uuid"]?.string, "\(reply)")
    }
}

/// One route of the matrix.
struct MatrixRoute: Sendable, CustomTestStringConvertible {
    /// `METHOD /openapi/path`, as in ``OpenAPIDocument/routes``.
    let route: String
    let policy: Policy
    let success: HTTPResponse.Status
    /// Whether the route is about one model (and so runs against every ``Target``).
    let isModelScoped: Bool
    let request: @Sendable (MatrixCell) async throws -> MatrixRequest

    var testDescription: String { self.route }
    var method: HTTPRequest.Method { HTTPRequest.Method(String(self.route.split(separator: " ")[0]))! }

    init(
        _ route: String,
        _ policy: Policy,
        _ success: HTTPResponse.Status = .ok,
        request: @escaping @Sendable (MatrixCell) async throws -> MatrixRequest
    ) {
        self.route = route
        self.policy = policy
        self.success = success
        self.isModelScoped = route.contains("{owner}")
        self.request = request
    }

    static func path(_ path: String, json: String? = nil) -> @Sendable (MatrixCell) async throws -> MatrixRequest {
        { _ in MatrixRequest(path: path, json: json) }
    }

    /// The routes of this file; ``all`` adds the traffic routes (AuthorizationMatrix+Traffic.swift).
    static let coreRoutes: [MatrixRoute] = [
        MatrixRoute("GET /healthz", .system, request: path("/healthz")),
        MatrixRoute("GET /readyz", .system, request: path("/readyz")),
        MatrixRoute("GET /api/v1/openapi.json", .system, request: path("/api/v1/openapi.json")),
        MatrixRoute("GET /api/docs", .system, request: path("/api/docs")),
        // Without a scrape token /metrics is open; MetricsRouteTests covers the token.
        MatrixRoute("GET /metrics", .system, request: path("/metrics")),

        MatrixRoute("GET /api/v1/users/me", .user, request: path("/api/v1/users/me")),
        MatrixRoute("GET /api/v1/users", .administrator, request: path("/api/v1/users")),
        MatrixRoute("POST /api/v1/users", .administrator, .created) { cell in
            MatrixRequest(path: "/api/v1/users", json: #"{"username": "new\#(cell.serial)"}"#)
        },
        MatrixRoute("GET /api/v1/users/me/tokens", .user, request: path("/api/v1/users/me/tokens")),
        MatrixRoute(
            "POST /api/v1/users/me/tokens",
            .user,
            .created,
            request: path("/api/v1/users/me/tokens", json: #"{"name": "t"}"#)
        ),
        MatrixRoute("DELETE /api/v1/users/me/tokens/{id}", .user, .noContent) { cell in
            // The caller's own fresh token (never the one it is calling with); for keys, the administrator's.
            let owner = cell.who.isUser ? cell.credential : cell.api.admin
            let reply = try await cell.api.post("/api/v1/users/me/tokens", as: owner, json: #"{"name": "doomed"}"#)
            return MatrixRequest(path: "/api/v1/users/me/tokens/\(try #require(reply.json["id"]?.string))")
        },
        MatrixRoute("GET /api/v1/orgs", .user, request: path("/api/v1/orgs")),
        MatrixRoute("POST /api/v1/orgs", .user, .created) { cell in
            MatrixRequest(path: "/api/v1/orgs", json: #"{"name": "org\#(cell.serial)"}"#)
        },
        MatrixRoute("GET /api/v1/orgs/{org}", .organizationMember, request: path("/api/v1/orgs/acme")),
        MatrixRoute("GET /api/v1/orgs/{org}/members", .organizationMember, request: path("/api/v1/orgs/acme/members")),
        MatrixRoute(
            "PUT /api/v1/orgs/{org}/members/{username}",
            .organizationOwner,
            request: path("/api/v1/orgs/acme/members/bob", json: #"{"role": "viewer"}"#)
        ),
        MatrixRoute("DELETE /api/v1/orgs/{org}/members/{username}", .organizationOwner, .noContent) { cell in
            try await cell.api.setMember("bob", role: "viewer", in: "acme")
            return MatrixRequest(path: "/api/v1/orgs/acme/members/bob")
        },

        MatrixRoute("GET /api/v1/models", .anyone, request: path("/api/v1/models")),
        MatrixRoute("POST /api/v1/models", .createModel, .created) { cell in
            MatrixRequest(path: "/api/v1/models", json: #"{"owner": "acme", "name": "m\#(cell.serial)"}"#)
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}", .read) { MatrixRequest(path: $0.modelPath) },
        MatrixRoute("PATCH /api/v1/models/{owner}/{name}", .role(.maintainer)) { cell in
            MatrixRequest(path: cell.modelPath, json: #"{"description": "edited"}"#)
        },
        MatrixRoute("DELETE /api/v1/models/{owner}/{name}", .role(.owner), .noContent) { cell in
            // A call that is meant to succeed deletes a fresh model of the same visibility in the same namespace.
            guard cell.expectsSuccess else { return MatrixRequest(path: cell.modelPath) }
            let name = "acme/doomed\(cell.serial)"
            try await cell.api.createModel(name, isPublic: cell.target!.isPublic)
            return MatrixRequest(path: "/api/v1/models/\(name)")
        },

        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments", .read) {
            MatrixRequest(path: "\($0.modelPath)/environments")
        },
        MatrixRoute("POST /api/v1/models/{owner}/{name}/environments", .role(.maintainer), .created) { cell in
            MatrixRequest(path: "\(cell.modelPath)/environments", json: #"{"name": "env\#(cell.serial)"}"#)
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}", .read) {
            MatrixRequest(path: $0.environmentPath)
        },
        MatrixRoute("DELETE /api/v1/models/{owner}/{name}/environments/{env}", .role(.maintainer), .noContent) { cell in
            let name = "doomed\(cell.serial)"
            try await cell.api.createEnvironment(name, in: cell.model)
            return MatrixRequest(path: "\(cell.modelPath)/environments/\(name)")
        },

        MatrixRoute("GET /api/v1/models/{owner}/{name}/deployments", .read) {
            MatrixRequest(path: "\($0.modelPath)/deployments")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/deployments", .read) { cell in
            MatrixRequest(path: "\(cell.environmentPath)/deployments")
        },
        MatrixRoute("POST /api/v1/models/{owner}/{name}/environments/{env}/deployments", .deploy(), .created) { cell in
            MatrixRequest(path: "\(cell.environmentPath)/deployments", upload: .deploy())
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/deployments/{version}", .read) { cell in
            MatrixRequest(path: "\(cell.environmentPath)/deployments/1")
        },
        MatrixRoute("PATCH /api/v1/models/{owner}/{name}/environments/{env}/deployments/{version}", .deploy()) { cell in
            MatrixRequest(path: "\(cell.environmentPath)/deployments/1", json: #"{"description": "edited"}"#)
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/deployments/{version}/artifact", .download) {
            MatrixRequest(path: "\($0.environmentPath)/deployments/1/artifact")
        },
        MatrixRoute(
            "POST /api/v1/models/{owner}/{name}/environments/{env}/deployments/{version}/status",
            .administrator
        ) {
            cell in
            let version = try await cell.api.deploy(cell.model, cell.environment)
            return MatrixRequest(
                path: "\(cell.environmentPath)/deployments/\(version)/status",
                json: #"{"state": "verified"}"#
            )
        },
        MatrixRoute(
            "POST /api/v1/models/{owner}/{name}/environments/{env}/deployments/{version}/promote",
            .deploy(alsoNeeds: ["canary"]),
            .created
        ) { cell in
            MatrixRequest(path: "\(cell.environmentPath)/deployments/1/promote", json: #"{"to_environment": "canary"}"#)
        },
        MatrixRoute("POST /api/v1/models/{owner}/{name}/environments/{env}/activate", .deploy()) { cell in
            MatrixRequest(path: "\(cell.environmentPath)/activate", json: #"{"version": 1}"#)
        },
        MatrixRoute("POST /api/v1/models/{owner}/{name}/environments/{env}/rollback", .deploy()) { cell in
            MatrixRequest(path: "\(cell.environmentPath)/rollback", json: #"{"version": 1}"#)
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/live", .read) {
            MatrixRequest(path: "\($0.environmentPath)/live")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/activity", .read) {
            MatrixRequest(path: "\($0.modelPath)/activity")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/deployments/{version}/stats", .read) {
            MatrixRequest(path: "\($0.environmentPath)/deployments/1/stats")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/stats", .read) {
            MatrixRequest(path: "\($0.environmentPath)/stats")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/monitoring", .read) {
            MatrixRequest(path: "\($0.modelPath)/monitoring")
        },
        MatrixRoute("PUT /api/v1/models/{owner}/{name}/monitoring", .role(.owner)) { cell in
            MatrixRequest(path: "\(cell.modelPath)/monitoring", json: #"{"drift_threshold": 0.3}"#)
        },

        MatrixRoute("GET /v1/users/me", .user, request: path("/v1/users/me/")),
        MatrixRoute("GET /v1/users/me/teachables", .user, request: path("/v1/users/me/teachables/")),
        MatrixRoute("GET /v1/teachables", .anyone, request: path("/v1/teachables/")),
        MatrixRoute("GET /v1/teachables/{owner}/{name}", .read) { MatrixRequest(path: "/v1/teachables/\($0.model)/") },
        MatrixRoute("GET /v1/teachables/{owner}/{name}/environments", .read) {
            MatrixRequest(path: "/v1/teachables/\($0.model)/environments/")
        },
        MatrixRoute("GET /v1/teachables/{owner}/{name}/deployments", .read) {
            MatrixRequest(path: "/v1/teachables/\($0.model)/deployments/")
        },
        MatrixRoute("POST /v1/teachables/{owner}/{name}/deployments", .deploy(), .created) { cell in
            let id = try await cell.api.environmentID(cell.model, cell.environment)
            return MatrixRequest(
                path: "/v1/teachables/\(cell.model)/deployments/",
                upload: teachableHubUpload(
                    zip: try makeZip([("model.onnx", fixtureModel)]),
                    fields: ["framework": "onnx", "environment": id, "summary": "via the SDK"]
                )
            )
        },
        MatrixRoute("GET /v1/teachables/{owner}/{name}/deployments/{id}", .read) { cell in
            MatrixRequest(path: "/v1/teachables/\(cell.model)/deployments/\(try await cell.firstDeploymentID())/")
        },
        MatrixRoute("POST /v1/teachables/{owner}/{name}/deployments/{id}/activate", .deploy()) { cell in
            MatrixRequest(
                path: "/v1/teachables/\(cell.model)/deployments/\(try await cell.firstDeploymentID())/activate/"
            )
        },
        MatrixRoute("POST /v1/teachables/{owner}/{name}/deployments/{id}/rollback", .deploy()) { cell in
            MatrixRequest(
                path: "/v1/teachables/\(cell.model)/deployments/\(try await cell.firstDeploymentID())/rollback/"
            )
        },
        MatrixRoute("POST /v1/teachables/{owner}/{name}/deployments/rollback-version", .deploy()) { cell in
            let id = try await cell.api.environmentID(cell.model, cell.environment)
            return MatrixRequest(
                path: "/v1/teachables/\(cell.model)/deployments/rollback-version/",
                json: #"{"environment": "\#(id)", "version": 1}"#
            )
        },

        MatrixRoute("GET /api/v1/models/{owner}/{name}/keys", .role(.maintainer)) {
            MatrixRequest(path: "\($0.modelPath)/keys")
        },
        MatrixRoute("POST /api/v1/models/{owner}/{name}/keys", .role(.maintainer), .created) { cell in
            MatrixRequest(
                path: "\(cell.modelPath)/keys",
                json: #"{"kind": "serving", "name": "k\#(cell.serial)", "environments": ["production"]}"#
            )
        },
        MatrixRoute("DELETE /api/v1/models/{owner}/{name}/keys/{id}", .role(.maintainer), .noContent) { cell in
            let key = try await cell.api.createKey("serving", in: cell.model, environments: ["production"])
            return MatrixRequest(path: "\(cell.modelPath)/keys/\(key.id)")
        },

        // Monitoring: reading needs read access, changing needs owner rights (docs/monitoring.md).
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/prediction-log", .read) {
            MatrixRequest(path: "\($0.environmentPath)/prediction-log")
        },
        MatrixRoute("PUT /api/v1/models/{owner}/{name}/environments/{env}/prediction-log", .role(.owner)) {
            MatrixRequest(path: "\($0.environmentPath)/prediction-log", json: #"{"enabled": true, "sample_rate": 0.5}"#)
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/predictions", .read) {
            MatrixRequest(path: "\($0.environmentPath)/predictions")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/predictions/export", .read) {
            MatrixRequest(path: "\($0.environmentPath)/predictions/export?format=csv")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/environments/{env}/metrics", .read) {
            MatrixRequest(path: "\($0.environmentPath)/metrics")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/key-metric", .read) { cell in
            _ = try await cell.api.put(
                "\(cell.modelPath)/key-metric",
                as: cell.api.admin,
                json: #"{"name": "accuracy"}"#
            )
            return MatrixRequest(path: "\(cell.modelPath)/key-metric")
        },
        MatrixRoute("PUT /api/v1/models/{owner}/{name}/key-metric", .role(.owner)) {
            MatrixRequest(path: "\($0.modelPath)/key-metric", json: #"{"name": "macro_f1"}"#)
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/alerts", .read) {
            MatrixRequest(path: "\($0.modelPath)/alerts")
        },
        MatrixRoute("POST /api/v1/models/{owner}/{name}/alerts", .role(.owner), .created) { cell in
            MatrixRequest(
                path: "\(cell.modelPath)/alerts",
                json: #"{"name": "a\#(cell.serial)", "rule": "p99_ms > 20"}"#
            )
        },
        MatrixRoute("DELETE /api/v1/models/{owner}/{name}/alerts/{alert}", .role(.owner), .noContent) { cell in
            let created = try await cell.api.post(
                "\(cell.modelPath)/alerts",
                as: cell.api.admin,
                json: #"{"name": "d\#(cell.serial)", "rule": "p99_ms > 20"}"#
            )
            try #require(created.status == .created, "\(created)")
            return MatrixRequest(path: "\(cell.modelPath)/alerts/d\(cell.serial)")
        },
        MatrixRoute("GET /api/v1/models/{owner}/{name}/webhooks", .role(.owner)) {
            MatrixRequest(path: "\($0.modelPath)/webhooks")
        },
        MatrixRoute("POST /api/v1/models/{owner}/{name}/webhooks", .role(.owner), .created) {
            MatrixRequest(path: "\($0.modelPath)/webhooks", json: #"{"url": "http://127.0.0.1:9/hook"}"#)
        },
        MatrixRoute("DELETE /api/v1/models/{owner}/{name}/webhooks/{webhook}", .role(.owner), .noContent) { cell in
            let created = try await cell.api.post(
                "\(cell.modelPath)/webhooks",
                as: cell.api.admin,
                json: #"{"url": "http://127.0.0.1:9/hook"}"#
            )
            let id = try #require(created.json["id"]?.string, "\(created)")
            let path = "\(cell.modelPath)/webhooks/\(id)"
            // Clean up after cells that may not delete, so the model stays under its ten webhooks.
            if !cell.expectsSuccess { _ = try? await cell.api.delete(path, as: cell.api.admin) }
            return MatrixRequest(path: cell.expectsSuccess ? path : "\(cell.modelPath)/webhooks/\(UUID().uuidString)")
        },
    ]
}

@Suite struct AuthorizationMatrixTests {
    /// Every management route (the prediction route and the batch job routes, which share its credential rules,
    /// are tested with them: PredictionRouteTests, BatchJobRouteTests).
    static let managementRoutes = OpenAPIDocument.routes.filter {
        !$0.hasPrefix("POST /v1/{owner}") && !$0.contains("/batch-jobs")
    }

    @Test func coversEveryDocumentedRoute() {
        #expect(Set(MatrixRoute.all.map(\.route)) == Set(Self.managementRoutes))
        #expect(MatrixRoute.all.count == Self.managementRoutes.count)
    }

    @Test(arguments: MatrixRoute.all)
    func answersEachCredentialAsDesigned(route: MatrixRoute) async throws {
        try await withServer { api in
            let world = try await World.build(api)
            var serial = 0
            for target in route.isModelScoped ? Target.allCases.map(Optional.some) : [nil] {
                for who in Who.allCases {
                    serial += 1
                    let expected = route.policy.expected(who, target, success: route.success)
                    let cell = MatrixCell(
                        world: world,
                        who: who,
                        target: target,
                        expectsSuccess: expected == route.success,
                        serial: serial
                    )
                    let request = try await route.request(cell)
                    let reply: Reply
                    if let upload = request.upload {
                        reply = try await api.upload(request.path, as: cell.credential, upload)
                    } else {
                        reply = try await api.request(
                            route.method,
                            request.path,
                            as: cell.credential,
                            json: request.json
                        )
                    }
                    let where_ = "\(route.route) as \(who.rawValue) on \(target?.rawValue ?? "-")"
                    #expect(reply.status == expected, "\(where_): \(reply)")
                    if reply.status.code >= 400 {
                        let codes: [Int: String] = [401: "unauthenticated", 403: "forbidden", 404: "not_found"]
                        #expect(reply.json["code"]?.string == codes[Int(reply.status.code)], "\(where_): \(reply)")
                    }
                }
            }
        }
    }
}
