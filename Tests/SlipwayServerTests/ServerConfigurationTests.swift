import Configuration
import Foundation
import Logging
import SlipwayAPI
import SlipwayFeedback
import SlipwayMetrics
import SlipwayMonitoring
import SlipwayRuntime
import Testing

@testable import SlipwayServer

@Suite struct ServerConfigurationTests {
    @Test func defaultsToTheEmbeddedSetup() async throws {
        let reader = try await ServerConfiguration.reader(overrides: [:], configFile: nil, environment: [:])
        let configuration = try ServerConfiguration(config: reader)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "./slipway-data")
        #expect(configuration.databaseURL == nil)
        #expect(configuration.adminToken == nil)
        #expect(configuration.maximumArtifactBytes == 2 << 30)
        #expect(configuration.logLevel == .info)
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(UUID().uuidString).json")
        try Data(#"{"port": 7000, "dataDir": "/from/file", "logLevel": "debug", "host": "0.0.0.0"}"#.utf8).write(
            to: file
        )
        defer { try? FileManager.default.removeItem(at: file) }
        let reader = try await ServerConfiguration.reader(
            overrides: ["port": "9000"],
            configFile: file.path,
            environment: [
                "SLIPWAY_PORT": "8000", "SLIPWAY_DATA_DIR": "/from/env", "SLIPWAY_MAX_ARTIFACT_BYTES": "1024",
            ]
        )
        let configuration = try ServerConfiguration(config: reader)
        #expect(configuration.port == 9000)
        #expect(configuration.dataDirectory == "/from/env")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.maximumArtifactBytes == 1024)
    }

    @Test(arguments: [
        (["SLIPWAY_LOG_LEVEL": "loud"], "logLevel"),
        (["SLIPWAY_PORT": "70000"], "port"),
        (["SLIPWAY_DATABASE_URL": "mysql://x"], "databaseUrl"),
        (["SLIPWAY_MAX_ARTIFACT_BYTES": "0"], "maxArtifactBytes"),
    ])
    func rejectsBadValuesNamingTheKey(_ environment: [String: String], key: String) async throws {
        let reader = try await ServerConfiguration.reader(overrides: [:], configFile: nil, environment: environment)
        do {
            _ = try ServerConfiguration(config: reader)
            Issue.record("expected \(key) to be rejected")
        } catch let error as ConfigurationError {
            #expect(error.description.contains(key))
        }
    }

    @Test func readsTheFeedbackSettings() async throws {
        let defaults = try ServerConfiguration(
            config: try await ServerConfiguration.reader(overrides: [:], configFile: nil, environment: [:])
        )
        #expect(defaults.feedback.outcomeRetentionDays == 7 && defaults.feedback.alertInterval == .seconds(30))
        let reader = try await ServerConfiguration.reader(
            overrides: ["alertIntervalSeconds": "5"],
            configFile: nil,
            environment: ["SLIPWAY_FEEDBACK_RETENTION_DAYS": "14", "SLIPWAY_ALERT_INTERVAL_SECONDS": "60"]
        )
        let configuration = try ServerConfiguration(config: reader)
        #expect(configuration.feedback.outcomeRetentionDays == 14)
        #expect(configuration.feedback.alertInterval == .seconds(5))
        for (variable, key) in [
            ("SLIPWAY_FEEDBACK_RETENTION_DAYS", "feedbackRetentionDays"),
            ("SLIPWAY_ALERT_INTERVAL_SECONDS", "alertIntervalSeconds"),
        ] {
            let bad = try await ServerConfiguration.reader(
                overrides: [:],
                configFile: nil,
                environment: [variable: "0"]
            )
            #expect(throws: ConfigurationError.self, "\(key)") { try ServerConfiguration(config: bad) }
        }
    }

    @Test func reportsAMissingConfigFile() async throws {
        await #expect(throws: ConfigurationError.self) {
            _ = try await ServerConfiguration.reader(
                overrides: [:],
                configFile: "/nonexistent/slipway.json",
                environment: [:]
            )
        }
    }
}

extension ServerConfigurationTests {
    @Test func readsTheServingLimits() async throws {
        let reader = try await ServerConfiguration.reader(
            overrides: [:],
            configFile: nil,
            environment: [
                "SLIPWAY_MODEL_MEMORY_BYTES": "1048576", "SLIPWAY_INFERENCE_THREADS": "3",
                "SLIPWAY_MAX_QUEUED_PREDICTIONS": "7", "SLIPWAY_MAX_PREDICTION_ROWS": "100",
                "SLIPWAY_MAX_PREDICTION_BODY_BYTES": "4096",
            ]
        )
        let configuration = try ServerConfiguration(config: reader)
        #expect(configuration.runtime.memoryBudget == 1_048_576)
        #expect(configuration.runtime.threads == 3)
        #expect(configuration.runtime.concurrencyPerDeployment == 3)
        #expect(configuration.runtime.queueLimit == 7)
        #expect(configuration.prediction.maximumRows == 100)
        #expect(configuration.prediction.maximumBodyBytes == 4096)
    }

