import Foundation
import Logging
import SlipwayRegistry
import SlipwayStorage

@testable import SlipwayRuntime

/// A private registry (SQLite file and artifact folder in a temporary directory) with one model, `acme/iris`,
/// and its `production` and `staging` environments.
struct RuntimeWorld: Sendable {
    let folder: URL
    /// The PostgreSQL schema, when the world lives in `SLIPWAY_TEST_POSTGRES_URL`.
    let schema: String?
    let repository: SQLRegistryRepository
    let registry: Registry
    let model: SlipwayRegistry.Model
    let production: Environment
    let staging: Environment

    /// The repository root (fixtures live under it).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let owner = ActivityActor(kind: .user, id: "acme-id", name: "acme")

    /// `SLIPWAY_TEST_POSTGRES_URL`, when set.
    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["SLIPWAY_TEST_POSTGRES_URL"], !url.isEmpty else {
            return nil
        }
        return url
    }

    /// A world on SQLite, or on a fresh schema of the PostgreSQL server at `postgresURL`.
    static func make(postgresURL: String? = nil) async throws -> RuntimeWorld {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("slipway-runtime-\(UUID().uuidString.lowercased())", isDirectory: true)
        let repository: SQLRegistryRepository
        var schema: String?
        if let postgresURL {
            schema = "t_rt_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            repository = try await SQLRegistryRepository.makePostgres(
                url: postgresURL,
                schema: schema,
                logger: SQLRegistryRepository.quietLogger
            )
        } else {
            repository = try await SQLRegistryRepository.makeSQLite(
                path: folder.appendingPathComponent("slipway.sqlite").path,
                logger: SQLRegistryRepository.quietLogger
            )
        }
        try await repository.migrate()
        let artifacts = try FileArtifactStore(root: folder.appendingPathComponent("artifacts", isDirectory: true))
        var logger = Logger(label: "slipway.runtime.tests")
        logger.logLevel = .warning
        let registry = Registry(repository: repository, artifacts: artifacts, logger: logger)
        try await repository.createUser(
            User(username: "acme", displayName: "Acme", email: nil, isAdmin: false, createdAt: Date())
        )
        let model = Model(owner: "acme", name: "iris", createdAt: Date())
        let environments = Environment.defaultNames.map { Environment(modelID: model.id, name: $0, createdAt: Date()) }
        try await repository.createModel(
            model,
            environments: environments,
            event: ActivityEvent(modelID: model.id, at: Date(), actor: Self.owner, action: .modelCreated)
        )
        return RuntimeWorld(
            folder: folder,
            schema: schema,
            repository: repository,
            registry: registry,
            model: model,
            production: environments[0],
            staging: environments[1]
        )
    }

    /// A host over this world's registry with quiet logs.
    func host(_ configuration: ModelHost.Configuration = ModelHost.Configuration(threads: 2)) -> ModelHost {
        var logger = Logger(label: "slipway.runtime.tests")
        logger.logLevel = .warning
        return ModelHost(registry: self.registry, configuration: configuration, logger: logger)
    }

    /// A second connection pool to the same PostgreSQL schema: another node's view of the database.
    func otherNode() async throws -> SQLRegistryRepository {
        try await SQLRegistryRepository.makePostgres(
            url: Self.postgresURL!,
            schema: self.schema,
            logger: SQLRegistryRepository.quietLogger
        )
    }

    func close() async {
        if let schema { try? await self.repository.execute(unsafeSQL: "DROP SCHEMA \(schema) CASCADE") }
        try? await self.repository.shutdown()
        try? FileManager.default.removeItem(at: self.folder)
    }

    /// Runs `body` with a fresh world and a host, then shuts both down.
    static func with(
        _ configuration: ModelHost.Configuration = ModelHost.Configuration(threads: 2),
        _ body: (RuntimeWorld, ModelHost) async throws -> Void
    ) async throws {
        let world = try await RuntimeWorld.make()
        let host = world.host(configuration)
        do {
            try await body(world, host)
        } catch {
            await host.shutdown()
            await world.close()
            throw error
        }
        await host.shutdown()
        await world.close()
    }

    /// The bytes of a fixture file, relative to the repository root.
    static func fixture(_ path: String) throws -> Data {
        try Data(contentsOf: Self.root.appendingPathComponent(path))
    }

    /// Stores bytes in the artifact store.
    func store(_ bytes: Data) throws -> StoredArtifact {
        let upload = try self.registry.artifacts.beginUpload()
        try bytes.withUnsafeBytes { try upload.write($0) }
        return try upload.commit()
    }

    /// Creates a pending deployment of `artifact` (a fixture path or raw bytes).
    func deploy(
        _ path: String = "examples/iris/model.onnx",
        bytes: Data? = nil,
        in environment: Environment? = nil,
        schema: String? = nil,
        samples: String? = nil,
        classes: String? = nil,
        activateOnVerify: Bool = false
    ) async throws -> Deployment {
        let environment = environment ?? self.production
        let artifact = try self.store(bytes ?? Self.fixture(path))
        return try await self.repository.createDeployment(
            Deployment(
                modelID: self.model.id,
                environmentID: environment.id,
                environmentName: environment.name,
                artifactDigest: artifact.digest,
                artifactSize: artifact.size,
                summary: "test",
                schema: schema,
                samples: samples,
                classes: classes,
                activateOnVerify: activateOnVerify,
                createdBy: Self.owner,
                createdAt: Date()
            ),
            event: ActivityEvent(modelID: self.model.id, at: Date(), actor: Self.owner, action: .deploymentCreated)
        )
    }

    /// Creates a deployment and marks it verified (without running the verifier).
    func deployVerified(
        _ path: String = "examples/iris/model.onnx",
        in environment: Environment? = nil,
        classes: String? = nil
    ) async throws -> Deployment {
        let deployment = try await self.deploy(path, in: environment, classes: classes)
        return try await self.registry.recordVerification(of: deployment, status: .verified, reason: nil).0
    }

    /// Activates a deployment directly in the repository (as another node would).
    @discardableResult
    func activate(_ deployment: Deployment) async throws -> Activation {
        try await self.repository.activate(
            environmentID: deployment.environmentID,
            deploymentID: deployment.id,
            event: ActivityEvent(
                modelID: self.model.id,
                at: Date(),
                actor: Self.owner,
                action: .deploymentActivated
            )
        )
    }
}

extension RuntimeError.Code {
    /// For `#expect(throws:)` matching.
    func matches(_ error: any Error) -> Bool { (error as? RuntimeError)?.code == self }
}
