import Foundation
import SlipwayRegistry

// Wire shapes of the management API. Property names become snake_case on the wire.

struct UserDTO: Encodable {
    var id: String
    var username: String
    var displayName: String
    var email: String?
    var isAdmin: Bool
    var createdAt: Date

    init(_ user: User) {
        self.id = user.id.uuidString.lowercased()
        self.username = user.username
        self.displayName = user.displayName
        self.email = user.email
        self.isAdmin = user.isAdmin
        self.createdAt = user.createdAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.username, forKey: .username)
        try container.encode(self.displayName, forKey: .displayName)
        try container.encode(self.email, forKey: .email)
        try container.encode(self.isAdmin, forKey: .isAdmin)
        try container.encode(self.createdAt, forKey: .createdAt)
    }

    enum CodingKeys: String, CodingKey {
        case id, username
        case displayName = "display_name"
        case email
        case isAdmin = "is_admin"
        case createdAt = "created_at"
    }
}

struct TokenDTO: Encodable {
    var id: String
    var name: String
    var createdAt: Date
    var expiresAt: Date?
    var revokedAt: Date?
    var secret: String?

    init(_ token: APIToken, secret: String? = nil) {
        self.id = token.id
        self.name = token.name
        self.createdAt = token.createdAt
        self.expiresAt = token.expiresAt
        self.revokedAt = token.revokedAt
        self.secret = secret
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.expiresAt, forKey: .expiresAt)
        try container.encode(self.revokedAt, forKey: .revokedAt)
        try container.encodeIfPresent(self.secret, forKey: .secret)
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case secret
    }
}

struct OrganizationDTO: Encodable {
    enum CodingKeys: String, CodingKey {
        case id, name
        case displayName = "display_name"
        case createdAt = "created_at"
    }

    var id: String
    var name: String
    var displayName: String
    var createdAt: Date

    init(_ organization: Organization) {
        self.id = organization.id.uuidString.lowercased()
        self.name = organization.name
        self.displayName = organization.displayName
        self.createdAt = organization.createdAt
    }
}

struct MemberDTO: Encodable {
    var username: String
    var role: Role
}

struct CardDTO: Codable {
    enum CodingKeys: String, CodingKey {
        case intendedUse = "intended_use"
        case factors, metrics
        case evaluationData = "evaluation_data"
        case trainingData = "training_data"
        case quantitativeAnalyses = "quantitative_analyses"
        case ethicalConsiderations = "ethical_considerations"
        case caveatsAndRecommendations = "caveats_and_recommendations"
    }

    var intendedUse: String?
    var factors: String?
    var metrics: String?
    var evaluationData: String?
    var trainingData: String?
    var quantitativeAnalyses: String?
    var ethicalConsiderations: String?
    var caveatsAndRecommendations: String?

    static let fields: Set<String> = [
        "intended_use", "factors", "metrics", "evaluation_data", "training_data", "quantitative_analyses",
        "ethical_considerations", "caveats_and_recommendations",
    ]

    init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, allowed: Self.fields, in: "card")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.intendedUse = try container.decodeIfPresent(String.self, forKey: .intendedUse)
        self.factors = try container.decodeIfPresent(String.self, forKey: .factors)
        self.metrics = try container.decodeIfPresent(String.self, forKey: .metrics)
        self.evaluationData = try container.decodeIfPresent(String.self, forKey: .evaluationData)
        self.trainingData = try container.decodeIfPresent(String.self, forKey: .trainingData)
        self.quantitativeAnalyses = try container.decodeIfPresent(String.self, forKey: .quantitativeAnalyses)
        self.ethicalConsiderations = try container.decodeIfPresent(String.self, forKey: .ethicalConsiderations)
        self.caveatsAndRecommendations = try container.decodeIfPresent(
            String.self,
            forKey: .caveatsAndRecommendations
        )
    }

    init(_ card: ModelCard) {
        self.intendedUse = card.intendedUse
        self.factors = card.factors
        self.metrics = card.metrics
        self.evaluationData = card.evaluationData
        self.trainingData = card.trainingData
        self.quantitativeAnalyses = card.quantitativeAnalyses
        self.ethicalConsiderations = card.ethicalConsiderations
        self.caveatsAndRecommendations = card.caveatsAndRecommendations
    }

    var patch: ModelCardPatch {
        var patch = ModelCardPatch()
        patch.intendedUse = self.intendedUse
        patch.factors = self.factors
        patch.metrics = self.metrics
        patch.evaluationData = self.evaluationData
        patch.trainingData = self.trainingData
        patch.quantitativeAnalyses = self.quantitativeAnalyses
        patch.ethicalConsiderations = self.ethicalConsiderations
        patch.caveatsAndRecommendations = self.caveatsAndRecommendations
        return patch
    }

    var card: ModelCard {
        var card = ModelCard()
        _ = self.patch.apply(to: &card)
        return card
    }
}

struct KeyMetricDTO: Codable {
    var name: String
    var direction: KeyMetric.Direction