    @Test func refusesAZeroServingLimit() async throws {
        let reader = try await ServerConfiguration.reader(
            overrides: [:],
            configFile: nil,
            environment: ["SLIPWAY_MAX_PREDICTION_ROWS": "0"]
        )
        #expect(throws: ConfigurationError.self) { _ = try ServerConfiguration(config: reader) }
    }
}

extension ServerConfigurationTests {
    @Test func readsTheMetricsTokenFromFlagsEnvironmentAndFile() async throws {
        let none = try ServerConfiguration(
            config: try await ServerConfiguration.reader(overrides: [:], configFile: nil, environment: [:])
        )
        #expect(none.metrics.token == nil)
        let empty = try ServerConfiguration(
            config: try await ServerConfiguration.reader(
                overrides: [:],
                configFile: nil,
                environment: ["SLIPWAY_METRICS_TOKEN": ""]
            )
        )
        #expect(empty.metrics.token == nil, "an empty token leaves /metrics open rather than unreachable")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(UUID().uuidString).json")
        try Data(#"{"metricsToken": "from-file"}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try ServerConfiguration(
            config: try await ServerConfiguration.reader(overrides: [:], configFile: file.path, environment: [:])
        )
        #expect(fromFile.metrics.token == "from-file")
        let fromEnvironment = try ServerConfiguration(
            config: try await ServerConfiguration.reader(
                overrides: [:],
                configFile: file.path,
                environment: ["SLIPWAY_METRICS_TOKEN": "from-env"]
            )
        )
        #expect(fromEnvironment.metrics.token == "from-env")
        let fromFlag = try ServerConfiguration(
            config: try await ServerConfiguration.reader(
                overrides: ["metricsToken": "from-flag"],
                configFile: file.path,
                environment: ["SLIPWAY_METRICS_TOKEN": "from-env"]
            )
        )
        #expect(fromFlag.metrics.token == "from-flag")
    }

    @Test func readsTheFastPathSetting() async throws {
        let defaults = try ServerConfiguration(
            config: try await ServerConfiguration.reader(overrides: [:], configFile: nil, environment: [:])
        )
        #expect(defaults.fastPath)
        let off = try ServerConfiguration(
            config: try await ServerConfiguration.reader(
                overrides: [:],
                configFile: nil,
                environment: ["SLIPWAY_FAST_PATH": "false"]
            )
        )
        #expect(!off.fastPath)
    }

    @Test func readsTheStatisticsSettings() async throws {
        let defaults = try ServerConfiguration(
            config: try await ServerConfiguration.reader(overrides: [:], configFile: nil, environment: [:])
        )
        #expect(defaults.statistics.isEnabled)
        #expect(defaults.statistics.flushInterval == .seconds(5))
        #expect(defaults.statistics.minuteRetention == 48 * 3_600)
        #expect(defaults.statistics.hourRetention == 90 * 86_400)
        #expect(defaults.statistics.driftWindow == 3_600)
        let reader = try await ServerConfiguration.reader(
            overrides: ["statsEnabled": "false"],
            configFile: nil,
            environment: [
                "SLIPWAY_STATS_FLUSH_SECONDS": "2", "SLIPWAY_STATS_MINUTE_RETENTION_HOURS": "6",
                "SLIPWAY_STATS_HOUR_RETENTION_DAYS": "30", "SLIPWAY_DRIFT_WINDOW_MINUTES": "15",
            ]
        )
        let configuration = try ServerConfiguration(config: reader)
        #expect(!configuration.statistics.isEnabled)
        #expect(configuration.statistics.flushInterval == .seconds(2))
        #expect(configuration.statistics.minuteRetention == 6 * 3_600)
        #expect(configuration.statistics.hourRetention == 30 * 86_400)
        #expect(configuration.statistics.driftWindow == 15 * 60)
    }

    @Test(arguments: [
        ("SLIPWAY_STATS_FLUSH_SECONDS", "0", "statsFlushSeconds"),
        ("SLIPWAY_STATS_MINUTE_RETENTION_HOURS", "-1", "statsMinuteRetentionHours"),
        ("SLIPWAY_STATS_HOUR_RETENTION_DAYS", "0", "statsHourRetentionDays"),
        ("SLIPWAY_DRIFT_WINDOW_MINUTES", "0", "driftWindowMinutes"),
    ])
    func refusesBadStatisticsSettingsNamingTheKey(_ variable: String, _ value: String, key: String) async throws {
        let reader = try await ServerConfiguration.reader(
            overrides: [:],
            configFile: nil,
            environment: [variable: value]
        )
        do {
            _ = try ServerConfiguration(config: reader)
            Issue.record("expected \(key) to be rejected")
        } catch let error as ConfigurationError {
            #expect(error.description.contains(key))
        }
    }
}
