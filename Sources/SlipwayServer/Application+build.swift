import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SlipwayAPI
import SlipwayMonitoring
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
    /// The administrator created on this start, with its token (shown once), if one was created now.
    public var bootstrapAdministrator: IssuedSecret<User>?
    /// The per-deployment statistics recorder (a service of ``application``), when statistics are enabled.
    public var statistics: StatisticsRecorder?

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
    let statistics =
        configuration.statistics.isEnabled
        ? StatisticsRecorder(repository: repository, configuration: configuration.statistics, logger: logger) : nil
    let allRecorders = recorders + (statistics.map { [$0] } ?? [])

    let router = Router(context: SlipwayRequestContext.self)
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: ErrorMiddleware())
    let readiness: @Sendable () async throws -> Void = { try await repository.ping() }
    ManagementAPI(registry: registry, lifecycle: host, readiness: readiness).register(on: router)
    let predictions = PredictionAPI(
        registry: registry,
        predictor: host,
        configuration: configuration.prediction,
        recorder: allRecorders.isEmpty ? nil : PredictionRecorders(allRecorders)
    )
    predictions.register(on: router)
    InferenceProtocolAPI(registry: registry, predictor: host, readiness: readiness, sharingLimitsWith: predictions)
        .register(on: router)
    StatisticsAPI(
        reader: StatisticsReader(
            registry: registry,
            repository: repository,
            recorder: statistics,
            configuration: configuration.statistics
        )
    ).register(on: router)

    // Shut down in reverse order: the host stops polling and verifying, then the statistics recorder writes what the
    // drained requests left, before the database closes.
    var services: [any Service] = [RepositoryService(repository: repository, logger: logger)]
    if let statistics { services.append(statistics) }
    services.append(host)
    let application = Application(
        responder: PathNormalizingResponder(router.buildResponder()),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "slipway"
        ),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
    return SlipwayApplication(
        application: application,
        registry: registry,
        host: host,
        bootstrapAdministrator: administrator,
        statistics: statistics
    )
}
