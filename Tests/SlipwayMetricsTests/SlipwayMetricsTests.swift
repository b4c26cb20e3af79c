import Foundation
import Prometheus
import SlipwayRegistry
import SlipwayRuntime
import Testing

@testable import SlipwayMetrics

/// The value of the sample line `name{labels}` in `text` (labels as written), or `nil` when there is none.
func sampleValue(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

func refusal(_ code: String?, status: Int, surface: PredictionRecord.Surface = .teachableHub) -> PredictionRecord {
    PredictionRecord(
        requestID: UUID().uuidString,
        receivedAt: Date(),
        latency: 0.002,
        surface: surface,
        status: status,
        errorCode: code
    )
}

@Suite("Metrics units")
struct SlipwayMetricsUnitTests {
    @Test func eachApplicationCountsInItsOwnRegistry() {
        let first = SlipwayMetrics()
        let second = SlipwayMetrics()
        first.http.record(method: "GET", route: "/healthz", status: 200, seconds: 0.001)
        first.http.record(method: "GET", route: "/healthz", status: 200, seconds: 0.002)
        let one = String(decoding: first.render(), as: UTF8.self)
        let two = String(decoding: second.render(), as: UTF8.self)
        #expect(sampleValue(one, #"slipway_http_requests_total{method="GET",route="/healthz",status="200"}"#) == 2)
        #expect(sampleValue(two, #"slipway_http_requests_total{method="GET",route="/healthz",status="200"}"#) == nil)
    }

    @Test func unknownMethodsAndUnmatchedRoutesHaveBoundedLabels() {
        let metrics = SlipwayMetrics()
        #expect(HTTPMetrics.route(nil) == "unmatched")
        #expect(HTTPMetrics.route("NotFound") == "unmatched")
        #expect(HTTPMetrics.route("/v1/{owner}/{name}/predict") == "/v1/{owner}/{name}/predict")
        for index in 0..<50 {
            metrics.http.record(method: "BREW\(index)", route: "unmatched", status: 405, seconds: 0.001)
        }
        metrics.http.record(method: "GET", route: "unmatched", status: 999, seconds: 0.001)
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(sampleValue(text, #"slipway_http_requests_total{method="other",route="unmatched",status="405"}"#) == 50)
        #expect(sampleValue(text, #"slipway_http_requests_total{method="GET",route="unmatched",status="0"}"#) == 1)
        #expect(!text.contains("BREW"))
    }

    @Test func refusalsAreCountedByCodeAndSurface() {
        let metrics = SlipwayMetrics()
        metrics.predictions.record(refusal("overloaded", status: 503, surface: .inferenceProtocol))
        metrics.predictions.record(refusal("overloaded", status: 503))
        metrics.predictions.record(refusal("rate_limited", status: 429))
        metrics.predictions.record(refusal(nil, status: 500))
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(sampleValue(text, #"slipway_shed_requests_total{surface="v2"}"#) == 1)
        #expect(sampleValue(text, #"slipway_shed_requests_total{surface="v1"}"#) == 1)
        #expect(sampleValue(text, #"slipway_rate_limited_requests_total{surface="v1"}"#) == 1)
        #expect(sampleValue(text, #"slipway_rate_limited_requests_total{surface="v2"}"#) == 0)
        let unresolved = #"model="unresolved",environment="unresolved",version="unresolved""#
        #expect(sampleValue(text, "slipway_prediction_requests_total{\(unresolved)}") == 4)
        #expect(sampleValue(text, "slipway_prediction_errors_total{\(unresolved),code=\"overloaded\"}") == 2)
        #expect(sampleValue(text, "slipway_prediction_errors_total{\(unresolved),code=\"http_500\"}") == 1)
        // Refusals do not enter the latency histogram.
        #expect(sampleValue(text, "slipway_prediction_duration_seconds_count{\(unresolved)}") == 0)
    }

    @Test func errorCodesPerSeriesAreBounded() {
        let metrics = SlipwayMetrics()
        for index in 0..<(PredictionMetrics.errorCodeLimit + 20) {
            metrics.predictions.record(refusal("code_\(index)", status: 400))
        }
        let text = String(decoding: metrics.render(), as: UTF8.self)
        let errorLines = text.split(separator: "\n").filter { $0.hasPrefix("slipway_prediction_errors_total{") }
        #expect(errorLines.count == PredictionMetrics.errorCodeLimit + 1, "\(errorLines.count)")
        let unresolved = #"model="unresolved",environment="unresolved",version="unresolved""#
        #expect(sampleValue(text, "slipway_prediction_errors_total{\(unresolved),code=\"other\"}") == 20)
    }

    @Test func runtimeEventsAreCounted() {
        let metrics = SlipwayMetrics()
        let deployment = Deployment(
            id: UUID(),
            modelID: UUID(),
            environmentID: UUID(),
            environmentName: "production",
            version: 1,
            artifactDigest: String(repeating: "a", count: 64),
            artifactSize: 1,
            format: "onnx",
            summary: "",
            status: .pending,
            createdBy: .system,
            createdAt: Date()
        )
        metrics.runtime.didLoad(deployment, seconds: 0.2, succeeded: true)
        metrics.runtime.didLoad(deployment, seconds: 40, succeeded: false)
        metrics.runtime.didVerify(deployment, status: .verified)
        metrics.runtime.didVerify(deployment, status: .failed)
        metrics.runtime.didVerify(deployment, status: .failed)
        metrics.readLoadedModels { 7 }
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(sampleValue(text, #"slipway_model_load_duration_seconds_count{outcome="loaded"}"#) == 1)
        #expect(sampleValue(text, #"slipway_model_load_duration_seconds_bucket{outcome="loaded",le="0.25"}"#) == 1)
        #expect(sampleValue(text, #"slipway_model_load_duration_seconds_bucket{outcome="loaded",le="0.1"}"#) == 0)
        #expect(sampleValue(text, #"slipway_model_load_duration_seconds_bucket{outcome="failed",le="30.0"}"#) == 0)
        #expect(sampleValue(text, #"slipway_model_load_duration_seconds_bucket{outcome="failed",le="60.0"}"#) == 1)
        #expect(sampleValue(text, #"slipway_verifications_total{outcome="verified"}"#) == 1)
        #expect(sampleValue(text, #"slipway_verifications_total{outcome="failed"}"#) == 2)
        #expect(sampleValue(text, "slipway_loaded_models") == 7)
    }

    @Test func processStatIsParsed() {
        // The command name may hold spaces and parentheses; the fields count from the last ')'.
        var fields = (3...52).map { String($0 * 10) }
        fields[14 - 3] = "250"  // utime, ticks
        fields[15 - 3] = "150"  // stime
        fields[22 - 3] = "5000"  // starttime, ticks after boot
        fields[23 - 3] = "123456789"  // vsize, bytes
        fields[24 - 3] = "1000"  // rss, pages
        let stat = "4242 (slip way) (x)) " + fields.joined(separator: " ") + "\n"
        let system = "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"
        let metrics = ProcessMetrics.parse(stat: stat, systemStat: system, ticksPerSecond: 100, pageSize: 4096)
        #expect(metrics.cpuSeconds == 4)
        #expect(metrics.residentMemoryBytes == 4_096_000)
        #expect(metrics.virtualMemoryBytes == 123_456_789)
        #expect(metrics.startTimeSeconds == 1_700_000_050)
        #expect(
            ProcessMetrics.parse(stat: nil, systemStat: system, ticksPerSecond: 100, pageSize: 4096) == ProcessMetrics()
        )
        #expect(
            ProcessMetrics.parse(stat: "garbage", systemStat: nil, ticksPerSecond: 100, pageSize: 4096)
                == ProcessMetrics()
        )
        let truncated = ProcessMetrics.parse(stat: "1 (x) S 1 2", systemStat: nil, ticksPerSecond: 100, pageSize: 4096)
        #expect(truncated.cpuSeconds == nil && truncated.residentMemoryBytes == nil)

        var buffer: [UInt8] = []
        metrics.write(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(text.contains("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 4.0\n"))
        #expect(text.contains("process_resident_memory_bytes 4096000.0\n"))
        #expect(!text.contains("process_open_fds"), "values not read are left out")
    }

    @Test func tokensCompareWholly() throws {
        #expect(SlipwayMetrics.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!SlipwayMetrics.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!SlipwayMetrics.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!SlipwayMetrics.constantTimeEqual([], Array("a".utf8)))
        #expect(SlipwayMetrics.constantTimeEqual([], []))
        let open = SlipwayMetrics()
        try open.authorize(nil)
        let guarded = SlipwayMetrics(configuration: SlipwayMetrics.Configuration(token: "t0ken"))
        try guarded.authorize("Bearer t0ken")
        try guarded.authorize("bearer t0ken")
        for header in [nil, "Bearer", "Bearer ", "Bearer t0ke", "Bearer t0ken ", "Basic t0ken", "t0ken"] {
            #expect(throws: (any Error).self, "\(header ?? "none")") { try guarded.authorize(header) }
        }
    }
}
