import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SlipwayFormats
import SlipwayRegistry
import SlipwayRuntime

/// TeachableHub's management API under `/v1`, as its Python SDK (`teachablehub` 1.0.40) calls it: whoami, the
/// caller's and the public teachables (models), a teachable, its environments, the deployment upload (a zip with JSON-string form fields), the
/// deployment list and detail, activation and rollback. Every route calls the same registry as `/api/v1`, with the
/// same authorization.
struct TeachableHubController {
    /// The frameworks a TeachableHub deployment may name, and what their zip must hold.
    static let frameworks: [String: TeachableHubArchive.Wanted] = [
        "sklearn": .named("model.json"),
        "onnx": .suffix(".onnx"),
    ]
    /// The form fields of a TeachableHub deployment.
    static let fields: Set<String> = [
        "framework", "environment", "summary", "description", "activate", "samples", "schema", "classes", "context",
        "params",
    ]

    let registry: Registry
    let deployments: DeploymentsController
    /// The largest zip accepted, and the most bytes its model file may inflate to.
    let maximumUploadBytes: Int64

    func register(on router: Router<SlipwayRequestContext>) {
        let v1 = router.group("v1")
        v1.get("users/me") { request, _ in
            let user = try self.registry.currentUser(try await self.registry.principal(for: request))
            return try Wire.json(UserDTO(user))
        }
        v1.get("users/me/teachables") { request, _ in
            let principal = try await self.registry.principal(for: request)
            let user = try self.registry.currentUser(principal)
            let page = try await self.registry.listModels(
                owner: user.username,
                page: try Wire.pageRequest(request),
                by: principal
            )
            return try Wire.page(page, request: request) { ModelDTO($0) }
        }
        v1.get("teachables") { request, _ in
            let page = try await self.registry.listModels(
                isPublic: true,
                page: try Wire.pageRequest(request),
                by: try await self.registry.principal(for: request)
            )
            return try Wire.page(page, request: request) { ModelDTO($0) }
        }
        v1.get("teachables/:owner/:name") { request, context in
            let principal = try await self.registry.principal(for: request)
            let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
            let environments = try await self.registry.repository.environments(modelID: model.id)
            return try Wire.json(ModelDTO(model, environments: environments))
        }
        v1.get("teachables/:owner/:name/environments") { request, context in
            let environments = try await self.registry.environments(
                owner: try context.owner,
                name: try context.name,
                by: try await self.registry.principal(for: request)
            )
            return try Wire.json(environments.map(EnvironmentDTO.init))
        }
        v1.get("teachables/:owner/:name/deployments") { request, context in
            try await self.list(request, context)
        }
        v1.post("teachables/:owner/:name/deployments") { request, context in
            try await self.deploy(request, context)
        }
        v1.get("teachables/:owner/:name/deployments/:id") { request, context in
            let principal = try await self.registry.principal(for: request)
            let (model, deployment) = try await self.find(context, principal)
            return try await self.deployments.render(deployment, of: model)
        }
        for (path, isRollback) in [("activate", false), ("rollback", true)] {
            v1.post("teachables/:owner/:name/deployments/:id/\(path)") { request, context in
                let principal = try await self.registry.principal(for: request)
                let (model, deployment) = try await self.find(context, principal)
                let activation = try await self.deployments.activate(
                    model: model,
                    environment: deployment.environmentName,
                    version: deployment.version,
                    isRollback: isRollback,
                    by: principal
                )
                return try await self.deployments.render(activation.current, of: model)
            }
        }
        v1.post("teachables/:owner/:name/deployments/rollback-version") { request, context in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(
                RollbackVersion.self,
                from: &request,
                allowed: ["environment", "version"]
            )
            let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
            let environment = try await self.environment(body.environment, of: model, principal, field: "environment")
            let activation = try await self.deployments.activate(
                model: model,
                environment: environment.name,
                version: body.version,
                isRollback: true,
                by: principal
            )
            return try await self.deployments.render(activation.current, of: model)
        }
    }

    /// `GET deployments/`: a plain list (paged with a `Link` header), filtered by `environment` (a name),
    /// `environment_id`, `version`, `status` and `usable=true` (verified only).
    func list(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
        let query = request.uri.queryParameters
        var environment = query.get("environment").flatMap { $0.isEmpty ? nil : $0 }
        if let id = query.get("environment_id"), !id.isEmpty {
            let found = try await self.environment(id, of: model, principal, field: "environment_id")
            if let environment, environment != found.name {
                throw APIError.invalid("environment", "environment and environment_id name different environments")
            }
            environment = found.name
        }
        var status = try DeploymentsController.status(request)
        if let usable = query.get("usable") {
            switch usable.lowercased() {
            case "true", "1": status = .verified
            case "false", "0", "": break
            default: throw APIError.invalid("usable", "usable must be true or false, got '\(usable)'")
            }
        }
        let page = try await self.registry.listDeployments(
            owner: model.owner,
            name: model.name,
            environment: environment,
            version: try Wire.integer(request, "version"),
            status: status,
            page: try Wire.pageRequest(request),
            by: principal
        )
        let active = try await self.deployments.activeIDs(of: model)
        return try Wire.page(page, request: request) {
            DeploymentDTO($0, model: model, activeID: active[$0.environmentID] ?? nil)
        }
    }

