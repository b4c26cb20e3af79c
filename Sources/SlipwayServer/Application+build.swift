import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SlipwayAPI
import SlipwayBatch
import SlipwayRegistry
import SlipwayRuntime
import SlipwayStorage

/// What the composition root built: the application plus the pieces tests and commands want to reach.
public struct SlipwayApplication: Sendable {
    /// The HTTP application; run it with `runService()`.
    public var application: Application<PathNormalizingResponder<RouterResponder<SlipwayRequestContext>>>
    /// The registry service.
    public var registry: Registry
    /// The model host: routes, warm sessions, verification (a service of ``application``).
    public var host: ModelHost
    /// The batch job runner (a service of ``application``).
    public var batchRunner: BatchJobRunner
    /// The administrator created on this start, with its token (shown once), if one was created now.
    public var bootstrapAdministrator: IssuedSecret<User>?

    /// Runs the server until SIGTERM or SIGINT, then lets in-flight requests finish and closes the database.
    public func run() async throws {
        try await self.application.runService()
    }
}

/// Closes the repository's connections after the HTTP server has drained, on graceful shutdown.
struct RepositoryService: Service {
    let repository: SQLRegistryRepository
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try await self.repository.shutdown()
        } catch {
            self.logger.warning("closing the database failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Builds the server: picks the storage backends, migrates the database, creates the first administrator,
/// and wires the routes. The only place that knows the concrete backends.
///
/// - Parameters:
///   - configuration: what `slipway serve` was told.
///   - logger: the application's logger; request lines carry `hb.request.id`.
///   - recorders: extra receivers of every prediction request's record (tests, embedders).
///   - onServerRunning: called with the bound port once the server accepts connections.
public func buildApplication(
    configuration: ServerConfiguration,
    logger: Logger,
    recorders: [any PredictionRecorder] = [],
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> SlipwayApplication {
    let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true)
    do {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
    } catch {
        throw ConfigurationError("cannot create the data folder \(dataDirectory.path): \(error.localizedDescription)")
    }
    let artifacts = try FileArtifactStore(
        root: dataDirectory.appendingPathComponent("artifacts", isDirectory: true),
        maximumSize: configuration.maximumArtifactBytes
    )
    let repository: SQLRegistryRepository
    if let url = configuration.databaseURL {
        repository = try await SQLRegistryRepository.makePostgres(url: url, logger: logger)
    } else {
        repository = try await SQLRegistryRepository.makeSQLite(
            path: dataDirectory.appendingPathComponent("slipway.sqlite").path,
            logger: logger
        )
    }
    let registry: Registry
    let administrator: IssuedSecret<User>?
    do {
        try await repository.migrate()
        registry = Registry(repository: repository, artifacts: artifacts, logger: logger)
        administrator = try await registry.bootstrapAdministrator(token: configuration.adminToken)
    } catch {
        try? await repository.shutdown()
        throw error
    }

    let host = ModelHost(registry: registry, configuration: configuration.runtime, logger: logger)

    let router = Router(context: SlipwayRequestContext.self)
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: ErrorMiddleware())
    let readiness: @Sendable () async throws -> Void = { try await repository.ping() }
    ManagementAPI(
        registry: registry,
        lifecycle: host,
        maximumUploadBytes: configuration.maximumArtifactBytes,
        readiness: readiness
    ).register(on: router)
    let predictions = PredictionAPI(
        registry: registry,
        predictor: host,
        configuration: configuration.prediction,
        recorder: recorders.isEmpty ? nil : PredictionRecorders(recorders)
    )
    predictions.register(on: router)
    InferenceProtocolAPI(registry: registry, predictor: host, readiness: readiness, sharingLimitsWith: predictions)
        .register(on: router)
    let batchRunner = BatchJobRunner(
        jobs: repository,
        models: repository,
        predictor: host,
        files: try BatchJobFiles(root: dataDirectory.appendingPathComponent("jobs", isDirectory: true)),
        configuration: configuration.batch,
        logger: logger
    )
    BatchJobsAPI(
        registry: registry,
        predictor: host,
        jobs: repository,
        runner: batchRunner,
        maximumBytes: configuration.maximumBatchBytes
    ).register(on: router)

    let application = Application(
        responder: PathNormalizingResponder(router.buildResponder()),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "slipway"
        ),
        // Shut down in reverse order: the batch runner stops, then the host stops polling and verifying, before the
        // database closes.
        services: [RepositoryService(repository: repository, logger: logger), host, batchRunner],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
    return SlipwayApplication(
        application: application,
        registry: registry,
        host: host,
        batchRunner: batchRunner,
        bootstrapAdministrator: administrator
    )
}
