import Foundation
import Hummingbird
import SlipwayRegistry

/// Models, environments, keys and the activity log.
struct ModelsController {
    let registry: Registry

    func register(on api: RouterGroup<SlipwayRequestContext>) {
        api.get("models") { request, _ in
            let principal = try await self.registry.principal(for: request)
            var isPublic: Bool?
            switch request.uri.queryParameters.get("visibility") {
            case nil: isPublic = nil
            case "public": isPublic = true
            case "private": isPublic = false
            case let other?:
                throw APIError.invalid("visibility", "visibility must be public or private, got '\(other)'")
            }
            let page = try await self.registry.listModels(
                owner: request.uri.queryParameters.get("owner"),
                isPublic: isPublic,
                topic: request.uri.queryParameters.get("topic"),
                search: request.uri.queryParameters.get("q"),
                page: try Wire.pageRequest(request),
                by: principal
            )
            return try Wire.page(page, request: request) { ModelDTO($0) }
        }
        api.post("models") { request, _ in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(CreateModel.self, from: &request, allowed: CreateModel.fields)
            let model = try await self.registry.createModel(
                ModelInput(
                    owner: body.owner,
                    name: body.name,
                    isPublic: body.isPublic ?? false,
                    allowsAnonymousPredictions: body.publicPredictions ?? false,
                    metadata: ModelMetadata(
                        description: body.description ?? "",
                        topics: body.topics ?? [],
                        homepageURL: body.homepageUrl,
                        sourceURL: body.sourceUrl,
                        datasetURL: body.datasetUrl,
                        licenseURL: body.licenseUrl
                    ),
                    card: body.card?.card ?? ModelCard(),
                    keyMetric: body.keyMetric?.keyMetric
                ),
                by: principal
            )
            let environments = try await self.registry.repository.environments(modelID: model.id)
            var headers = HTTPFields()
            headers[.location] = "/api/v1/models/\(model.fullName)"
            return try Wire.json(ModelDTO(model, environments: environments), status: .created, headers: headers)
        }
        api.get("models/:owner/:name") { request, context in
            let principal = try await self.registry.principal(for: request)
            let model = try await self.registry.model(owner: try context.owner, name: try context.name, by: principal)
            let environments = try await self.registry.repository.environments(modelID: model.id)
            return try Wire.json(ModelDTO(model, environments: environments))
        }
        api.patch("models/:owner/:name") { request, context in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, present) = try await Wire.decode(UpdateModel.self, from: &request, allowed: UpdateModel.fields)
            var patch = ModelPatch()
            patch.isPublic = body.isPublic
            patch.allowsAnonymousPredictions = body.publicPredictions
            patch.description = body.description
            patch.topics = body.topics
            if present.contains("homepage_url") { patch.homepageURL = .some(body.homepageUrl) }
            if present.contains("source_url") { patch.sourceURL = .some(body.sourceUrl) }
            if present.contains("dataset_url") { patch.datasetURL = .some(body.datasetUrl) }
            if present.contains("license_url") { patch.licenseURL = .some(body.licenseUrl) }
            if present.contains("key_metric") { patch.keyMetric = .some(body.keyMetric?.keyMetric) }
            if let card = body.card { patch.card = card.patch }
            let model = try await self.registry.updateModel(
                owner: try context.owner,
                name: try context.name,
                patch: patch,
                by: principal
            )
            let environments = try await self.registry.repository.environments(modelID: model.id)
            return try Wire.json(ModelDTO(model, environments: environments))
        }
        api.delete("models/:owner/:name") { request, context in
            try await self.registry.deleteModel(
                owner: try context.owner,
                name: try context.name,
                by: try await self.registry.principal(for: request)
            )
            return Response(status: .noContent)
        }

        // Environments
        api.get("models/:owner/:name/environments") { request, context in
            let environments = try await self.registry.environments(
                owner: try context.owner,
                name: try context.name,
                by: try await self.registry.principal(for: request)
            )
            return try Wire.json(environments.map(EnvironmentDTO.init))
        }
        api.post("models/:owner/:name/environments") { request, context in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(CreateEnvironment.self, from: &request, allowed: ["name"])
            let environment = try await self.registry.createEnvironment(
                owner: try context.owner,
                name: try context.name,
                environment: body.name,
                by: principal
            )
            return try Wire.json(EnvironmentDTO(environment), status: .created)
        }
        api.get("models/:owner/:name/environments/:env") { request, context in
            let environment = try await self.registry.environment(
                owner: try context.owner,
                name: try context.name,
                environment: try context.parameters.require("env"),
                by: try await self.registry.principal(for: request)
            )
            return try Wire.json(EnvironmentDTO(environment))
        }
        api.delete("models/:owner/:name/environments/:env") { request, context in
            try await self.registry.deleteEnvironment(
                owner: try context.owner,
                name: try context.name,
                environment: try context.parameters.require("env"),
                by: try await self.registry.principal(for: request)
            )
            return Response(status: .noContent)
        }

