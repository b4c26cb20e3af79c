import Prometheus
import SlipwayRegistry
import SlipwayRuntime

/// Model loads (count and time, by outcome) and verification outcomes: the model host's ``RuntimeObserver``.
public final class RuntimeMetrics: RuntimeObserver, Sendable {
    /// The seconds buckets of the model load time histogram.
    public static let buckets: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    private let loaded: ValueHistogram
    private let loadFailed: ValueHistogram
    private let verified: Counter
    private let failed: Counter

    init(registry: PrometheusCollectorRegistry) {
        let load = MetricNameDescriptor(
            namespace: "slipway",
            metricName: "model_load_duration",
            unitName: "seconds",
            helpText: "Time to read and prepare a deployment's artifact into a session, by outcome (loaded or failed)."
        )
        self.loaded = registry.makeValueHistogram(
            descriptor: load,
            labels: [("outcome", "loaded")],
            buckets: Self.buckets
        )
        self.loadFailed = registry.makeValueHistogram(
            descriptor: load,
            labels: [("outcome", "failed")],
            buckets: Self.buckets
        )
        let verifications = MetricNameDescriptor(
            namespace: "slipway",
            metricName: "verifications",
            unitName: "total",
            helpText: "Deployment verifications recorded by this process, by outcome (verified or failed)."
        )
        self.verified = registry.makeCounter(descriptor: verifications, labels: [("outcome", "verified")])
        self.failed = registry.makeCounter(descriptor: verifications, labels: [("outcome", "failed")])
    }

    public func didLoad(_ deployment: Deployment, seconds: Double, succeeded: Bool) {
        (succeeded ? self.loaded : self.loadFailed).record(seconds)
    }

    public func didVerify(_ deployment: Deployment, status: DeploymentStatus) {
        switch status {
        case .verified: self.verified.increment()
        case .failed: self.failed.increment()
        case .pending: break
        }
    }
}
