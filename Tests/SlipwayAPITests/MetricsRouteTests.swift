import Foundation
import HTTPTypes
import SlipwayMetrics
import SlipwayRuntime
import Testing

/// One sample of a Prometheus text exposition.
struct Sample: Sendable, CustomStringConvertible {
    var name: String
    var labels: [String: String]
    var value: Double

    var description: String { "\(self.name)\(self.labels) \(self.value)" }
}

/// A scraped exposition: its samples and its `# TYPE` lines.
struct Exposition: Sendable {
    var samples: [Sample] = []
    var types: [String: String] = [:]

    /// Parses the text format (version 0.0.4); records an issue for any line it cannot read.
    init(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { self.types[String(parts[2])] = String(parts[3]) }
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let sample = Self.parse(Substring(line)) else {
                Issue.record("cannot parse the exposition line '\(line)'", sourceLocation: sourceLocation)
                continue
            }
            self.samples.append(sample)
        }
    }

    static func parse(_ line: Substring) -> Sample? {
        var labels: [String: String] = [:]
        let name: Substring
        var rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = line[..<brace]
            rest = line[line.index(after: brace)...]
            while !rest.hasPrefix("}") {
                guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].hasPrefix("\"") else {
                    return nil
                }
                let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
                var value = ""
                var index = rest.index(equals, offsetBy: 2)
                while index < rest.endIndex, rest[index] != "\"" {
                    if rest[index] == "\\" { index = rest.index(after: index) }
                    guard index < rest.endIndex else { return nil }
                    value.append(rest[index])
                    index = rest.index(after: index)
                }
                guard index < rest.endIndex else { return nil }
                labels[key] = value
                rest = rest[rest.index(after: index)...]
                if rest.hasPrefix(",") { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = line[..<space]
            rest = line[space...]
        }
        let text = rest.trimmingCharacters(in: .whitespaces)
        let value: Double? =
            switch text {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            default: Double(text)
            }
        guard let value, !name.isEmpty else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    /// The samples named `name` whose labels include `labels`.
    func samples(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
        self.samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }

    /// The sum of the matching samples' values (0 when none match).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        self.samples(name, labels).reduce(0) { $0 + $1.value }
    }
}

extension TestAPI {
    /// Scrapes `/metrics` and parses it.
    func scrape(
        as credential: Credential = .anonymous,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Exposition {
        let reply = try await self.get("/metrics", as: credential)
        try #require(reply.status == .ok, "\(reply)", sourceLocation: sourceLocation)
        #expect(
            reply.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8",
            "\(reply.headers)",
            sourceLocation: sourceLocation
        )
        return Exposition(reply.text, sourceLocation: sourceLocation)
    }
}

// `/metrics` counts what this server did: HTTP requests by route template, predictions by model, environment and
// version, refusals by code, model loads, verifications, and the process's memory, CPU and files.
@Suite("Metrics endpoint")
struct MetricsRouteTests {
    static let iris = "/v1/admin/iris/predict/"
    static let row = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
    static let production = ["model": "admin/iris", "environment": "production", "version": "1"]

