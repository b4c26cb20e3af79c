import Foundation
import Logging

/// The fields of a new model.
public struct ModelInput: Sendable {
    public var owner: String
    public var name: String
    public var isPublic: Bool
    public var allowsAnonymousPredictions: Bool
    public var metadata: ModelMetadata
    public var card: ModelCard
    public var keyMetric: KeyMetric?

    /// Creates the input for a new model.
    public init(
        owner: String,
        name: String,
        isPublic: Bool = false,
        allowsAnonymousPredictions: Bool = false,
        metadata: ModelMetadata = ModelMetadata(),
        card: ModelCard = ModelCard(),
        keyMetric: KeyMetric? = nil
    ) {
        self.owner = owner
        self.name = name
        self.isPublic = isPublic
        self.allowsAnonymousPredictions = allowsAnonymousPredictions
        self.metadata = metadata
        self.card = card
        self.keyMetric = keyMetric
    }
}

/// A partial update of a model: `nil` leaves a field unchanged.
public struct ModelPatch: Sendable {
    public var isPublic: Bool?
    public var allowsAnonymousPredictions: Bool?
    public var description: String?
    public var topics: [String]?
    /// `.some(nil)` clears the URL.
    public var homepageURL: String??
    public var sourceURL: String??
    public var datasetURL: String??
    public var licenseURL: String??
    /// Each non-nil section replaces that section.
    public var card: ModelCardPatch
    /// `.some(nil)` clears the key metric.
    public var keyMetric: KeyMetric??

    /// An empty patch.
    public init() { self.card = ModelCardPatch() }
}

/// A partial update of a model card: each non-nil section replaces that section.
public struct ModelCardPatch: Sendable {
    public var intendedUse: String?
    public var factors: String?
    public var metrics: String?
    public var evaluationData: String?
    public var trainingData: String?
    public var quantitativeAnalyses: String?
    public var ethicalConsiderations: String?
    public var caveatsAndRecommendations: String?

    /// An empty patch.
    public init() {}

    /// Applies the patch; returns whether any section was given.
    public func apply(to card: inout ModelCard) -> Bool {
        let sections: [(String?, WritableKeyPath<ModelCard, String>)] = [
            (self.intendedUse, \.intendedUse), (self.factors, \.factors), (self.metrics, \.metrics),
            (self.evaluationData, \.evaluationData), (self.trainingData, \.trainingData),
            (self.quantitativeAnalyses, \.quantitativeAnalyses),
            (self.ethicalConsiderations, \.ethicalConsiderations),
            (self.caveatsAndRecommendations, \.caveatsAndRecommendations),
        ]
        var changed = false
        for (value, keyPath) in sections {
            if let value {
                card[keyPath: keyPath] = value
                changed = true
            }
        }
        return changed
    }
}

extension Registry {
    /// The longest description or card section accepted, in characters.
    public static let maximumTextLength = 100_000

    /// Creates a model with the `production` and `staging` environments.
    public func createModel(_ input: ModelInput, by principal: Principal) async throws -> Model {
        try self.requireManagementCredential(principal)
        guard let user = principal.user else {
            if principal == .anonymous {
                throw RegistryError(.unauthenticated, "an API token is required to create models")
            }
            throw RegistryError.forbidden("keys cannot create models; use an API token")
        }
        try Names.validate(input.owner, field: "owner")
        try Names.validate(input.name, field: "name")
        try Self.validate(metadata: input.metadata, card: input.card, keyMetric: input.keyMetric)
        if !user.isAdmin && user.username != input.owner {
            guard try await self.repository.organization(named: input.owner) != nil else {
                if try await self.repository.user(named: input.owner) != nil {
                    throw RegistryError.forbidden("you may not create models in \(input.owner)'s namespace")
                }
                throw RegistryError.notFound("owner \(input.owner) does not exist")
            }
            let role = try await self.repository.role(userID: user.id, inOrganization: input.owner)
            guard let role, role >= .maintainer else {
                throw RegistryError.forbidden("maintainer rights in \(input.owner) are required to create models there")
            }
        } else if try await !self.repository.isOwnerNameTaken(input.owner) {
            throw RegistryError.notFound("owner \(input.owner) does not exist")
        }
        let now = self.now()
        let model = Model(
            owner: input.owner,
            name: input.name,
            isPublic: input.isPublic,
            allowsAnonymousPredictions: input.allowsAnonymousPredictions,
            metadata: input.metadata,
            card: input.card,
            keyMetric: input.keyMetric,
            createdAt: now
        )
        let environments = Environment.defaultNames.map { Environment(modelID: model.id, name: $0, createdAt: now) }
        try await self.repository.createModel(
            model,
            environments: environments,
            event: self.event(.modelCreated, on: model, by: principal, detail: model.isPublic ? "public" : "private")
        )
        return model
    }

