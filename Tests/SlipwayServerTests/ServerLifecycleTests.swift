import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SlipwayRegistry
import Testing

@testable import SlipwayServer

/// Starts the real server on a free loopback port, talks to it over HTTP and stops it gracefully.
@Suite(.serialized) struct ServerLifecycleTests {
    static let token = "slw_u_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

    func makeDataDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("slipway-server-\(UUID().uuidString)").path
    }

    /// Runs the server, calls `body` with its base URL, then triggers a graceful shutdown and waits for it.
    func withServer(
        dataDirectory: String,
        adminToken: String? = nil,
        _ body: @Sendable (String, SlipwayApplication, ServiceGroup) async throws -> Void
    ) async throws {
        let port = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(
            configuration: ServerConfiguration(port: 0, dataDirectory: dataDirectory, adminToken: adminToken),
            logger: Logger(label: "test")
        ) { bound in
            port.continuation.yield(bound)
        }
        let group = ServiceGroup(services: [app.application], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = port.stream.makeAsyncIterator()
            let bound = try #require(await iterator.next())
            try await body("http://127.0.0.1:\(bound)", app, group)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func answersHealthAndReadiness() async throws {
        let data = self.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await self.withServer(dataDirectory: data) { base, _, _ in
            for path in ["/healthz", "/readyz"] {
                let response = try await HTTPClient.shared.execute(
                    HTTPClientRequest(url: base + path),
                    timeout: .seconds(10)
                )
                #expect(response.status == .ok)
            }
        }
    }

    @Test func createsTheAdministratorOnlyOnTheFirstStart() async throws {
        let data = self.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await self.withServer(dataDirectory: data, adminToken: Self.token) { base, app, _ in
            #expect(app.bootstrapAdministrator?.secret == Self.token)
            #expect(app.bootstrapAdministrator?.value.isAdmin == true)
            var request = HTTPClientRequest(url: base + "/api/v1/users/me")
            request.headers.add(name: "Authorization", value: "Bearer \(Self.token)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status == .ok)
            let body = try await response.body.collect(upTo: 1 << 20)
            #expect(String(buffer: body).contains(#""username":"admin""#))
        }
        try await self.withServer(dataDirectory: data) { _, app, _ in
            #expect(app.bootstrapAdministrator == nil)
        }
    }

    @Test func rejectsAMalformedAdminToken() async throws {
        let data = self.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        await #expect(throws: RegistryError.self) {
            _ = try await buildApplication(
                configuration: ServerConfiguration(port: 0, dataDirectory: data, adminToken: "hunter2"),
                logger: Logger(label: "test")
            )
        }
    }

    @Test func finishesAnInFlightUploadDuringGracefulShutdown() async throws {
        let data = self.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let model = try Data(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("examples/iris/model.onnx")
        )
        try await self.withServer(dataDirectory: data, adminToken: Self.token) { base, app, group in
            let admin = try #require(try await app.registry.authenticate(secret: Self.token) as Principal?)
            _ = try await app.registry.createModel(ModelInput(owner: "admin", name: "iris"), by: admin)

            let boundary = "slipway-test-boundary"
            let head =
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"summary\"\r\n\r\nslow upload\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"model\"; filename=\"model.onnx\"\r\n\r\n"
            let tail = "\r\n--\(boundary)--\r\n"
            let chunks = AsyncStream.makeStream(of: ByteBuffer.self)
            var request = HTTPClientRequest(url: base + "/api/v1/models/admin/iris/environments/production/deployments")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(Self.token)")
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
            let length = head.utf8.count + model.count + tail.utf8.count
            request.body = .stream(chunks.stream, length: .known(Int64(length)))
            async let response = HTTPClient.shared.execute(request, timeout: .seconds(30))

            chunks.continuation.yield(ByteBuffer(string: head))
            chunks.continuation.yield(ByteBuffer(bytes: model.prefix(100)))
            try await Task.sleep(for: .milliseconds(200))
            // The upload is in flight: ask the server to stop, then send the rest.
            await group.triggerGracefulShutdown()
            try await Task.sleep(for: .milliseconds(200))
            chunks.continuation.yield(ByteBuffer(bytes: model.dropFirst(100)))
            chunks.continuation.yield(ByteBuffer(string: tail))
            chunks.continuation.finish()
            let answer = try await response
            #expect(answer.status == .created)
            let body = String(buffer: try await answer.body.collect(upTo: 1 << 20))
            #expect(body.contains(#""version":1"#))
        }
    }
}