    /// `POST deployments/`: the SDK's multipart upload. The zip streams into a bounded temporary file; its model
    /// file is read in memory, translated to ONNX when it is th-sklearn-json's `model.json`, and stored as the
    /// deployment's artifact through the same registry path as `/api/v1` deploys.
    func deploy(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
        // Refuse callers who may deploy nowhere in this model before reading the body.
        let environments = try await self.registry.repository.environments(modelID: model.id)
        let access = try await self.registry.access(to: model, for: principal)
        if !environments.contains(where: { access.canDeploy(to: $0.name) }) {
            _ = try await self.registry.authorizeDeploy(
                owner: model.owner,
                name: model.name,
                environment: environments.first?.name ?? "production",
                by: principal
            )
            throw APIError(.forbidden, code: "forbidden", detail: "this credential may not deploy to \(model.fullName)")
        }

        let maximum = self.maximumUploadBytes
        let form = try await DeploymentUpload.readForm(request, fields: Self.fields) {
            try TemporaryFileSink(maximumBytes: maximum)
        }
        defer { form.file.abort() }
        guard let zip = form.file as? TemporaryFileSink else {
            throw APIError.invalid("model", "the upload has no file part named 'model'")
        }
        let fields = form.fields

        guard let environmentID = fields["environment"], !environmentID.isEmpty else {
            throw APIError.invalid(
                "environment",
                "environment is required: the id of the environment from GET /v1/teachables/\(model.fullName)/environments/ (pass environment= to TeachableDeployment)"
            )
        }
        let environment = try await self.environment(environmentID, of: model, principal, field: "environment")
        let target = try await self.registry.authorizeDeploy(
            owner: model.owner,
            name: model.name,
            environment: environment.name,
            by: principal
        )

        let supported = Self.frameworks.keys.sorted().joined(separator: ", ")
        guard let framework = fields["framework"], !framework.isEmpty else {
            throw APIError.invalid("framework", "framework is required; supported: \(supported)")
        }
        guard let wanted = Self.frameworks[framework] else {
            throw APIError.invalid(
                "framework",
                "framework '\(framework)' is not supported; supported: \(supported) (sklearn: th-sklearn-json's model.json; onnx: a zip holding one .onnx file)"
            )
        }
        var metadata = fields
        metadata["framework"] = nil
        metadata["environment"] = nil
        metadata["format"] = "onnx"
        let input = try DeploymentUpload.input(from: metadata)
        _ = try input.validate()

        try zip.close()
        let archive = try TeachableHubArchive(url: zip.url, maximumBytes: Int(clamping: maximum))
        let (_, file) = try archive.read(wanted, framework: framework)
        let onnx: [UInt8]
        if framework == "sklearn" {
            do {
                onnx = try TeachableSklearn.translate(file).onnx
            } catch {
                // The translator throws FormatError naming the estimator or field; anything else is reported the
                // same way rather than as a server error, since it was the upload that could not be translated.
                throw APIError.invalid("model", "model.json cannot be deployed: \(error)")
            }
        } else {
            onnx = file
        }

        let upload = try self.registry.artifacts.beginUpload()
        let artifact: StoredArtifact
        do {
            try onnx.withUnsafeBytes { try upload.write($0) }
            artifact = try upload.commit()
        } catch {
            upload.abort()
            throw error
        }
        let deployment = try await self.registry.createDeployment(
            in: target,
            input: input,
            artifact: artifact,
            by: principal
        )
        self.deployments.lifecycle?.verifySoon(deployment)
        var headers = HTTPFields()
        headers[.location] = "/v1/teachables/\(model.fullName)/deployments/\(deployment.id.uuidString.lowercased())/"
        return try Wire.json(
            DeploymentDTO(deployment, model: model, activeID: target.environment.activeDeploymentID),
            status: .created,
            headers: headers
        )
    }

    /// The deployment `:id` of the model (read access).
    func find(_ context: SlipwayRequestContext, _ principal: Principal) async throws -> (Model, Deployment) {
        let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
        let text = try context.parameters.require("id")
        guard let id = UUID(uuidString: text), let deployment = try await self.registry.repository.deployment(id: id),
            deployment.modelID == model.id
        else {
            throw APIError(.notFound, code: "not_found", detail: "\(model.fullName) has no deployment '\(text)'")
        }
        return (model, deployment)
    }

    /// The environment an id (as `GET environments/` lists it) names; an environment name is accepted too.
    func environment(
        _ idOrName: String,
        of model: Model,
        _ principal: Principal,
        field: String
    ) async throws -> SlipwayRegistry.Environment {
        let environments = try await self.registry.environments(owner: model.owner, name: model.name, by: principal)
        let id = UUID(uuidString: idOrName)
        if let found = environments.first(where: { $0.id == id || $0.name == idOrName }) {
            return found
        }
        throw APIError.invalid(
            field,
            "\(field) '\(idOrName.prefix(100))' is not an environment of \(model.fullName); expected an id from GET /v1/teachables/\(model.fullName)/environments/"
        )
    }

    struct RollbackVersion: Decodable {
        var environment: String
        var version: Int
    }
}
