import Foundation
import Hummingbird
import NIOCore
import SlipwayRegistry
import SlipwayRuntime

/// Deployments: upload, list, read, edit, verification results, activation, rollback, promotion, history.
struct DeploymentsController {
    let registry: Registry
    let lifecycle: (any DeploymentLifecycle)?

    func register(on api: RouterGroup<SlipwayRequestContext>) {
        api.get("models/:owner/:name/deployments") { request, context in
            try await self.list(request, context, environment: request.uri.queryParameters.get("environment"))
        }
        api.get("models/:owner/:name/environments/:env/deployments") { request, context in
            try await self.list(request, context, environment: try context.parameters.require("env"))
        }
        api.post("models/:owner/:name/environments/:env/deployments") { request, context in
            let principal = try await self.registry.principal(for: request)
            let target = try await self.registry.authorizeDeploy(
                owner: try context.owner,
                name: try context.name,
                environment: try context.parameters.require("env"),
                by: principal
            )
            let upload = try await DeploymentUpload.read(request, into: self.registry.artifacts)
            let deployment = try await self.registry.createDeployment(
                in: target,
                input: upload.input,
                artifact: upload.artifact,
                by: principal
            )
            self.lifecycle?.verifySoon(deployment)
            var headers = HTTPFields()
            headers[.location] =
                "/api/v1/models/\(target.model.fullName)/environments/\(target.environment.name)/deployments/\(deployment.version)"
            return try Wire.json(
                DeploymentDTO(deployment, model: target.model, activeID: target.environment.activeDeploymentID),
                status: .created,
                headers: headers
            )
        }
        api.get("models/:owner/:name/environments/:env/deployments/:version") { request, context in
            let principal = try await self.registry.principal(for: request)
            let (model, deployment, environment) = try await self.find(request, context, principal)
            return try Wire.json(DeploymentDTO(deployment, model: model, activeID: environment.activeDeploymentID))
        }
        api.patch("models/:owner/:name/environments/:env/deployments/:version") { request, context in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(UpdateDeployment.self, from: &request, allowed: ["description"])
            let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
            let environment = try context.parameters.require("env")
            let deployment = try await self.registry.updateDescription(
                owner: model.owner,
                name: model.name,
                environment: environment,
                version: try Self.version(context),
                description: body.description,
                by: principal
            )
            return try await self.render(deployment, of: model)
        }
        api.get("models/:owner/:name/environments/:env/deployments/:version/artifact") { request, context in
            let principal = try await self.registry.principal(for: request)
            let (model, deployment, _) = try await self.find(request, context, principal)
            let access = try await self.registry.access(to: model, for: principal)
            guard access.hasRole(.viewer) && principal != .anonymous || access.canDeploy(to: deployment.environmentName)
            else {
                if principal == .anonymous {
                    throw APIError(.unauthorized, code: "unauthenticated", detail: "sign in to download artifacts")
                }
                throw APIError(.forbidden, code: "forbidden", detail: "this credential may not download artifacts")
            }
            let data = try self.registry.artifact(of: deployment)
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            headers[.eTag] = "\"\(deployment.artifactDigest)\""
            headers[.contentDisposition] =
                "attachment; filename=\"\(model.name)-\(deployment.environmentName)-v\(deployment.version).\(deployment.format)\""
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        api.post("models/:owner/:name/environments/:env/deployments/:version/status") { request, context in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(SetStatus.self, from: &request, allowed: ["state", "reason"])
            let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
            let deployment = try await self.registry.setStatus(
                owner: model.owner,
                name: model.name,
                environment: try context.parameters.require("env"),
                version: try Self.version(context),
                status: body.state,
                reason: body.reason,
                by: principal
            )
            return try await self.render(deployment, of: model)
        }
        api.post("models/:owner/:name/environments/:env/deployments/:version/promote") { request, context in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(Promote.self, from: &request, allowed: ["to_environment", "summary"])
            let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
            let deployment = try await self.registry.promote(
                owner: model.owner,
                name: model.name,
                from: try context.parameters.require("env"),
                version: try Self.version(context),
                to: body.toEnvironment,
                summary: body.summary,
                by: principal
            )
            self.lifecycle?.verifySoon(deployment)
            return try await self.render(deployment, of: model, status: .created)
        }
        for (path, isRollback) in [("activate", false), ("rollback", true)] {
            api.post("models/:owner/:name/environments/:env/\(path)") { request, context in
                var request = request
                let principal = try await self.registry.principal(for: request)
                let (body, _) = try await Wire.decode(Activate.self, from: &request, allowed: ["version"])
                let model = try await self.registry.model(
                    owner: try context.owner,
                    name: try context.name,
                    by: principal
                )
                let activation = try await self.activate(
                    model: model,
                    environment: try context.parameters.require("env"),
                    version: body.version,
                    isRollback: isRollback,
                    by: principal
                )
                return try Wire.json(
                    ActivationDTO(
                        environment: activation.environment.name,
                        previousVersion: activation.previous?.version,
                        active: DeploymentDTO(activation.current, model: model, activeID: activation.current.id)
                    )
                )
            }
        }
        api.get("models/:owner/:name/environments/:env/live") { request, context in
            let principal = try await self.registry.principal(for: request)
            let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
            let environment = try context.parameters.require("env")
            let at = try Wire.time(request, "at") ?? Date()
            let (version, deployment) = try await self.registry.liveVersion(
                owner: model.owner,
                name: model.name,
                environment: environment,
                at: at,
                by: principal
            )
            let active = try await self.activeIDs(of: model)
            return try Wire.json(
                LiveDTO(
                    environment: environment,
                    at: at,
                    version: version,
                    deployment: deployment.map {
                        DeploymentDTO($0, model: model, activeID: active[$0.environmentID] ?? nil)
                    }
                )
            )
        }
    }

    /// Makes `version` the active one of `environment` (recorded as a rollback when `isRollback`), loading it
    /// before the switch so no request meets a half-loaded model.
    func activate(
        model: Model,
        environment: String,
        version: Int,
        isRollback: Bool,
        by principal: Principal
    ) async throws -> Activation {
        // A version that cannot be activated (unknown, unverified) is refused by the registry below.
        try await self.registry.warm(
            [version],
            owner: model.owner,
            name: model.name,
            environment: environment,
            into: self.lifecycle,
            by: principal
        )
        let activation = try await self.registry.activate(
            owner: model.owner,
            name: model.name,
            environment: environment,
            version: version,
            isRollback: isRollback,
            by: principal
        )
        try? await self.lifecycle?.didActivate(activation)
        return activation
    }

    /// A page of a model's deployments (one environment's when `environment` is given).
    func list(_ request: Request, _ context: SlipwayRequestContext, environment: String?) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
        let page = try await self.registry.listDeployments(
            owner: model.owner,
            name: model.name,
            environment: environment,
            version: try Wire.integer(request, "version"),
            status: try Self.status(request),
            page: try Wire.pageRequest(request),
            by: principal
        )
        let active = try await self.activeIDs(of: model)
        return try Wire.page(page, request: request) {
            DeploymentDTO($0, model: model, activeID: active[$0.environmentID] ?? nil)
        }
    }