    /// One model the caller may read.
    public func model(owner: String, name: String, by principal: Principal) async throws -> Model {
        try await self.readableModel(owner: owner, name: name, by: principal).0
    }

    /// The models the caller may read that match the filter.
    public func listModels(
        owner: String? = nil,
        isPublic: Bool? = nil,
        topic: String? = nil,
        search: String? = nil,
        page: PageRequest,
        by principal: Principal
    ) async throws -> Page<Model> {
        try self.requireManagementCredential(principal)
        let viewer: ModelFilter.Viewer
        switch principal {
        case .anonymous: viewer = .publicOnly
        case .user(let user): viewer = user.isAdmin ? .all : .user(user.id, username: user.username)
        case .deployKey(let key): viewer = .model(key.modelID)
        case .servingKey: viewer = .publicOnly
        }
        let filter = ModelFilter(viewer: viewer, owner: owner, isPublic: isPublic, topic: topic, search: search)
        return try await self.repository.listModels(filter: filter, page: page)
    }

    /// Applies a partial update (maintainers; visibility needs owner rights).
    public func updateModel(
        owner: String,
        name: String,
        patch: ModelPatch,
        by principal: Principal
    ) async throws
        -> Model
    {
        var model = try await self.model(owner: owner, name: name, requiring: .maintainer, by: principal)
        var changed: [String] = []
        if let isPublic = patch.isPublic, isPublic != model.isPublic {
            let access = try await self.access(to: model, for: principal)
            guard access.hasRole(.owner) else {
                throw RegistryError.forbidden("owner rights on \(model.fullName) are required to change its visibility")
            }
            model.isPublic = isPublic
            changed.append(isPublic ? "made public" : "made private")
        }
        if let value = patch.allowsAnonymousPredictions, value != model.allowsAnonymousPredictions {
            let access = try await self.access(to: model, for: principal)
            guard access.hasRole(.owner) else {
                throw RegistryError.forbidden(
                    "owner rights on \(model.fullName) are required to change who may predict without a key"
                )
            }
            model.allowsAnonymousPredictions = value
            changed.append(value ? "predictions without a key allowed" : "predictions without a key refused")
        }
        if let value = patch.description {
            model.metadata.description = value
            changed.append("description")
        }
        if let value = patch.topics {
            model.metadata.topics = value
            changed.append("topics")
        }
        if let value = patch.homepageURL {
            model.metadata.homepageURL = value
            changed.append("homepage_url")
        }
        if let value = patch.sourceURL {
            model.metadata.sourceURL = value
            changed.append("source_url")
        }
        if let value = patch.datasetURL {
            model.metadata.datasetURL = value
            changed.append("dataset_url")
        }
        if let value = patch.licenseURL {
            model.metadata.licenseURL = value
            changed.append("license_url")
        }
        if patch.card.apply(to: &model.card) { changed.append("card") }
        if let value = patch.keyMetric {
            model.keyMetric = value
            changed.append("key_metric")
        }
        try Self.validate(metadata: model.metadata, card: model.card, keyMetric: model.keyMetric)
        guard !changed.isEmpty else { return model }
        model.updatedAt = self.now()
        try await self.repository.updateModel(
            model,
            event: self.event(.modelUpdated, on: model, by: principal, detail: changed.joined(separator: ", "))
        )
        return model
    }

