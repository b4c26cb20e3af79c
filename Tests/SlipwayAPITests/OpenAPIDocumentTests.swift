import Foundation
import Hummingbird
import HummingbirdTesting
import SlipwayAPI
import SlipwayFeedback
import SlipwayMetrics
import SlipwayMonitoring
import SlipwayRegistry
import SlipwayServer
import SlipwayTraffic
import Testing

@Suite struct OpenAPIDocumentTests {
    static let committedDocument = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.json")

    /// `GET /api/v1/models/:owner/:name` → `GET /api/v1/models/{owner}/{name}`.
    static func openAPIPath(_ method: String, _ path: String) -> String {
        let segments = path.split(separator: "/").map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }
        return "\(method.uppercased()) /\(segments.joined(separator: "/"))"
    }

    /// The routes the router actually has, built the way the server builds it.
    static func routerRoutes() async throws -> [String] {
        try await withServer { api in
            let router = Router(context: SlipwayRequestContext.self)
            ManagementAPI(registry: api.registry, readiness: {}).register(on: router)
            PredictionAPI(registry: api.registry, predictor: api.server.slipway.host).register(on: router)
            SlipwayMetrics().register(on: router)
            StatisticsAPI(
                reader: StatisticsReader(
                    registry: api.registry,
                    repository: try #require(api.registry.repository as? any StatisticsRepository),
                    recorder: nil,
                    configuration: StatisticsConfiguration()
                )
            ).register(on: router)
            FeedbackAPI(
                registry: api.registry,
                repository: try #require(api.registry.repository as? any FeedbackRepository),
                recorder: FeedbackRecorder(),
                configuration: FeedbackConfiguration()
            ).register(on: router)
            BatchJobsAPI(
                registry: api.registry,
                predictor: api.server.slipway.host,
                jobs: try #require(api.registry.repository as? any BatchJobRepository),
                runner: api.server.slipway.batchRunner,
                maximumBytes: 1 << 20
            ).register(on: router)
            TrafficAPI(
                registry: api.registry,
                lifecycle: nil,
                evaluator: RolloutEvaluator(
                    registry: api.registry,
                    feedback: try #require(api.registry.repository as? any FeedbackRepository)
                )
            ).register(on: router)
            return router.routes.map { Self.openAPIPath($0.method.rawValue, $0.path.description) }
        }
    }

    @Test func documentsEveryRouterRouteAndNothingElse() async throws {
        let routes = try await Self.routerRoutes()
        let documented = OpenAPIDocument.routes
        #expect(Set(routes).subtracting(documented).sorted() == [], "routes missing from the document")
        #expect(Set(documented).subtracting(routes).sorted() == [], "documented routes the router lacks")
        #expect(Set(routes).count == routes.count, "no route registered twice")
        #expect(Set(documented).count == documented.count, "no operation documented twice")
    }

    @Test func usesUniqueOperationIDs() async throws {
        try await withServer { api in
            let document = try await api.get("/api/v1/openapi.json")
            guard case .object(let paths) = try #require(document.json["paths"]) else {
                Issue.record("paths is not an object")
                return
            }
            var identifiers: [String] = []
            var operations = 0
            for (_, item) in paths {
                guard case .object(let methods) = item else { continue }
                for (_, operation) in methods {
                    operations += 1
                    identifiers.append(try #require(operation["operationId"]?.string))
                }
            }
            #expect(operations == OpenAPIDocument.routes.count)
            #expect(Set(identifiers).count == identifiers.count, "\(identifiers.sorted())")
        }
    }

    /// `SLIPWAY_WRITE_OPENAPI=1 swift test --filter OpenAPIDocumentTests` regenerates docs/openapi.json.
    @Test func matchesTheCommittedDocument() async throws {
        let served = try await withServer { api in try await api.get("/api/v1/openapi.json").body }
        if ProcessInfo.processInfo.environment["SLIPWAY_WRITE_OPENAPI"] == "1" {
            var text = served
            if text.last != UInt8(ascii: "\n") { text.append(UInt8(ascii: "\n")) }
            try text.write(to: Self.committedDocument)
            return
        }
        let committed = try Data(contentsOf: Self.committedDocument)
        let trimmed = committed.last == UInt8(ascii: "\n") ? committed.dropLast() : committed[...]
        #expect(
            Data(trimmed) == served,
            "docs/openapi.json is stale: run SLIPWAY_WRITE_OPENAPI=1 swift test --filter OpenAPIDocumentTests"
        )
    }
}