    func find(
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ principal: Principal
    ) async throws
        -> (Model, Deployment, SlipwayRegistry.Environment)
    {
        let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
        let (deployment, environment) = try await self.registry.deployment(
            owner: model.owner,
            name: model.name,
            environment: try context.parameters.require("env"),
            version: try Self.version(context),
            by: principal
        )
        return (model, deployment, environment)
    }

    /// A deployment as the API shows it, with `is_active` from its environment's current state.
    func render(_ deployment: Deployment, of model: Model, status: HTTPResponse.Status = .ok) async throws -> Response {
        let active = try await self.activeIDs(of: model)
        return try Wire.json(
            DeploymentDTO(deployment, model: model, activeID: active[deployment.environmentID] ?? nil),
            status: status
        )
    }

    func activeIDs(of model: Model) async throws -> [UUID: UUID?] {
        let environments = try await self.registry.repository.environments(modelID: model.id)
        return Dictionary(uniqueKeysWithValues: environments.map { ($0.id, $0.activeDeploymentID) })
    }

    static func version(_ context: SlipwayRequestContext) throws -> Int {
        let text = try context.parameters.require("version")
        guard let version = Int(text), version >= 1 else {
            throw APIError.invalid("version", "version must be a positive integer, got '\(text)'")
        }
        return version
    }

    static func status(_ request: Request) throws -> DeploymentStatus? {
        guard let text = request.uri.queryParameters.get("status") else { return nil }
        guard let status = DeploymentStatus(rawValue: text) else {
            throw APIError.invalid("status", "status must be pending, verified or failed, got '\(text)'")
        }
        return status
    }

    struct UpdateDeployment: Decodable {
        var description: String
    }

    struct SetStatus: Decodable {
        var state: DeploymentStatus
        var reason: String?
    }

    struct Promote: Decodable {
        var toEnvironment: String
        var summary: String?
        enum CodingKeys: String, CodingKey {
            case toEnvironment = "to_environment"
            case summary
        }
    }

    struct Activate: Decodable {
        var version: Int
    }

    struct ActivationDTO: Encodable {
        var environment: String
        var previousVersion: Int?
        var active: DeploymentDTO
        enum CodingKeys: String, CodingKey {
            case environment
            case previousVersion = "previous_version"
            case active
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.environment, forKey: .environment)
            try container.encode(self.previousVersion, forKey: .previousVersion)
            try container.encode(self.active, forKey: .active)
        }
    }

    struct LiveDTO: Encodable {
        var environment: String
        var at: Date
        var version: Int?
        var deployment: DeploymentDTO?
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.environment, forKey: .environment)
            try container.encode(self.at, forKey: .at)
            try container.encode(self.version, forKey: .version)
            try container.encode(self.deployment, forKey: .deployment)
        }
        enum CodingKeys: CodingKey { case environment, at, version, deployment }
    }
}

extension Registry {
    /// Loads the verified `versions` of an environment before a change sends them traffic (an activation, a
    /// traffic policy, a rollout), so no request meets a cold model. Only callers who may deploy there get anything
    /// loaded; unknown or unverified versions are left for the change itself to refuse.
    package func warm(
        _ versions: [Int],
        owner: String,
        name: String,
        environment: String,
        into lifecycle: (any DeploymentLifecycle)?,
        by principal: Principal
    ) async throws {
        guard let lifecycle else { return }
        _ = try await self.authorizeDeploy(owner: owner, name: name, environment: environment, by: principal)
        for version in versions {
            if let (deployment, _) = try? await self.deployment(
                owner: owner,
                name: name,
                environment: environment,
                version: version,
                by: principal
            ), deployment.status == .verified {
                try await lifecycle.warm(deployment)
            }
        }
    }
}