        // Keys
        api.get("models/:owner/:name/keys") { request, context in
            let keys = try await self.registry.listKeys(
                owner: try context.owner,
                name: try context.name,
                by: try await self.registry.principal(for: request)
            )
            return try Wire.json(keys.map { KeyDTO(key: $0) })
        }
        api.post("models/:owner/:name/keys") { request, context in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(CreateKey.self, from: &request, allowed: CreateKey.fields)
            var expiresAt = body.expiresAt
            if let days = body.expiresInDays {
                guard expiresAt == nil else {
                    throw APIError.invalid("expires_in_days", "give expires_in_days or expires_at, not both")
                }
                guard (1...3650).contains(days) else {
                    throw APIError.invalid("expires_in_days", "expires_in_days must be between 1 and 3650")
                }
                expiresAt = Date().addingTimeInterval(Double(days) * 86_400)
            }
            let issued = try await self.registry.createKey(
                owner: try context.owner,
                name: try context.name,
                kind: body.kind,
                keyName: body.name,
                environments: body.environments,
                expiresAt: expiresAt,
                rateLimit: body.rateLimit,
                by: principal
            )
            return try Wire.json(KeyDTO(key: issued.value, secret: issued.secret), status: .created)
        }
        api.delete("models/:owner/:name/keys/:id") { request, context in
            try await self.registry.revokeKey(
                owner: try context.owner,
                name: try context.name,
                id: try context.parameters.require("id"),
                by: try await self.registry.principal(for: request)
            )
            return Response(status: .noContent)
        }

        // Activity
        api.get("models/:owner/:name/activity") { request, context in
            let principal = try await self.registry.principal(for: request)
            var filter = ActivityFilter(
                environment: request.uri.queryParameters.get("environment"),
                since: try Wire.time(request, "since"),
                until: try Wire.time(request, "until")
            )
            let actions = request.uri.queryParameters.getAll("action")
            if !actions.isEmpty {
                filter.actions = Set(
                    try actions.map { text in
                        guard let action = ActivityEvent.Action(rawValue: text) else {
                            throw APIError.invalid(
                                "action",
                                "action must be one of \(ActivityEvent.Action.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'"
                            )
                        }
                        return action
                    }
                )
            }
            let page = try await self.registry.activity(
                owner: try context.owner,
                name: try context.name,
                filter: filter,
                page: try Wire.pageRequest(request),
                by: principal
            )
            return try Wire.page(page, request: request) { ActivityEventDTO(event: $0) }
        }
    }

    struct CreateModel: Decodable {
        var owner: String
        var name: String
        var isPublic: Bool?
        var publicPredictions: Bool?
        var description: String?
        var topics: [String]?
        var homepageUrl: String?
        var sourceUrl: String?
        var datasetUrl: String?
        var licenseUrl: String?
        var card: CardDTO?
        var keyMetric: KeyMetricDTO?

        static let fields: Set<String> = [
            "owner", "name", "public", "public_predictions", "description", "topics", "homepage_url", "source_url",
            "dataset_url",
            "license_url", "card", "key_metric",
        ]
        enum CodingKeys: String, CodingKey {
            case owner, name
            case isPublic = "public"
            case publicPredictions = "public_predictions"
            case description, topics
            case homepageUrl = "homepage_url"
            case sourceUrl = "source_url"
            case datasetUrl = "dataset_url"
            case licenseUrl = "license_url"
            case card
            case keyMetric = "key_metric"
        }
    }

    struct UpdateModel: Decodable {
        var isPublic: Bool?
        var publicPredictions: Bool?
        var description: String?
        var topics: [String]?
        var homepageUrl: String?
        var sourceUrl: String?
        var datasetUrl: String?
        var licenseUrl: String?
        var card: CardDTO?
        var keyMetric: KeyMetricDTO?

        static let fields = CreateModel.fields.subtracting(["owner", "name"])
        enum CodingKeys: String, CodingKey {
            case isPublic = "public"
            case publicPredictions = "public_predictions"
            case description, topics
            case homepageUrl = "homepage_url"
            case sourceUrl = "source_url"
            case datasetUrl = "dataset_url"
            case licenseUrl = "license_url"
            case card
            case keyMetric = "key_metric"
        }
    }

    struct CreateEnvironment: Decodable {
        var name: String
    }

    struct CreateKey: Decodable {
        var kind: AccessKey.Kind
        var name: String
        var environments: [String]
        var expiresAt: Date?
        var expiresInDays: Int?
        var rateLimit: Int?

        static let fields: Set<String> = [
            "kind", "name", "environments", "expires_at", "expires_in_days", "rate_limit",
        ]
        enum CodingKeys: String, CodingKey {
            case kind, name, environments
            case expiresAt = "expires_at"
            case expiresInDays = "expires_in_days"
            case rateLimit = "rate_limit"
        }
    }
}

extension SlipwayRequestContext {
    /// The `{owner}` path parameter.
    package var owner: String { get throws { try self.parameters.require("owner") } }
    /// The `{name}` path parameter.
    package var name: String { get throws { try self.parameters.require("name") } }
}
