import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SlipwayMonitoring
import SlipwayRegistry
import Testing

@testable import SlipwayServer

/// Statistics collected in memory are written on graceful shutdown: a server that never reached its flush interval
/// still leaves every prediction in the database for the next start.
@Suite(.serialized, .timeLimit(.minutes(2))) struct StatisticsRestartTests {
    static let token = "slw_u_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs a server on `data` whose statistics are only written on shutdown, calls `body`, then stops it gracefully.
    func withServer(data: String, _ body: @Sendable (String) async throws -> Void) async throws {
        let port = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = try await buildApplication(
            configuration: ServerConfiguration(
                port: 0,
                dataDirectory: data,
                adminToken: Self.token,
                logLevel: .warning,
                statistics: StatisticsConfiguration(flushInterval: .seconds(3_600))
            ),
            logger: logger
        ) { bound in
            port.continuation.yield(bound)
        }
        let group = ServiceGroup(services: [app.application], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = port.stream.makeAsyncIterator()
            let bound = try #require(await iterator.next())
            try await body("http://127.0.0.1:\(bound)")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func send(
        _ method: HTTPMethod,
        _ url: String,
        headers: [(String, String)] = [("Authorization", "Bearer \(Self.token)")],
        body: ByteBuffer? = nil
    ) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 22))
        return (response.status.code, text)
    }

    @Test func nothingIsLostAcrossAGracefulRestart() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-stats-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let requests = 25
        try await self.withServer(data: data) { base in
            let created = try await self.send(
                .POST,
                base + "/api/v1/models",
                body: ByteBuffer(string: #"{"owner": "admin", "name": "iris"}"#)
            )
            try #require(created.status == 201, "\(created)")
            // Deploy the iris example, activated once the server has verified it.
            let boundary = "slipway-test-boundary"
            var body = ByteBuffer()
            let fields = [
                ("summary", "iris"), ("activate", "true"),
                (
                    "schema",
                    try String(
                        contentsOf: Self.root.appendingPathComponent("examples/iris/schema.json"),
                        encoding: .utf8
                    )
                ),
                (
                    "samples",
                    try String(
                        contentsOf: Self.root.appendingPathComponent("examples/iris/samples.json"),
                        encoding: .utf8
                    )
                ),
                (
                    "classes",
                    try String(
                        contentsOf: Self.root.appendingPathComponent("examples/iris/classes.json"),
                        encoding: .utf8
                    )
                ),
            ]
            for (name, value) in fields {
                body.writeString(
                    "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
                )
            }
            body.writeString(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"model\"; filename=\"model.onnx\"\r\n\r\n"
            )
            body.writeBytes(try Data(contentsOf: Self.root.appendingPathComponent("examples/iris/model.onnx")))
            body.writeString("\r\n--\(boundary)--\r\n")
            let deployed = try await self.send(
                .POST,
                base + "/api/v1/models/admin/iris/environments/production/deployments",
                headers: [
                    ("Authorization", "Bearer \(Self.token)"),
                    ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                ],
                body: body
            )
            try #require(deployed.status == 201, "\(deployed)")
            var active = false
            for _ in 0..<100 where !active {
                let environment = try await self.send(.GET, base + "/api/v1/models/admin/iris/environments/production")
                active = environment.body.contains(#""active_version":1"#)
                if !active { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(active, "the deployment was verified and activated")
            for _ in 0..<requests {
                let answer = try await self.send(
                    .POST,
                    base + "/v1/admin/iris/predict/",
                    body: ByteBuffer(string: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#)
                )
                try #require(answer.status == 200, "\(answer)")
            }
        }
        // A new server on the same data folder finds every request: written by the first one's shutdown.
        try await self.withServer(data: data) { base in
            let stats = try await self.send(
                .GET,
                base + "/api/v1/models/admin/iris/environments/production/deployments/1/stats?bucket=hour"
            )
            try #require(stats.status == 200, "\(stats)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.body.utf8)) as? [String: Any])
            let total = try #require(object["total"] as? [String: Any])
            #expect(total["requests"] as? Int == requests, "\(total)")
            #expect(total["rows"] as? Int == requests)
            let predictions = try #require(total["predictions"] as? [String: Any])
            #expect((predictions["classes"] as? [String: Int]) == ["setosa": requests], "\(predictions)")
        }
    }
}
