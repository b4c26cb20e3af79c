import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SlipwayRegistry
import SlipwayRuntime
import SlipwayServer
import Synchronization
import Testing

@testable import SlipwayCLI

extension CommandContext {
    /// A context that discards output and sees only `environment`.
    static func test(environment: [String: String]) -> CommandContext {
        CommandContext(writeOutput: { _ in }, writeError: { _ in }, isErrorTerminal: false, environment: environment)
    }
}

/// What one `slipway` command line did: its exit status and what it wrote.
struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The last non-empty line of standard output.
    var lastLine: String {
        self.stdout.split(separator: "\n").last.map(String.init) ?? ""
    }
}

/// Collects what a command writes.
final class OutputCapture: Sendable {
    private let buffers = Mutex((stdout: "", stderr: ""))

    func context(environment: [String: String]) -> CommandContext {
        CommandContext(
            writeOutput: { text in self.buffers.withLock { $0.stdout += text } },
            writeError: { text in self.buffers.withLock { $0.stderr += text } },
            isErrorTerminal: false,
            environment: environment
        )
    }

    var output: (stdout: String, stderr: String) { self.buffers.withLock { $0 } }
}

/// Runs a `slipway` command line in-process, as `SlipwayCommand.main` would, capturing its output.
func slipway(_ arguments: [String], environment: [String: String] = [:]) async -> CommandResult {
    let capture = OutputCapture()
    let status = await CommandContext.$current.withValue(capture.context(environment: environment)) {
        () async -> Int32 in
        do {
            var command = try SlipwayCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            let code = SlipwayCommand.exitCode(for: error)
            if !(error is ExitCode) {
                CommandContext.current.printError(SlipwayCommand.fullMessage(for: error))
            }
            return code.rawValue
        }
    }
    let output = capture.output
    return CommandResult(status: status, stdout: output.stdout, stderr: output.stderr)
}

/// A real Slipway server on a free loopback port with an empty data folder, for one test.
struct TestServer: Sendable {
    /// The administrator's API token.
    static let adminToken = "slw_u_abcdefgh1234_" + String(repeating: "0123456789abcdef", count: 2)

    let url: String
    let registry: Registry

    /// The environment a command sees: the server, and the admin token unless `token` is false.
    func environment(token: Bool = true) -> [String: String] {
        var environment = ["SLIPWAY_SERVER": self.url]
        if token { environment["SLIPWAY_TOKEN"] = Self.adminToken }
        return environment
    }

    /// Runs a command against this server as the administrator (or with the given extra environment).
    func run(
        _ arguments: [String],
        token: Bool = true,
        environment extra: [String: String] = [:]
    ) async -> CommandResult {
        await slipway(arguments, environment: self.environment(token: token).merging(extra) { $1 })
    }

    /// Marks a deployment verified, as the runtime's verifier will.
    func verify(_ model: String, environment: String, version: Int) async throws {
        let parts = model.split(separator: "/").map(String.init)
        let admin = try await self.registry.authenticate(secret: Self.adminToken)
        _ = try await self.registry.setStatus(
            owner: parts[0],
            name: parts[1],
            environment: environment,
            version: version,
            status: .verified,
            reason: nil,
            by: admin
        )
    }

    /// Starts a server, runs `body` against it, and shuts the server down.
    static func with(_ body: @Sendable (TestServer) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "slipway-cli-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "slipway.test")
        logger.logLevel = .error
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let built = try await buildApplication(
            configuration: ServerConfiguration(
                host: "127.0.0.1",
                port: 0,
                dataDirectory: directory.path,
                adminToken: Self.adminToken,
                logLevel: .error,
                // These tests set deployment statuses by hand (the administrator's status route).
                runtime: ModelHost.Configuration(verifiesDeployments: false)
            ),
            logger: logger,
            onServerRunning: { port in portContinuation.yield(port) }
        )
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [built.application],
                gracefulShutdownSignals: [],
                logger: logger
            )
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                Issue.record("the server did not start")
                return
            }
            let server = TestServer(url: "http://127.0.0.1:\(port)", registry: built.registry)
            do {
                try await body(server)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}

/// The repository's root and the fixtures the end-to-end tests deploy.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let iris = Self.root.appendingPathComponent("Tests/Fixtures/zoo/iris_random_forest/model.onnx").path

    /// Writes a file into a fresh temporary folder and returns its path.
    static func write(_ text: String, named name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "slipway-cli-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }
}