    init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, allowed: ["name", "direction"], in: "key_metric")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        self.direction = try container.decode(KeyMetric.Direction.self, forKey: .direction)
    }

    init(_ metric: KeyMetric) {
        self.name = metric.name
        self.direction = metric.direction
    }

    var keyMetric: KeyMetric { KeyMetric(name: self.name, direction: self.direction) }
}

struct EnvironmentDTO: Encodable {
    var id: String
    var name: String
    var activeVersion: Int?
    var activeDeploymentId: String?
    var createdAt: Date

    init(_ environment: SlipwayRegistry.Environment) {
        self.id = environment.id.uuidString.lowercased()
        self.name = environment.name
        self.activeVersion = environment.activeVersion
        self.activeDeploymentId = environment.activeDeploymentID?.uuidString.lowercased()
        self.createdAt = environment.createdAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.activeVersion, forKey: .activeVersion)
        try container.encode(self.activeDeploymentId, forKey: .activeDeploymentId)
        try container.encode(self.createdAt, forKey: .createdAt)
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case activeVersion = "active_version"
        case activeDeploymentId = "active_deployment_id"
        case createdAt = "created_at"
    }
}

struct ActiveDeploymentDTO: Encodable {
    var id: String
    var version: Int
}

struct ModelDTO: Encodable {
    var id: String
    var owner: String
    var name: String
    var fullName: String
    var isPublic: Bool
    var publicPredictions: Bool
    var description: String
    var topics: [String]
    var homepageUrl: String?
    var sourceUrl: String?
    var datasetUrl: String?
    var licenseUrl: String?
    var card: CardDTO
    var keyMetric: KeyMetricDTO?
    var defaultEnvironment = "production"
    var environments: [EnvironmentDTO]?
    var activeDeployments: [String: ActiveDeploymentDTO]?
    var createdAt: Date
    var updatedAt: Date

    init(_ model: Model, environments: [SlipwayRegistry.Environment]? = nil) {
        self.id = model.id.uuidString.lowercased()
        self.owner = model.owner
        self.name = model.name
        self.fullName = model.fullName
        self.isPublic = model.isPublic
        self.publicPredictions = model.allowsAnonymousPredictions
        self.description = model.metadata.description
        self.topics = model.metadata.topics
        self.homepageUrl = model.metadata.homepageURL
        self.sourceUrl = model.metadata.sourceURL
        self.datasetUrl = model.metadata.datasetURL
        self.licenseUrl = model.metadata.licenseURL
        self.card = CardDTO(model.card)
        self.keyMetric = model.keyMetric.map(KeyMetricDTO.init)
        self.createdAt = model.createdAt
        self.updatedAt = model.updatedAt
        if let environments {
            self.environments = environments.map(EnvironmentDTO.init)
            var active: [String: ActiveDeploymentDTO] = [:]
            for environment in environments {
                if let id = environment.activeDeploymentID, let version = environment.activeVersion {
                    active[environment.name] = ActiveDeploymentDTO(id: id.uuidString.lowercased(), version: version)
                }
            }
            self.activeDeployments = active
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, owner, name
        case fullName = "full_name"
        case isPublic = "public"
        case publicPredictions = "public_predictions"
        case description, topics
        case homepageUrl = "homepage_url"
        case sourceUrl = "source_url"
        case datasetUrl = "dataset_url"
        case licenseUrl = "license_url"
        case card
        case keyMetric = "key_metric"
        case defaultEnvironment = "default_environment"
        case environments
        case activeDeployments = "active_deployments"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.owner, forKey: .owner)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.fullName, forKey: .fullName)
        try container.encode(self.isPublic, forKey: .isPublic)
        try container.encode(self.publicPredictions, forKey: .publicPredictions)
        try container.encode(self.description, forKey: .description)
        try container.encode(self.topics, forKey: .topics)
        try container.encode(self.homepageUrl, forKey: .homepageUrl)
        try container.encode(self.sourceUrl, forKey: .sourceUrl)
        try container.encode(self.datasetUrl, forKey: .datasetUrl)
        try container.encode(self.licenseUrl, forKey: .licenseUrl)
        try container.encode(self.card, forKey: .card)
        try container.encode(self.keyMetric, forKey: .keyMetric)
        try container.encode(self.defaultEnvironment, forKey: .defaultEnvironment)
        try container.encodeIfPresent(self.environments, forKey: .environments)
        try container.encodeIfPresent(self.activeDeployments, forKey: .activeDeployments)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.updatedAt, forKey: .updatedAt)
    }
}

/// JSON text stored by the registry, written back into responses as JSON (not as a string).
struct RawJSON: Encodable {
    var text: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        guard let text, let data = text.data(using: .utf8),
            let value = try? JSONDecoder().decode(JSONTree.self, from: data)
        else {
            try container.encodeNil()
            return
        }
        try container.encode(value)
    }
}