    /// Deletes a model and everything in it (owners only); unreferenced artifacts are removed.
    public func deleteModel(owner: String, name: String, by principal: Principal) async throws {
        let model = try await self.model(owner: owner, name: name, requiring: .owner, by: principal)
        let digests = try await self.repository.deleteModel(id: model.id)
        await self.collectArtifacts(digests)
        self.log.info("deleted model", metadata: ["model.name": "\(model.fullName)"])
    }

    static func validate(metadata: ModelMetadata, card: ModelCard, keyMetric: KeyMetric?) throws {
        if metadata.description.count > self.maximumTextLength {
            throw RegistryError.invalid(
                "description",
                "description must be at most \(self.maximumTextLength) characters"
            )
        }
        if metadata.topics.count > 20 {
            throw RegistryError.invalid("topics", "at most 20 topics are allowed")
        }
        for (index, topic) in metadata.topics.enumerated() {
            try Names.validate(topic, field: "topics[\(index)]")
        }
        let urls: [(String, String?)] = [
            ("homepage_url", metadata.homepageURL), ("source_url", metadata.sourceURL),
            ("dataset_url", metadata.datasetURL), ("license_url", metadata.licenseURL),
        ]
        for (field, value) in urls {
            guard let value else { continue }
            guard value.count <= 2048, let url = URL(string: value), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", url.host != nil
            else {
                throw RegistryError.invalid(field, "\(field) must be an http or https URL of at most 2048 characters")
            }
        }
        let sections: [(String, String)] = [
            ("card.intended_use", card.intendedUse), ("card.factors", card.factors), ("card.metrics", card.metrics),
            ("card.evaluation_data", card.evaluationData), ("card.training_data", card.trainingData),
            ("card.quantitative_analyses", card.quantitativeAnalyses),
            ("card.ethical_considerations", card.ethicalConsiderations),
            ("card.caveats_and_recommendations", card.caveatsAndRecommendations),
        ]
        for (field, value) in sections where value.count > self.maximumTextLength {
            throw RegistryError.invalid(field, "\(field) must be at most \(self.maximumTextLength) characters")
        }
        if let keyMetric {
            try Names.validate(keyMetric.name, field: "key_metric.name")
        }
    }

    // MARK: Environments

    /// A model's environments.
    public func environments(owner: String, name: String, by principal: Principal) async throws -> [Environment] {
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        return try await self.repository.environments(modelID: model.id)
    }

    /// One environment.
    public func environment(
        owner: String,
        name: String,
        environment: String,
        by principal: Principal
    ) async throws
        -> Environment
    {
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        guard let found = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        return found
    }

    /// Creates a custom environment (maintainers).
    public func createEnvironment(
        owner: String,
        name: String,
        environment: String,
        by principal: Principal
    )
        async throws -> Environment
    {
        let model = try await self.model(owner: owner, name: name, requiring: .maintainer, by: principal)
        try Names.validate(environment, field: "name")
        if try await self.repository.environment(modelID: model.id, name: environment) != nil {
            throw RegistryError.conflict(
                "environment '\(environment)' already exists in \(model.fullName)",
                field: "name"
            )
        }
        let created = Environment(modelID: model.id, name: environment, createdAt: self.now())
        try await self.repository.createEnvironment(
            created,
            event: self.event(.environmentCreated, on: model, by: principal, environment: environment)
        )
        return created
    }

    /// Deletes an environment and its deployments (maintainers); refused while one is active.
    public func deleteEnvironment(
        owner: String,
        name: String,
        environment: String,
        by principal: Principal
    )
        async throws
    {
        let model = try await self.model(owner: owner, name: name, requiring: .maintainer, by: principal)
        guard let found = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        if let version = found.activeVersion {
            throw RegistryError.conflict(
                "environment '\(environment)' has an active deployment (version \(version)); it cannot be deleted"
            )
        }
        let digests = try await self.repository.deleteEnvironment(
            id: found.id,
            event: self.event(.environmentDeleted, on: model, by: principal, environment: environment)
        )
        await self.collectArtifacts(digests)
    }
}
