import Configuration
import Foundation
import Logging
import SlipwayAPI
import SlipwayBatch
import SlipwayFeedback
import SlipwayMetrics
import SlipwayMonitoring
import SlipwayRegistry
import SlipwayRuntime

/// Everything `slipway serve` can be told, with the embedded defaults.
///
/// ## Configuration keys
/// Read unscoped from a `ConfigReader`; as environment variables they take the `SLIPWAY_` prefix
/// (`dataDir` → `SLIPWAY_DATA_DIR`), and in a JSON config file they are top-level keys.
/// - `host` (string, default `127.0.0.1`): the address to listen on.
/// - `port` (int, default `8080`): the port (0 picks a free one).
/// - `dataDir` (string, default `./slipway-data`): holds `slipway.sqlite` and `artifacts/`.
/// - `databaseUrl` (string, optional): `postgres://user:password@host:port/database` selects PostgreSQL;
///   absent, SQLite in the data folder is used.
/// - `adminToken` (string, optional, secret): the first administrator's API token instead of a generated one.
/// - `maxArtifactBytes` (int, default 2 GiB): the largest model upload.
/// - `logLevel` (string, default `info`): trace, debug, info, notice, warning, error or critical.
/// - `modelMemoryBytes` (int, default 1 GiB): the memory budget for loaded models (active ones are always kept).
/// - `inferenceThreads` (int, default: the core count): threads that run inference and model loading.
/// - `maxQueuedPredictions` (int, default 256): calls that may wait per deployment before 503 overloaded.
/// - `maxPredictionRows` (int, default 10,000): rows one prediction request may carry.
/// - `maxPredictionBodyBytes` (int, default 8 MiB): the largest prediction request body.
/// - `fastPath` (bool, default true): answer `GET /healthz` and ready, cheap predictions on the network thread
///   that read the request instead of through the router (see `docs/operations.md`).
/// - `metricsToken` (string, optional, secret): the bearer token `GET /metrics` requires; absent, `/metrics` is open.
/// - `statsEnabled` (bool, default true): collect per-deployment statistics from every prediction.
/// - `statsFlushSeconds` (int, default 5): how often collected statistics are written to the database.
/// - `statsMinuteRetentionHours` (int, default 48): how long minute buckets are kept.
/// - `statsHourRetentionDays` (int, default 90): how long hour buckets are kept.
/// - `driftWindowMinutes` (int, default 60): the sliding window drift is measured over.
/// - `feedbackRetentionDays` (int, default 7): how long per-request outcomes are kept for feedback.
/// - `alertIntervalSeconds` (int, default 30): how often alert rules are evaluated.
/// - `maxBatchBytes` (int, default 1 GiB): the largest batch job upload.
/// - `batchRetentionSeconds` (int, default 604,800 = 7 days): how long finished batch jobs and their files are kept.
/// - `rolloutCheckMilliseconds` (int, default 1,000): how often running rollouts' guardrails are judged.
/// - `rolloutMinimumRequests` (int, default 20): requests a rollout's candidate needs in a step before its
///   guardrails are judged (and the baseline, for guardrails relative to it).
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: String
    public var databaseURL: String?
    public var adminToken: String?
    public var maximumArtifactBytes: Int64
    public var logLevel: Logger.Level
    /// The model host's settings (memory budget, inference threads, queues, refresh interval).
    public var runtime: ModelHost.Configuration
    /// The prediction routes' limits (rows and body size per request).
    public var prediction: PredictionAPI.Configuration
    /// The `/metrics` endpoint's settings (scrape token, series limit).
    public var metrics: SlipwayMetrics.Configuration
    /// Per-deployment statistics: collection, retention, drift window.
    public var statistics: StatisticsConfiguration
    /// The feedback layer's settings (outcome retention, alert interval, bounds).
    public var feedback: FeedbackConfiguration
    /// The largest batch job upload, in bytes.
    public var maximumBatchBytes: Int64 = 1 << 30
    /// The batch job runner's settings (chunk size, retention).
    public var batch: BatchJobRunner.Configuration = BatchJobRunner.Configuration()
    /// How often running rollouts are checked.
    public var rolloutCheckInterval: Duration = .seconds(1)
    /// Requests a rollout's candidate needs in a step before its guardrails are judged.
    public var rolloutMinimumRequests = 20
    /// Whether `GET /healthz` and predictions that need no waiting are answered on the network thread.
    public var fastPath = true

    /// The defaults: embedded storage in `./slipway-data`, 127.0.0.1:8080.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        dataDirectory: String = "./slipway-data",
        databaseURL: String? = nil,
        adminToken: String? = nil,
        maximumArtifactBytes: Int64 = FileArtifactStore.defaultMaximumSize,
        logLevel: Logger.Level = .info,
        runtime: ModelHost.Configuration = ModelHost.Configuration(),
        prediction: PredictionAPI.Configuration = PredictionAPI.Configuration(),
        metrics: SlipwayMetrics.Configuration = SlipwayMetrics.Configuration(),
        statistics: StatisticsConfiguration = StatisticsConfiguration(),
        feedback: FeedbackConfiguration = FeedbackConfiguration()
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.adminToken = adminToken
        self.maximumArtifactBytes = maximumArtifactBytes
        self.logLevel = logLevel
        self.runtime = runtime
        self.prediction = prediction
        self.metrics = metrics
        self.statistics = statistics
        self.feedback = feedback
    }

    /// Reads the configuration keys listed above; missing keys keep their defaults.
    public init(config: ConfigReader) throws {
        self.init()
        self.host = config.string(forKey: "host", default: self.host)
        self.port = config.int(forKey: "port", default: self.port)
        self.dataDirectory = config.string(forKey: "dataDir", default: self.dataDirectory)
        self.fastPath = config.bool(forKey: "fastPath", default: self.fastPath)
        self.databaseURL = config.string(forKey: "databaseUrl").flatMap { $0.isEmpty ? nil : $0 }
        self.adminToken = config.string(forKey: "adminToken", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        self.maximumArtifactBytes = Int64(
            config.int(forKey: "maxArtifactBytes", default: Int(self.maximumArtifactBytes))
        )
        let positive: [(String, Int)] = [
            ("modelMemoryBytes", config.int(forKey: "modelMemoryBytes", default: self.runtime.memoryBudget)),
            ("inferenceThreads", config.int(forKey: "inferenceThreads", default: self.runtime.threads)),
            ("maxQueuedPredictions", config.int(forKey: "maxQueuedPredictions", default: self.runtime.queueLimit)),
            ("maxPredictionRows", config.int(forKey: "maxPredictionRows", default: self.prediction.maximumRows)),
            (
                "maxPredictionBodyBytes",
                config.int(forKey: "maxPredictionBodyBytes", default: self.prediction.maximumBodyBytes)
            ),
            (
                "feedbackRetentionDays",
                config.int(forKey: "feedbackRetentionDays", default: self.feedback.outcomeRetentionDays)
            ),
            (
                "alertIntervalSeconds",
                config.int(forKey: "alertIntervalSeconds", default: Int(self.feedback.alertInterval.components.seconds))
            ),
        ]
        for (key, value) in positive where value < 1 {
            throw ConfigurationError("\(key) must be at least 1; got \(value)")
        }
        self.runtime.memoryBudget = positive[0].1
        self.runtime.threads = positive[1].1
        self.runtime.concurrencyPerDeployment = positive[1].1
        self.runtime.queueLimit = positive[2].1
        self.prediction.maximumRows = positive[3].1
        self.prediction.maximumBodyBytes = positive[4].1
        self.feedback.outcomeRetentionDays = positive[5].1
        self.feedback.alertInterval = .seconds(positive[6].1)
        let level = config.string(forKey: "logLevel", default: "info")
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigurationError(
                "logLevel must be one of trace, debug, info, notice, warning, error, critical; got '\(level)'"
            )
        }
        self.logLevel = logLevel
        self.metrics.token = config.string(forKey: "metricsToken", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        try self.readStatistics(config)
        let batchBytes = config.int(forKey: "maxBatchBytes", default: Int(self.maximumBatchBytes))
        guard batchBytes > 0 else { throw ConfigurationError("maxBatchBytes must be positive; got \(batchBytes)") }
        self.maximumBatchBytes = Int64(batchBytes)
        let retention = config.int(forKey: "batchRetentionSeconds", default: Int(self.batch.retention))
        guard retention > 0 else {
            throw ConfigurationError("batchRetentionSeconds must be positive; got \(retention)")
        }
        self.batch.retention = TimeInterval(retention)
        let check = config.int(forKey: "rolloutCheckMilliseconds", default: 1_000)
        guard (10...600_000).contains(check) else {
            throw ConfigurationError("rolloutCheckMilliseconds must be between 10 and 600000; got \(check)")
        }
        self.rolloutCheckInterval = .milliseconds(check)
        let minimum = config.int(forKey: "rolloutMinimumRequests", default: self.rolloutMinimumRequests)
        guard (1...1_000_000).contains(minimum) else {
            throw ConfigurationError("rolloutMinimumRequests must be between 1 and 1000000; got \(minimum)")
        }
        self.rolloutMinimumRequests = minimum
        guard (0...65_535).contains(self.port) else {
            throw ConfigurationError("port must be between 0 and 65535; got \(self.port)")
        }
        guard self.maximumArtifactBytes > 0 else {
            throw ConfigurationError("maxArtifactBytes must be positive; got \(self.maximumArtifactBytes)")
        }
        if let url = self.databaseURL, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw ConfigurationError(
                "databaseUrl must start with postgres:// (omit it for the embedded SQLite database)"
            )
        }
    }

    static let integerKeys: Set<String> = [
        "port", "maxArtifactBytes", "modelMemoryBytes", "inferenceThreads", "maxQueuedPredictions",
        "maxPredictionRows", "maxPredictionBodyBytes",
        "statsFlushSeconds", "statsMinuteRetentionHours", "statsHourRetentionDays", "driftWindowMinutes",
        "feedbackRetentionDays", "alertIntervalSeconds",
        "maxBatchBytes", "batchRetentionSeconds", "rolloutCheckMilliseconds", "rolloutMinimumRequests",
    ]

    /// Reads the `stats*` and `driftWindowMinutes` keys.
    mutating func readStatistics(_ config: ConfigReader) throws {
        self.statistics.isEnabled = config.bool(forKey: "statsEnabled", default: self.statistics.isEnabled)
        let keys: [(String, Int, ClosedRange<Int>)] = [
            ("statsFlushSeconds", config.int(forKey: "statsFlushSeconds", default: 5), 1...3_600),
            ("statsMinuteRetentionHours", config.int(forKey: "statsMinuteRetentionHours", default: 48), 1...8_760),
            ("statsHourRetentionDays", config.int(forKey: "statsHourRetentionDays", default: 90), 1...36_500),
            ("driftWindowMinutes", config.int(forKey: "driftWindowMinutes", default: 60), 1...525_600),
        ]
        for (key, value, range) in keys where !range.contains(value) {
            throw ConfigurationError(
                "\(key) must be between \(range.lowerBound) and \(range.upperBound); got \(value)"
            )
        }
        self.statistics.flushInterval = .seconds(keys[0].1)
        self.statistics.minuteRetention = Int64(keys[1].1) * 3_600
        self.statistics.hourRetention = Int64(keys[2].1) * 86_400
        self.statistics.driftWindow = Int64(keys[3].1) * 60
    }

    /// Builds a reader over, in order of precedence: `overrides` (command-line flags), `SLIPWAY_*` environment
    /// variables, and the JSON file at `configFile` when given.
    ///
    /// - Parameters:
    ///   - environment: the environment variables to read (the process's by default).
    public static func reader(
        overrides: [String: String],
        configFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in overrides {
            let content: ConfigContent
            if Self.integerKeys.contains(key), let number = Int(value) {
                content = .int(number)
            } else if key == "statsEnabled", let flag = Bool(value) {
                content = .bool(flag)
            } else {
                content = .string(value)
            }
            values[AbsoluteConfigKey([key])] = ConfigValue(
                content,
                isSecret: key == "adminToken" || key == "metricsToken"
            )
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: values),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .specific(["SLIPWAY_ADMIN_TOKEN", "SLIPWAY_METRICS_TOKEN"])
            ).prefixKeys(with: "slipway"),
        ]
        if let configFile {
            do {
                let location = ConfigReader(
                    provider: InMemoryProvider(values: ["filePath": ConfigValue(.string(configFile), isSecret: false)])
                )
                providers.append(try await FileProvider<JSONSnapshot>(config: location))
            } catch {
                throw ConfigurationError("cannot read the config file \(configFile): \(error)")
            }
        }
        return ConfigReader(providers: providers)
    }
}

/// A configuration value is missing or malformed.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, naming the key.
    public var description: String

    /// Creates the error.
    public init(_ description: String) { self.description = description }
}