/// Refuses keys a nested object does not have (`Wire.decode` checks only the top level of a body).
func rejectUnknownKeys(_ decoder: any Decoder, allowed: Set<String>, in object: String) throws {
    let container = try decoder.container(keyedBy: VerbatimKey.self)
    if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !allowed.contains($0) }) {
        throw DecodingError.dataCorrupted(
            DecodingError.Context(
                codingPath: decoder.codingPath + [VerbatimKey(unknown)],
                debugDescription:
                    "'\(unknown)' is not a field of \(object); expected one of: \(allowed.sorted().joined(separator: ", "))"
            )
        )
    }
}

struct StatusDTO: Encodable {
    var state: DeploymentStatus
    var reason: String?
    var verifiedAt: Date?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.state, forKey: .state)
        try container.encode(self.reason, forKey: .reason)
        try container.encode(self.verifiedAt, forKey: .verifiedAt)
    }

    enum CodingKeys: String, CodingKey {
        case state, reason
        case verifiedAt = "verified_at"
    }
}

struct ArtifactDTO: Encodable {
    var sha256: String
    var size: Int64
}

struct DeploymentDTO: Encodable {
    var deployment: Deployment
    var modelName: String
    var isActive: Bool

    init(_ deployment: Deployment, model: Model, activeID: UUID?) {
        self.deployment = deployment
        self.modelName = model.fullName
        self.isActive = activeID == deployment.id
    }

    enum CodingKeys: String, CodingKey {
        case id, uuid, model, environment, version, status
        case isActive = "is_active"
        case format, summary, description, artifact, schema, samples, classes, context, params
        case referenceRows = "reference_rows"
        case activateOnVerify = "activate_on_verify"
        case verification
        case promotedFromId = "promoted_from_id"
        case createdBy = "created_by"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        let deployment = self.deployment
        var container = encoder.container(keyedBy: CodingKeys.self)
        let id = deployment.id.uuidString.lowercased()
        try container.encode(id, forKey: .id)
        try container.encode(id, forKey: .uuid)
        try container.encode(self.modelName, forKey: .model)
        try container.encode(deployment.environmentName, forKey: .environment)
        try container.encode(deployment.version, forKey: .version)
        try container.encode(
            StatusDTO(state: deployment.status, reason: deployment.statusReason, verifiedAt: deployment.verifiedAt),
            forKey: .status
        )
        try container.encode(self.isActive, forKey: .isActive)
        try container.encode(deployment.format, forKey: .format)
        try container.encode(deployment.summary, forKey: .summary)
        try container.encode(deployment.description, forKey: .description)
        try container.encode(
            ArtifactDTO(sha256: deployment.artifactDigest, size: deployment.artifactSize),
            forKey: .artifact
        )
        try container.encode(RawJSON(text: deployment.schema), forKey: .schema)
        try container.encode(RawJSON(text: deployment.samples), forKey: .samples)
        try container.encode(RawJSON(text: deployment.classes), forKey: .classes)
        try container.encode(RawJSON(text: deployment.context), forKey: .context)
        try container.encode(RawJSON(text: deployment.params), forKey: .params)
        try container.encode(deployment.referenceRows, forKey: .referenceRows)
        try container.encode(RawJSON(text: deployment.verification), forKey: .verification)
        try container.encode(deployment.activateOnVerify, forKey: .activateOnVerify)
        try container.encode(deployment.promotedFromID?.uuidString.lowercased(), forKey: .promotedFromId)
        try container.encode(deployment.createdBy, forKey: .createdBy)
        try container.encode(deployment.createdAt, forKey: .createdAt)
    }
}

struct KeyDTO: Encodable {
    var key: AccessKey
    var secret: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, name, environments
        case rateLimit = "rate_limit"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case secret
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.key.id, forKey: .id)
        try container.encode(self.key.kind, forKey: .kind)
        try container.encode(self.key.name, forKey: .name)
        try container.encode(self.key.environments, forKey: .environments)
        try container.encode(self.key.rateLimit, forKey: .rateLimit)
        try container.encode(self.key.expiresAt, forKey: .expiresAt)
        try container.encode(self.key.revokedAt, forKey: .revokedAt)
        try container.encode(self.key.createdBy, forKey: .createdBy)
        try container.encode(self.key.createdAt, forKey: .createdAt)
        try container.encodeIfPresent(self.secret, forKey: .secret)
    }
}

struct ActivityEventDTO: Encodable {
    var event: ActivityEvent

    enum CodingKeys: String, CodingKey {
        case id, at, actor, action, environment
        case fromVersion = "from_version"
        case toVersion = "to_version"
        case detail
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.event.id, forKey: .id)
        try container.encode(self.event.at, forKey: .at)
        try container.encode(self.event.actor, forKey: .actor)
        try container.encode(self.event.action, forKey: .action)
        try container.encode(self.event.environment, forKey: .environment)
        try container.encode(self.event.fromVersion, forKey: .fromVersion)
        try container.encode(self.event.toVersion, forKey: .toVersion)
        try container.encode(self.event.detail, forKey: .detail)
    }
}
