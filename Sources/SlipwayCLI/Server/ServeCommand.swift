import ArgumentParser
import Foundation
import Logging
import SlipwayRegistry
import SlipwayServer

/// `slipway serve`: runs the server until SIGTERM or SIGINT, then drains in-flight requests and exits.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Slipway server (embedded SQLite and artifact folder by default).",
        discussion: """
            Every option can also come from a SLIPWAY_* environment variable (SLIPWAY_PORT, SLIPWAY_DATA_DIR, \
            SLIPWAY_DATABASE_URL, SLIPWAY_ADMIN_TOKEN, SLIPWAY_MAX_ARTIFACT_BYTES, SLIPWAY_LOG_LEVEL) or from a JSON \
            file given with --config ({"port": 9090, "dataDir": "/var/lib/slipway"}). Flags win over the \
            environment, which wins over the file.
            """
    )

    @Option(help: "The address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on (default 8080; 0 picks a free one).")
    var port: Int?

    @Option(
        name: .customLong("data-dir"),
        help: "The folder for the SQLite database and artifacts (default ./slipway-data)."
    )
    var dataDirectory: String?

    @Option(name: .customLong("database-url"), help: "postgres://user:password@host:port/database to use PostgreSQL.")
    var databaseURL: String?

    @Option(name: .customLong("max-artifact-bytes"), help: "The largest model upload in bytes (default 2 GiB).")
    var maximumArtifactBytes: Int64?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(name: .customLong("config"), help: "A JSON configuration file.")
    var configFile: String?

    @Option(
        name: .customLong("metrics-token"),
        help: "The bearer token GET /metrics requires (default: none, /metrics is open; SLIPWAY_METRICS_TOKEN)."
    )
    var metricsToken: String?

    func run() async throws {
        var overrides: [String: String] = [:]
        overrides["host"] = self.host
        overrides["port"] = self.port.map(String.init)
        overrides["dataDir"] = self.dataDirectory
        overrides["databaseUrl"] = self.databaseURL
        overrides["maxArtifactBytes"] = self.maximumArtifactBytes.map(String.init)
        overrides["logLevel"] = self.logLevel
        overrides["metricsToken"] = self.metricsToken
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration(
                config: try await ServerConfiguration.reader(overrides: overrides, configFile: self.configFile)
            )
        } catch let error as ConfigurationError {
            throw Self.fail(error.description)
        }

        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "slipway")
        let started = ContinuousClock.now
        let app: SlipwayApplication
        do {
            app = try await buildApplication(configuration: configuration, logger: logger) { port in
                let elapsed = ContinuousClock.now - started
                let milliseconds =
                    Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
                printLine(
                    "Slipway is ready on http://\(configuration.host):\(port) (\(String(format: "%.0f", milliseconds)) ms)"
                )
            }
        } catch {
            throw Self.fail("cannot start: \(error)")
        }
        if let administrator = app.bootstrapAdministrator {
            printLine(
                """
                Created the administrator '\(administrator.value.username)'. Its API token, shown only this once:
                \(administrator.secret)
                """
            )
        }
        try await app.run()
    }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(
            Data("slipway: error: \(message.replacingOccurrences(of: "\n", with: " "))\n".utf8)
        )
        return ExitCode.failure
    }
}
