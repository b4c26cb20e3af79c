import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import SlipwayAPI
import SlipwayBatch
import SlipwayConsole
import SlipwayFeedback
import SlipwayMetrics
import SlipwayMonitoring
import SlipwayRegistry
import SlipwayRuntime
import SlipwayStorage
import SlipwayTraffic

/// What the composition root built: the application plus the pieces tests and commands want to reach.
public struct SlipwayApplication: Sendable {
    /// The HTTP application; run it with `runService()`.
    public var application: Application<PathNormalizingResponder<RouterResponder<SlipwayRequestContext>>>
    /// The registry service.
    public var registry: Registry
    /// The model host: routes, warm sessions, verification (a service of ``application``).
    public var host: ModelHost
    /// This application's Prometheus metrics (served at `/metrics`).
    public var metrics: SlipwayMetrics
    /// The batch job runner (a service of ``application``).
    public var batchRunner: BatchJobRunner
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
struct RepositoryService: Service, CustomStringConvertible {
    /// The service's name, as the service group logs it (without it, the group's start described every stored
    /// property by reflection: about a tenth of a start's CPU time).
    var description: String { "RepositoryService" }

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
///   - drift: where drift alerts read the population stability index (default: the statistics module).
///   - onServerRunning: called with the bound port once the server accepts connections.
public func buildApplication(
    configuration: ServerConfiguration,
    logger: Logger,
    recorders: [any PredictionRecorder] = [],
    drift: (any DriftSource)? = nil,
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

    let metrics = SlipwayMetrics(configuration: configuration.metrics)
    var runtime = configuration.runtime
    runtime.observer = runtime.observer.map { RuntimeObservers([metrics.runtime, $0]) } ?? metrics.runtime
    let host = ModelHost(registry: registry, configuration: runtime, logger: logger)
    metrics.readLoadedModels { host.loadedModelCount }
    let statistics =
        configuration.statistics.isEnabled
        ? StatisticsRecorder(
            repository: repository,
            configuration: configuration.statistics,
            logger: logger,
            metrics: metrics.factory
        ) : nil
    let statisticsReader = StatisticsReader(
        registry: registry,
        repository: repository,
        recorder: statistics,
        configuration: configuration.statistics
    )
    let allRecorders: [any PredictionRecorder] = [metrics.predictions] + (statistics.map { [$0] } ?? []) + recorders

    let router = Router(context: SlipwayRequestContext.self)
    // First, so that it wraps every route and the not-found responder.
    router.add(middleware: HTTPMetricsMiddleware(metrics: metrics.http))
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: ErrorMiddleware())
    let readiness: @Sendable () async throws -> Void = { try await repository.ping() }
    ManagementAPI(
        registry: registry,
        lifecycle: host,
        maximumUploadBytes: configuration.maximumArtifactBytes,
        readiness: readiness
    ).register(on: router)
    // The feedback layer: every prediction's outcome (and sampled log entry) is buffered by its recorder and
    // written by its service, which also evaluates alerts and delivers webhooks.
    let feedbackRecorder = FeedbackRecorder(maximumBuffered: configuration.feedback.maximumBufferedRecords)
    let webhooks = WebhookSender(
        queueSize: configuration.feedback.webhookQueueSize,
        attempts: configuration.feedback.webhookAttempts,
        backoff: configuration.feedback.webhookBackoff,
        logger: logger
    )
    let feedbackService = FeedbackService(
        recorder: feedbackRecorder,
        repository: repository,
        evaluator: AlertEvaluator(
            registry: repository,
            repository: repository,
            drift: drift ?? (statistics == nil ? nil : StatisticsDriftSource(reader: statisticsReader)),
            webhooks: webhooks,
            logger: logger,
            metrics: metrics.factory
        ),
        webhooks: webhooks,
        configuration: configuration.feedback,
        logger: logger
    )
    FeedbackAPI(
        registry: registry,
        repository: repository,
        recorder: feedbackRecorder,
        configuration: configuration.feedback,
        metrics: metrics.factory
    ).register(on: router)
    let predictions = PredictionAPI(
        registry: registry,
        predictor: host,
        configuration: configuration.prediction,
        recorder: PredictionRecorders(allRecorders + [feedbackRecorder])
    )
    predictions.register(on: router)
    metrics.register(on: router)
    let inferenceProtocol = InferenceProtocolAPI(
        registry: registry,
        predictor: host,
        readiness: readiness,
        sharingLimitsWith: predictions
    )
    inferenceProtocol.register(on: router)
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
    StatisticsAPI(reader: statisticsReader).register(on: router)
    // Traffic policies, progressive rollouts and experiment readouts; the controller judges running rollouts.
    let rolloutEvaluator = RolloutEvaluator(
        registry: registry,
        feedback: repository,
        minimumRequests: configuration.rolloutMinimumRequests
    )
    TrafficAPI(registry: registry, lifecycle: host, evaluator: rolloutEvaluator).register(on: router)
    let rollouts = RolloutController(
        evaluator: rolloutEvaluator,
        checkInterval: configuration.rolloutCheckInterval,
        logger: logger,
        trafficChanged: { await host.trafficChanged() }
    )
    // The web console at `/`: pages over the same registry calls, predictions through the same prediction path.
    try Console(
        registry: registry,
        predictions: predictions,
        monitoring: ConsoleMonitoring(statistics: statisticsReader, feedback: repository),
        traffic: ConsoleTraffic(evaluator: rolloutEvaluator, lifecycle: host)
    ).register(on: router)

    // Shut down in reverse order: the host stops polling and verifying, then the feedback service and the statistics
    // recorder write what the drained requests left, before the database closes.
    var services: [any Service] = [RepositoryService(repository: repository, logger: logger)]
    if let statistics { services.append(statistics) }
    services.append(feedbackService)
    services.append(host)
    services.append(rollouts)
    // The batch runner stops first: a running job is marked failed (it is not resumed after a restart).
    services.append(batchRunner)
    let serverName = "slipway"
    let fastRoutes =
        configuration.fastPath
        ? FastRoutes(
            predictions: predictions,
            inferenceProtocol: inferenceProtocol,
            metrics: metrics.http,
            logger: logger,
            serverName: serverName
        ) : nil
    let application = Application(
        responder: PathNormalizingResponder(router.buildResponder()),
        server: HTTPServerBuilder { responder in
            let http1 = HTTP1Channel(responder: responder)
            guard let fastRoutes else { return http1 }
            return FastHTTP1Channel(inner: http1, routes: fastRoutes)
        },
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: serverName
        ),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
    return SlipwayApplication(
        application: application,
        registry: registry,
        host: host,
        metrics: metrics,
        batchRunner: batchRunner,
        bootstrapAdministrator: administrator,
        statistics: statistics
    )
}