    @Test func predictionsAndRequestsAreCountedByTemplateAndDeployment() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let key = Credential.servingKey(
                try await api.createKey("serving", in: "admin/iris", environments: ["production"]).secret
            )
            for _ in 0..<3 {
                let answered = try await api.predict(Self.iris, as: key, json: Self.row)
                #expect(answered.status == .ok, "\(answered)")
            }
            let refused = try await api.predict(Self.iris, as: key, json: #"{"ndarray": [[1, 2]]}"#)
            let refusedCode = try #require(refused.json["code"]?.string, "\(refused)")
            let unknown = try await api.predict("/v1/admin/nope-secret-name/predict/", as: key, json: Self.row)
            #expect(unknown.status == .notFound, "\(unknown)")
            let unmatched = try await api.get("/no/such/route/xyz-42")
            #expect(unmatched.status == .notFound, "\(unmatched)")

            let metrics = try await api.scrape()
            #expect(metrics.types["slipway_prediction_requests_total"] == "counter")
            #expect(metrics.types["slipway_prediction_duration_seconds"] == "histogram")
            #expect(metrics.value("slipway_prediction_requests_total", Self.production) == 4)
            #expect(
                metrics.value("slipway_prediction_errors_total", Self.production.merging(["code": refusedCode]) { $1 })
                    == 1
            )
            #expect(metrics.value("slipway_prediction_errors_total", Self.production) == 1)
            #expect(metrics.value("slipway_prediction_duration_seconds_count", Self.production) == 3)
            #expect(metrics.value("slipway_prediction_duration_seconds_sum", Self.production) > 0)
            #expect(metrics.value("slipway_prediction_requests_total", ["model": "unresolved"]) == 1)
            #expect(
                metrics.value("slipway_prediction_errors_total", ["model": "unresolved", "code": "not_found"]) == 1
            )

            let predict = ["method": "POST", "route": "/v1/{owner}/{name}/predict"]
            #expect(metrics.value("slipway_http_requests_total", predict.merging(["status": "200"]) { $1 }) == 3)
            #expect(metrics.value("slipway_http_requests_total", predict.merging(["status": "404"]) { $1 }) == 1)
            #expect(
                metrics.value(
                    "slipway_http_request_duration_seconds_count",
                    predict.merging(["status_class": "2xx"]) { $1 }
                ) == 3
            )
            #expect(
                metrics.value("slipway_http_requests_total", ["method": "GET", "route": "unmatched", "status": "404"])
                    == 1
            )
            // Raw paths never become label values.
            let values = metrics.samples.flatMap { $0.labels.values }
            #expect(!values.contains { $0.contains("nope-secret-name") || $0.contains("xyz-42") }, "\(values)")

            #expect(metrics.value("slipway_loaded_models") >= 1)
            #expect(metrics.value("slipway_model_load_duration_seconds_count", ["outcome": "loaded"]) >= 1)
            #expect(metrics.value("slipway_model_load_duration_seconds_count", ["outcome": "failed"]) == 0)

            #if os(Linux)
            #expect(metrics.value("process_resident_memory_bytes") > 1_000_000)
            #expect(metrics.value("process_cpu_seconds_total") > 0)
            #expect(metrics.value("process_open_fds") >= 3)
            #expect(metrics.types["process_cpu_seconds_total"] == "counter")
            let started = metrics.value("process_start_time_seconds")
            let now = Date().timeIntervalSince1970
            #expect(started > now - 86_400 && started <= now + 1, "\(started) vs \(now)")
            #endif

            Self.expectSaneHistograms(metrics)
        }
    }

    /// Every histogram's buckets rise with `le`, and its `+Inf` bucket equals its count.
    static func expectSaneHistograms(_ metrics: Exposition, sourceLocation: SourceLocation = #_sourceLocation) {
        let histograms = metrics.types.filter { $0.value == "histogram" }.keys
        #expect(!histograms.isEmpty, sourceLocation: sourceLocation)
        for name in histograms {
            var series: [[String: String]: [(Double, Double)]] = [:]
            for sample in metrics.samples("\(name)_bucket") {
                var labels = sample.labels
                guard let bound = labels.removeValue(forKey: "le").flatMap({ $0 == "+Inf" ? .infinity : Double($0) })
                else {
                    Issue.record("\(sample) has no readable le", sourceLocation: sourceLocation)
                    continue
                }
                series[labels, default: []].append((bound, sample.value))
            }
            for (labels, buckets) in series {
                let sorted = buckets.sorted { $0.0 < $1.0 }
                #expect(
                    sorted.count >= 5,
                    "\(name)\(labels) has \(sorted.count) buckets",
                    sourceLocation: sourceLocation
                )
                #expect(sorted.last?.0 == .infinity, "\(name)\(labels)", sourceLocation: sourceLocation)
                for (lower, upper) in zip(sorted, sorted.dropFirst()) {
                    #expect(lower.1 <= upper.1, "\(name)\(labels) buckets decrease", sourceLocation: sourceLocation)
                }
                #expect(
                    sorted.last?.1 == metrics.value("\(name)_count", labels),
                    "\(name)\(labels): +Inf bucket and count differ",
                    sourceLocation: sourceLocation
                )
            }
        }
    }

    @Test func theScrapeTokenIsRequiredWhenConfigured() async throws {
        try await withServer(metrics: SlipwayMetrics.Configuration(token: "scrape-s3cret")) { api in
            let missing = try await api.get("/metrics")
            missing.expectError(.unauthorized, code: "unauthenticated", field: "Authorization", detailContains: "token")
            #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(missing.headers)")
            for credential in [
                Credential.bearer("scrape-s3cre"), .bearer("scrape-s3cret2"), .bearer("wrong"),
                .authorization("Basic c2NyYXBlOnMzY3JldA=="), .authorization("Bearer"),
            ] {
                let refused = try await api.get("/metrics", as: credential)
                refused.expectError(.unauthorized, code: "unauthenticated", field: "Authorization")
            }
            let metrics = try await api.scrape(as: .bearer("scrape-s3cret"))
            #expect(
                metrics.value("slipway_http_requests_total", ["route": "/metrics", "status": "401"]) == 6,
                "\(metrics.samples("slipway_http_requests_total"))"
            )
        }
        // Without a token the endpoint is open.
        try await withServer { api in
            _ = try await api.scrape()
        }
    }

    @Test func rateLimitedRequestsAreCounted() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let key = Credential.servingKey(
                try await api.createKey(
                    "serving",
                    in: "admin/iris",
                    environments: ["production"],
                    extra: #", "rate_limit": 1"#
                ).secret
            )
            var limited = 0
            for _ in 0..<4 {
                let reply = try await api.predict(Self.iris, as: key, json: Self.row)
                if reply.status == .tooManyRequests { limited += 1 }
            }
            let metrics = try await api.scrape()
            #expect(metrics.value("slipway_rate_limited_requests_total", ["surface": "v1"]) == Double(limited))
            #expect(
                metrics.value(
                    "slipway_prediction_errors_total",
                    Self.production.merging(["code": "rate_limited"]) { $1 }
                )
                    == Double(limited)
            )
            #expect(metrics.value("slipway_shed_requests_total") == 0)
            #expect(metrics.value("slipway_prediction_requests_total", Self.production) == 4)
        }
    }

    @Test func deploymentsPastTheSeriesLimitCountAsOther() async throws {
        try await withServer(metrics: SlipwayMetrics.Configuration(seriesLimit: 1)) { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            try await api.shipIrisExample("admin/iris", "staging")
            try await api.makeModel("admin/other-iris")
            try await api.shipIrisExample("admin/other-iris")
            let key = Credential.servingKey(
                try await api.createKey("serving", in: "admin/iris", environments: ["production", "staging"]).secret
            )
            let otherKey = Credential.servingKey(
                try await api.createKey("serving", in: "admin/other-iris", environments: ["production"]).secret
            )
            for path in [Self.iris, Self.iris + "?environment=staging", Self.iris + "?environment=staging"] {
                let reply = try await api.predict(path, as: key, json: Self.row)
                #expect(reply.status == .ok, "\(reply)")
            }
            let reply = try await api.predict("/v1/admin/other-iris/predict/", as: otherKey, json: Self.row)
            #expect(reply.status == .ok, "\(reply)")
            let metrics = try await api.scrape()
            #expect(metrics.value("slipway_prediction_requests_total", Self.production) == 1)
            let other = ["model": "other", "environment": "other", "version": "other"]
            #expect(metrics.value("slipway_prediction_requests_total", other) == 3)
            let models = Set(metrics.samples("slipway_prediction_requests_total").compactMap { $0.labels["model"] })
            #expect(models == ["admin/iris", "other"], "\(models)")
        }
    }

    @Test func verificationOutcomesAreCounted() async throws {
        try await withServer(runtime: ModelHost.Configuration()) { api in
            try await api.makeModel("admin/iris")
            let version = try await api.ship(
                "admin/iris",
                "production",
                file: try irisExampleModel(),
                schema: try irisExample("schema.json"),
                samples: try irisExample("samples.json"),
                classes: try irisExample("classes.json"),
                status: nil
            )
            let path = "/api/v1/models/admin/iris/environments/production/deployments/\(version)"
            var status = "pending"
            for _ in 0..<200 where status == "pending" {
                let reply = try await api.get(path, as: api.admin).json
                status = reply["status"]?.string ?? reply["status"]?["state"]?.string ?? "pending"
                if status == "pending" { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == "verified")
            let metrics = try await api.scrape()
            #expect(metrics.value("slipway_verifications_total", ["outcome": "verified"]) == 1)
            #expect(metrics.value("slipway_verifications_total", ["outcome": "failed"]) == 0)
        }
    }
}
