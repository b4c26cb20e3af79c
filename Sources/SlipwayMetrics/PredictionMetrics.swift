import Foundation
import Prometheus
import SlipwayRegistry
import SlipwayRuntime
import Synchronization

/// Prediction requests, errors and latencies by model (`owner/name`), environment and version, plus the
/// rate-limited and shed (overloaded) requests: a ``PredictionRecorder`` that only increments counters, so
/// ``record(_:)`` returns at once.
///
/// The label sets are bounded: at most ``seriesLimit`` model/environment/version series are kept, requests of
/// further deployments count under `other`; requests that never resolved a deployment (unknown model) count under
/// `unresolved`; at most ``errorCodeLimit`` error codes per series, further ones under `other`.
public final class PredictionMetrics: PredictionRecorder, Sendable {
    /// The seconds buckets of the prediction latency histogram.
    public static let buckets: [Double] = [
        0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ]
    /// The most error codes counted per series.
    public static let errorCodeLimit = 32

    /// One model/environment/version series.
    final class Series: Sendable {
        let labels: [(String, String)]
        let requests: Counter
        let duration: ValueHistogram
        let errors: Mutex<[String: Counter]>
        let registry: PrometheusCollectorRegistry

        init(labels: [(String, String)], registry: PrometheusCollectorRegistry) {
            self.labels = labels
            self.registry = registry
            self.requests = registry.makeCounter(descriptor: PredictionMetrics.requestsDescriptor, labels: labels)
            self.duration = registry.makeValueHistogram(
                descriptor: PredictionMetrics.durationDescriptor,
                labels: labels,
                buckets: PredictionMetrics.buckets
            )
            self.errors = Mutex([:])
        }

        func error(_ code: String) -> Counter {
            self.errors.withLock { errors in
                if let counter = errors[code] { return counter }
                let label = errors.count < PredictionMetrics.errorCodeLimit ? code : "other"
                if label == "other", let counter = errors["other"] { return counter }
                let counter = self.registry.makeCounter(
                    descriptor: PredictionMetrics.errorsDescriptor,
                    labels: self.labels + [("code", label)]
                )
                errors[label] = counter
                return counter
            }
        }
    }

    struct State {
        /// Series by deployment id.
        var byDeployment: [UUID: Series] = [:]
        /// Series by label values (`model`, `environment`, `version` joined), so that the limit counts label sets.
        var byLabels: [String: Series] = [:]
        var unresolved: Series?
        var other: Series?
    }

    static var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "slipway",
            metricName: "prediction_requests",
            unitName: "total",
            helpText: "Prediction requests (v1 and v2), answered or refused, by model, environment and version."
        )
    }
    static var errorsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "slipway",
            metricName: "prediction_errors",
            unitName: "total",
            helpText: "Refused prediction requests by model, environment, version and error code."
        )
    }
    static var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "slipway",
            metricName: "prediction_duration",
            unitName: "seconds",
            helpText: "Latency of answered prediction requests, by model, environment and version."
        )
    }

    /// The most model/environment/version series kept.
    public let seriesLimit: Int
    private let registry: PrometheusCollectorRegistry
    private let state: Mutex<State>
    private let rateLimited: [PredictionRecord.Surface: Counter]
    private let shed: [PredictionRecord.Surface: Counter]
    private let shadowPredictions: Counter
    private let failedShadowPredictions: Counter

    init(registry: PrometheusCollectorRegistry, seriesLimit: Int) {
        self.registry = registry
        self.seriesLimit = max(1, seriesLimit)
        self.state = Mutex(State())
        let rateLimited = MetricNameDescriptor(
            namespace: "slipway",
            metricName: "rate_limited_requests",
            unitName: "total",
            helpText: "Prediction requests refused by a serving key's rate limit (429), by surface."
        )
        let shed = MetricNameDescriptor(
            namespace: "slipway",
            metricName: "shed_requests",
            unitName: "total",
            helpText: "Prediction requests shed because the deployment's queue was full (503 overloaded), by surface."
        )
        var limited: [PredictionRecord.Surface: Counter] = [:]
        var overloaded: [PredictionRecord.Surface: Counter] = [:]
        for surface in [PredictionRecord.Surface.teachableHub, .inferenceProtocol] {
            limited[surface] = registry.makeCounter(descriptor: rateLimited, labels: [("surface", surface.rawValue)])
            overloaded[surface] = registry.makeCounter(descriptor: shed, labels: [("surface", surface.rawValue)])
        }
        self.rateLimited = limited
        self.shed = overloaded
        let shadows = MetricNameDescriptor(
            namespace: "slipway",
            metricName: "shadow_predictions",
            unitName: "total",
            helpText: "Copies of live requests answered by shadow deployments (their statistics hold the details), "
                + "by outcome."
        )
        self.shadowPredictions = registry.makeCounter(descriptor: shadows, labels: [("outcome", "answered")])
        self.failedShadowPredictions = registry.makeCounter(descriptor: shadows, labels: [("outcome", "failed")])
    }

    /// Counts one request.
    public func record(_ record: PredictionRecord) {
        guard !record.isShadow else {
            (record.succeeded ? self.shadowPredictions : self.failedShadowPredictions).increment()
            return
        }
        let series = self.series(for: record.prepared)
        series.requests.increment()
        if let code = record.errorCode ?? (record.succeeded ? nil : "http_\(record.status)") {
            series.error(code).increment()
            switch code {
            case "rate_limited": self.rateLimited[record.surface]?.increment()
            case "overloaded": self.shed[record.surface]?.increment()
            default: break
            }
        } else {
            series.duration.record(record.latency)
        }
    }

    /// The series a deployment counts in.
    func series(for prepared: PreparedModel?) -> Series {
        guard let prepared else {
            if let series = self.state.withLock({ $0.unresolved }) { return series }
            return self.makeSeries(id: nil, labels: ("unresolved", "unresolved", "unresolved"))
        }
        let id = prepared.deployment.id
        if let series = self.state.withLock({ $0.byDeployment[id] }) { return series }
        return self.makeSeries(
            id: id,
            labels: (prepared.model.fullName, prepared.environment, String(prepared.deployment.version))
        )
    }

    /// Finds or makes the series under the lock (rare: once per deployment), so that the limit holds exactly.
    private func makeSeries(id: UUID?, labels: (model: String, environment: String, version: String)) -> Series {
        let key = "\(labels.model)\u{0}\(labels.environment)\u{0}\(labels.version)"
        let registry = self.registry
        let limit = self.seriesLimit
        func make(_ values: (String, String, String)) -> Series {
            Series(labels: [("model", values.0), ("environment", values.1), ("version", values.2)], registry: registry)
        }
        return self.state.withLock { state in
            guard let id else {
                if let series = state.unresolved { return series }
                let made = make(labels)
                state.unresolved = made
                return made
            }
            if let series = state.byLabels[key] {
                state.byDeployment[id] = series
                return series
            }
            guard state.byLabels.count < limit else {
                if let other = state.other { return other }
                let made = make(("other", "other", "other"))
                state.other = made
                return made
            }
            let made = make(labels)
            state.byLabels[key] = made
            state.byDeployment[id] = made
            return made
        }
    }

    /// How many model/environment/version series exist (tests check the bound).
    var seriesCount: Int {
        self.state.withLock { $0.byLabels.count }
    }
}
