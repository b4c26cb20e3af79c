import Foundation

/// A model project `owner/name`: its metadata, model card and key metric. Environments and deployments hang off it.
public struct Model: Hashable, Sendable {
    /// Stable identifier.
    public var id: UUID
    /// The owner namespace (a username or an organisation name).
    public var owner: String
    /// The model's name within its owner (follows ``Names``).
    public var name: String
    /// Public models can be read by anyone; private ones only by their owner's members, admins and keys.
    public var isPublic: Bool
    /// Whether anyone may call a public model's prediction API without a key (ignored for private models).
    public var allowsAnonymousPredictions: Bool
    /// Description, topics and links.
    public var metadata: ModelMetadata
    /// The model card sections.
    public var card: ModelCard
    /// The one number the business cares about, if defined.
    public var keyMetric: KeyMetric?
    /// When the model was created.
    public var createdAt: Date
    /// When the model's own fields last changed.
    public var updatedAt: Date

    /// `owner/name`.
    public var fullName: String { "\(self.owner)/\(self.name)" }

    /// Creates a model value.
    public init(
        id: UUID = UUID(),
        owner: String,
        name: String,
        isPublic: Bool = false,
        allowsAnonymousPredictions: Bool = false,
        metadata: ModelMetadata = ModelMetadata(),
        card: ModelCard = ModelCard(),
        keyMetric: KeyMetric? = nil,
        createdAt: Date,
        updatedAt: Date? = nil
    ) {
        self.id = id
        self.owner = owner
        self.name = name
        self.isPublic = isPublic
        self.allowsAnonymousPredictions = allowsAnonymousPredictions
        self.metadata = metadata
        self.card = card
        self.keyMetric = keyMetric
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// A model's "about" fields.
public struct ModelMetadata: Hashable, Sendable, Codable {
    /// One paragraph on what the model does.
    public var description: String
    /// Search topics (each follows ``Names``).
    public var topics: [String]
    /// Project homepage.
    public var homepageURL: String?
    /// Source code.
    public var sourceURL: String?
    /// Training data.
    public var datasetURL: String?
    /// Licence text.
    public var licenseURL: String?

    /// Creates metadata.
    public init(
        description: String = "",
        topics: [String] = [],
        homepageURL: String? = nil,
        sourceURL: String? = nil,
        datasetURL: String? = nil,
        licenseURL: String? = nil
    ) {
        self.description = description
        self.topics = topics
        self.homepageURL = homepageURL
        self.sourceURL = sourceURL
        self.datasetURL = datasetURL
        self.licenseURL = licenseURL
    }
}

/// The sections of a model card (Mitchell et al., "Model Cards for Model Reporting"), each free Markdown text.
public struct ModelCard: Hashable, Sendable, Codable {
    public var intendedUse: String
    public var factors: String
    public var metrics: String
    public var evaluationData: String
    public var trainingData: String
    public var quantitativeAnalyses: String
    public var ethicalConsiderations: String
    public var caveatsAndRecommendations: String

    /// Creates a card; every section defaults to empty.
    public init(
        intendedUse: String = "",
        factors: String = "",
        metrics: String = "",
        evaluationData: String = "",
        trainingData: String = "",
        quantitativeAnalyses: String = "",
        ethicalConsiderations: String = "",
        caveatsAndRecommendations: String = ""
    ) {
        self.intendedUse = intendedUse
        self.factors = factors
        self.metrics = metrics
        self.evaluationData = evaluationData
        self.trainingData = trainingData
        self.quantitativeAnalyses = quantitativeAnalyses
        self.ethicalConsiderations = ethicalConsiderations
        self.caveatsAndRecommendations = caveatsAndRecommendations
    }
}

/// The key metric's definition: which number, and which way is better.
public struct KeyMetric: Hashable, Sendable, Codable {
    /// Whether larger or smaller values are better.
    public enum Direction: String, Hashable, Sendable, Codable, CaseIterable {
        case maximize
        case minimize
    }

    /// The metric's name (`accuracy`, `rmse`, `revenue_per_prediction`).
    public var name: String
    /// Which way is better.
    public var direction: Direction

    /// Creates a key metric definition.
    public init(name: String, direction: Direction) {
        self.name = name
        self.direction = direction
    }
}

/// A named target inside a model with its own deployment sequence and one active deployment.
public struct Environment: Hashable, Sendable {
    /// Stable identifier.
    public var id: UUID
    /// The model it belongs to.
    public var modelID: UUID
    /// The environment's name (follows ``Names``); `production` and `staging` exist in every model.
    public var name: String
    /// The deployment that answers when no version is given, if any.
    public var activeDeploymentID: UUID?
    /// The active deployment's version (filled in by the repository).
    public var activeVersion: Int?
    /// When the environment was created.
    public var createdAt: Date

    /// The environments every new model starts with.
    public static let defaultNames = ["production", "staging"]

    /// Creates an environment value.
    public init(
        id: UUID = UUID(),
        modelID: UUID,
        name: String,
        activeDeploymentID: UUID? = nil,
        activeVersion: Int? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.modelID = modelID
        self.name = name
        self.activeDeploymentID = activeDeploymentID
        self.activeVersion = activeVersion
        self.createdAt = createdAt
    }
}
