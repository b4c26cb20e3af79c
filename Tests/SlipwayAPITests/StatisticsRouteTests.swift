import Foundation
import HTTPTypes
import SlipwayMonitoring
import SlipwayRegistry
import SlipwayServer
import Testing

// The statistics, drift and monitoring-settings routes (docs/monitoring.md) on a real server: statistics are readable
// right after predicting, counted per deployment, and every bad query is a 400 naming the parameter.
@Suite(.timeLimit(.minutes(2))) struct StatisticsRouteTests {
    static let stats = "/api/v1/models/admin/iris/environments/production/deployments/1/stats"

    /// A server with `admin/iris` (the example, active in production) and a production serving key.
    func withIris(_ body: @Sendable (TestAPI, Credential) async throws -> Void) async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let created = try await api.createKey("serving", in: "admin/iris", environments: ["production"])
            try await body(api, .servingKey(created.secret))
        }
    }

    @Test func countsPredictionsRightAway() async throws {
        try await self.withIris { api, key in
            let rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
            let json =
                "[" + rows.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
            var classes: [String: Int] = [:]
            for _ in 0..<3 {
                let reply = try await api.predict("/v1/admin/iris/predict/", as: key, json: #"{"ndarray": \#(json)}"#)
                try #require(reply.status == .ok, "\(reply)")
                for row in reply.json["predictions"]?.array ?? [] {
                    let top = reply.classItems(row).max { $0.1 < $1.1 }
                    classes[top?.0 ?? "?", default: 0] += 1
                }
            }
            let refused = try await api.predict("/v1/admin/iris/predict/", as: key, json: #"{"ndarray": [[1, 2]]}"#)
            #expect(refused.status.code >= 400)

            let reply = try await api.get(Self.stats, as: api.admin)
            try #require(reply.status == .ok, "\(reply)")
            let total = try #require(reply.json["total"])
            #expect(total["requests"]?.int == 4 && total["errors"]?.int == 1, "\(total)")
            #expect(total["rows"]?.int == 9)
            #expect(total["latency_ms"]?["count"]?.int == 4)
            let p99 = try #require(total["latency_ms"]?["p99"]?.double)
            #expect(p99 > 0 && p99 >= (total["latency_ms"]?["p50"]?.double ?? .infinity))
            let predicted = total["predictions"]?["classes"]
            for (name, count) in classes { #expect(predicted?[name]?.int == count, "\(name): \(total)") }
            let features = total["features"]?.array ?? []
            #expect(
                features.map { $0["name"]?.string ?? "?" } == [
                    "sepal_length", "sepal_width", "petal_length", "petal_width",
                ]
            )
            let sepal = try #require(features.first)
            #expect(sepal["count"]?.int == 9 && sepal["missing"]?.int == 0 && sepal["kind"]?.string == "numeric")
            #expect(abs((sepal["min"]?.double ?? 0) - 5.1) < 1e-5 && abs((sepal["max"]?.double ?? 0) - 6.7) < 1e-5)
            #expect(abs((sepal["mean"]?.double ?? 0) - (5.1 + 6.7 + 5.9) / 3) < 1e-5)
            #expect(sepal["histogram"]?["counts"]?.array?.compactMap(\.int).reduce(0, +) == 9)
            let buckets = reply.json["buckets"]?.array ?? []
            #expect(buckets.compactMap { $0["requests"]?.int }.reduce(0, +) == 4)
            #expect(reply.json["bucket"]?.string == "minute" && reply.json["is_active"]?.bool == true)
            let drift = try #require(reply.json["drift"])
            #expect(drift["threshold"]?.double == 0.2 && drift["reference"]?["rows"]?.int == 3)
            #expect(drift["features"]?.keys == ["sepal_length", "sepal_width", "petal_length", "petal_width"])
            #expect(drift["predictions"]?.double != nil, "\(drift)")

            // The environment's summary lists the deployment with the same totals.
            let environment = try await api.get(
                "/api/v1/models/admin/iris/environments/production/stats?bucket=hour",
                as: api.admin
            )
            try #require(environment.status == .ok, "\(environment)")
            #expect(environment.json["total"]?["requests"]?.int == 4)
            #expect(environment.json["deployments"]?[0]?["version"]?.int == 1)
            #expect(environment.json["deployments"]?[0]?["total"]?["requests"]?.int == 4)
        }
    }

    /// Drift alert rules read `StatisticsReader.currentDrift`: the largest index of the active deployment.
    @Test func currentDriftIsTheLargestIndexOfTheActiveDeployment() async throws {
        try await self.withIris { api, key in
            let shifted = #"{"ndarray": [[7.9, 2.0, 6.9, 2.5], [7.7, 2.2, 6.7, 2.4], [7.6, 2.1, 6.6, 2.3]]}"#
            for _ in 0..<5 {
                let reply = try await api.predict("/v1/admin/iris/predict/", as: key, json: shifted)
                try #require(reply.status == .ok, "\(reply)")
            }
            let slipway = api.server.slipway
            let statistics = try #require(slipway.statistics)
            let reader = StatisticsReader(
                registry: slipway.registry,
                repository: try #require(slipway.registry.repository as? any StatisticsRepository),
                recorder: statistics,
                configuration: StatisticsConfiguration()
            )
            let model = try #require(try await slipway.registry.repository.model(owner: "admin", name: "iris"))
            let drift = try #require(
                try await reader.currentDrift(modelID: model.id, environment: "production", windowSeconds: 3_600)
            )
            let reply = try await api.get(Self.stats, as: api.admin)
            let features = reply.json["drift"]?["features"]
            let indexes =
                ["sepal_length", "sepal_width", "petal_length", "petal_width"].compactMap { features?[$0]?.double }
                + [reply.json["drift"]?["predictions"]?.double].compactMap { $0 }
            #expect(drift > 0.2, "\(reply.json["drift"] ?? .null)")
            #expect(abs(drift - (indexes.max() ?? -1)) < 1e-9, "\(drift) vs \(indexes)")
            // No active deployment, no drift.
            try await api.createEnvironment("qa", in: "admin/iris")
            #expect(try await reader.currentDrift(modelID: model.id, environment: "qa", windowSeconds: 600) == nil)
        }
    }

    @Test func summarisesEveryDeploymentOfTheEnvironment() async throws {
        try await self.withIris { api, key in
            let row = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            for _ in 0..<2 {
                #expect(try await api.predict("/v1/admin/iris/predict/", as: key, json: row).status == .ok)
            }
            #expect(try await api.shipIrisExample("admin/iris") == 2)
            for _ in 0..<3 {
                #expect(try await api.predict("/v1/admin/iris/predict/", as: key, json: row).status == .ok)
            }
            let reply = try await api.get("/api/v1/models/admin/iris/environments/production/stats", as: api.admin)
            try #require(reply.status == .ok, "\(reply)")
            let deployments = reply.json["deployments"]?.array ?? []
            #expect(deployments.compactMap { $0["version"]?.int } == [2, 1], "\(reply)")
            #expect(deployments.compactMap { $0["total"]?["requests"]?.int } == [3, 2])
            #expect(deployments.compactMap { $0["is_active"]?.bool } == [true, false])
            #expect(reply.json["total"]?["requests"]?.int == 5)
            #expect(reply.json["total"]?["predictions"]?["classes"]?["setosa"]?.int == 5)
            // Each deployment's own statistics.
            let first = try await api.get(Self.stats, as: api.admin)
            #expect(first.json["total"]?["requests"]?.int == 2 && first.json["is_active"]?.bool == false)
        }
    }

    @Test func countsTheOpenInferenceProtocolToo() async throws {
        try await self.withIris { api, key in
            let reply = try await api.post(
                "/v2/models/admin__iris/infer",
                as: key,
                json:
                    #"{"inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]}]}"#
            )
            try #require(reply.status == .ok, "\(reply)")
            let stats = try await api.get(Self.stats, as: api.admin)
            #expect(stats.json["total"]?["requests"]?.int == 1 && stats.json["total"]?["rows"]?.int == 2, "\(stats)")
            #expect(stats.json["total"]?["features"]?[0]?["name"]?.string == "sepal_length")
        }
    }

    @Test(arguments: [
        ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        ("from=1700000000&to=1700000000", "to"),
        ("from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z", "from"),
        ("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=hour", "from"),
        ("bucket=day", "bucket"),
        ("from=yesterday", "from"),
        ("to=nan", "to"),
        ("from=-5", "from"),
        ("to=1e300", "to"),
    ])
    func refusesBadRangesNamingTheParameter(_ query: String, field: String) async throws {
        try await self.withIris { api, _ in
            let reply = try await api.get("\(Self.stats)?\(query)", as: api.admin)
            reply.expectError(.badRequest, code: "invalid_input", field: field)
        }
    }

    @Test func refusesUnknownDeploymentsAndCallersWhoMayNotRead() async throws {
        try await self.withIris { api, key in
            let base = "/api/v1/models/admin/iris/environments/production"
            try await api.get("\(base)/deployments/9/stats", as: api.admin).expectError(.notFound, code: "not_found")
            try await api.get("\(base)/deployments/abc/stats", as: api.admin)
                .expectError(.badRequest, code: "invalid_input", field: "version")
            try await api.get("/api/v1/models/admin/iris/environments/nope/stats", as: api.admin)
                .expectError(.notFound, code: "not_found")
            // A private model is hidden from anonymous callers; serving keys are for predictions only.
            try await api.get(Self.stats).expectError(.notFound, code: "not_found")
            try await api.get(Self.stats, as: key).expectError(.forbidden, code: "forbidden")
            // Hour buckets allow long ranges.
            let long = try await api.get(
                "\(Self.stats)?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&bucket=hour",
                as: api.admin
            )
            #expect(long.status == .ok, "\(long)")
            #expect(long.json["buckets"]?.array?.isEmpty == true)
        }
    }

    @Test func ownersSetTheDriftThreshold() async throws {
        try await self.withIris { api, _ in
            let path = "/api/v1/models/admin/iris/monitoring"
            let initial = try await api.get(path, as: api.admin)
            #expect(initial.status == .ok && initial.json["drift_threshold"]?.double == 0.2, "\(initial)")
            #expect(initial.json["is_default"]?.bool == true)

            let changed = try await api.put(path, as: api.admin, json: #"{"drift_threshold": 0.35}"#)
            #expect(changed.status == .ok && changed.json["drift_threshold"]?.double == 0.35, "\(changed)")
            #expect(try await api.get(path, as: api.admin).json["is_default"]?.bool == false)
            #expect(try await api.get(Self.stats, as: api.admin).json["drift"]?["threshold"]?.double == 0.35)
            let activity = try await api.get(
                "/api/v1/models/admin/iris/activity?action=monitoring.updated",
                as: api.admin
            )
            #expect(activity.json[0]?["action"]?.string == "monitoring.updated", "\(activity)")
            #expect(activity.json[0]?["detail"]?.string?.contains("0.35") == true, "\(activity)")

            for body in [
                #"{"drift_threshold": 0}"#, #"{"drift_threshold": -1}"#, #"{"drift_threshold": 11}"#,
                #"{"drift_threshold": "high"}"#, #"{}"#, #"{"drift_threshold": null}"#,
            ] {
                try await api.put(path, as: api.admin, json: body)
                    .expectError(.badRequest, code: "invalid_input", field: "drift_threshold")
            }
            try await api.put(path, as: api.admin, json: #"{"driftThreshold": 0.3}"#)
                .expectError(.badRequest, code: "invalid_input", field: "driftThreshold")
            #expect(try await api.get(path, as: api.admin).json["drift_threshold"]?.double == 0.35)

            // Maintainers of the owning organisation read but may not change it; anonymous callers must sign in.
            try await api.createOrganization("acme", as: api.admin)
            try await api.makeModel("acme/churn")
            let maria = try await api.createUser("maria")
            try await api.setMember("maria", role: "maintainer", in: "acme")
            let acme = "/api/v1/models/acme/churn/monitoring"
            #expect(try await api.get(acme, as: maria).status == .ok)
            try await api.put(acme, as: maria, json: #"{"drift_threshold": 0.3}"#).expectError(
                .forbidden,
                code: "forbidden"
            )
            try await api.put(acme, json: #"{"drift_threshold": 0.3}"#).expectError(.notFound, code: "not_found")
        }
    }
}
