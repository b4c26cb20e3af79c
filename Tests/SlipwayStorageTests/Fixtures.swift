import Foundation
import SlipwayRegistry
import SlipwayStorage

/// Small builders for the contract tests.
enum Fixtures {
    /// A fixed instant with a microsecond fraction, so round trips are checked exactly.
    static let start = Date(timeIntervalSince1970: 1_700_000_000.123456)

    /// `start` plus `seconds`.
    static func at(_ seconds: Double) -> Date {
        Date(timeIntervalSince1970: 1_700_000_000.123456 + seconds)
    }

    static let alice = ActivityActor(kind: .user, id: "alice-id", name: "alice")

    static func user(_ username: String, admin: Bool = false) -> User {
        User(
            username: username,
            displayName: username.capitalized,
            email: "\(username)@example.com",
            isAdmin: admin,
            createdAt: Self.start
        )
    }

    static func event(
        _ modelID: UUID,
        _ action: ActivityEvent.Action,
        at date: Date = Fixtures.start,
        environment: String? = nil,
        actor: ActivityActor = Fixtures.alice
    ) -> ActivityEvent {
        ActivityEvent(modelID: modelID, at: date, actor: actor, action: action, environment: environment)
    }

    /// Creates a user (if needed) and a model owned by it with the default environments.
    @discardableResult
    static func model(
        _ repository: SQLRegistryRepository,
        owner: String = "acme",
        name: String = "churn",
        isPublic: Bool = false,
        description: String = "",
        topics: [String] = [],
        createdAt: Date = Fixtures.start
    ) async throws -> (model: Model, environments: [Environment]) {
        if try await !repository.isOwnerNameTaken(owner) {
            try await repository.createUser(Self.user(owner))
        }
        let model = Model(
            owner: owner,
            name: name,
            isPublic: isPublic,
            metadata: ModelMetadata(description: description, topics: topics),
            createdAt: createdAt
        )
        let environments = Environment.defaultNames.map {
            Environment(modelID: model.id, name: $0, createdAt: createdAt)
        }
        try await repository.createModel(
            model,
            environments: environments,
            event: Self.event(model.id, .modelCreated, at: createdAt)
        )
        return (model, environments)
    }

    static func deployment(
        _ environment: Environment,
        digest: String = String(repeating: "a", count: 64),
        summary: String = "first",
        activateOnVerify: Bool = false,
        createdAt: Date = Fixtures.start
    ) -> Deployment {
        Deployment(
            modelID: environment.modelID,
            environmentID: environment.id,
            environmentName: "",
            artifactDigest: digest,
            artifactSize: 1234,
            summary: summary,
            schema: #"{"features":{}}"#,
            activateOnVerify: activateOnVerify,
            createdBy: Self.alice,
            createdAt: createdAt
        )
    }

    /// Creates a deployment in `environment`.
    static func deploy(
        _ repository: SQLRegistryRepository,
        _ environment: Environment,
        digest: String = String(repeating: "a", count: 64),
        activateOnVerify: Bool = false,
        at date: Date = Fixtures.start
    ) async throws -> Deployment {
        try await repository.createDeployment(
            Self.deployment(environment, digest: digest, activateOnVerify: activateOnVerify, createdAt: date),
            event: Self.event(environment.modelID, .deploymentCreated, at: date)
        )
    }

    /// Creates and verifies a deployment in `environment`.
    static func verifiedDeployment(
        _ repository: SQLRegistryRepository,
        _ environment: Environment,
        digest: String = String(repeating: "a", count: 64),
        at date: Date = Fixtures.start
    ) async throws -> Deployment {
        let deployment = try await Self.deploy(repository, environment, digest: digest, at: date)
        let (verified, _) = try await repository.setDeploymentStatus(
            id: deployment.id,
            status: .verified,
            reason: nil,
            verification: nil,
            at: date,
            event: Self.event(environment.modelID, .deploymentVerified, at: date)
        )
        return verified
    }

    /// A 64-character digest made of one repeated hex character.
    static func digest(_ character: Character) -> String { String(repeating: character, count: 64) }
}
