import Prometheus
import Synchronization

/// The Prometheus metrics of one Slipway application: its own ``PrometheusCollectorRegistry`` (never the process's
/// global `MetricsSystem`, so several servers in one process, as in the tests, each count only their own traffic),
/// the HTTP middleware, the prediction recorder, the runtime observer and the `/metrics` rendering.
///
/// Components that prefer the swift-metrics API can use ``factory`` (`Counter(label:dimensions:factory:)`), which
/// writes into the same registry.
public final class SlipwayMetrics: Sendable {
    /// Settings of the metrics endpoint.
    public struct Configuration: Sendable {
        /// The bearer token `GET /metrics` requires; `nil` leaves it open.
        public var token: String?
        /// The most distinct model/environment/version series the prediction metrics keep; requests of further
        /// deployments are counted under `other`. Default 500.
        public var seriesLimit: Int

        /// Creates the settings.
        public init(token: String? = nil, seriesLimit: Int = 500) {
            self.token = token
            self.seriesLimit = max(1, seriesLimit)
        }
    }

    /// The settings.
    public let configuration: Configuration
    /// The registry every Slipway metric of this application lives in.
    public let registry: PrometheusCollectorRegistry
    /// A swift-metrics factory writing into ``registry``.
    public let factory: PrometheusMetricsFactory
    /// Counts HTTP requests by route template and status.
    public let http: HTTPMetrics
    /// Counts prediction requests, errors and latencies; hand it to the prediction routes as a recorder.
    public let predictions: PredictionMetrics
    /// Counts model loads and verification outcomes; put it in `ModelHost.Configuration.observer`.
    public let runtime: RuntimeMetrics
    private let loadedModels: Gauge
    private let loadedModelsSource: Mutex<(@Sendable () -> Int)?>

    /// Creates the metrics of one application on a fresh registry.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
        self.http = HTTPMetrics(registry: registry)
        self.predictions = PredictionMetrics(registry: registry, seriesLimit: configuration.seriesLimit)
        self.runtime = RuntimeMetrics(registry: registry)
        self.loadedModels = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "slipway",
                metricName: "loaded_models",
                unitName: "",
                helpText: "Deployments whose model session is loaded in this process."
            )
        )
        self.loadedModelsSource = Mutex(nil)
    }

    /// Where the loaded-models gauge is read from at each scrape (the model host's count).
    public func readLoadedModels(from source: @escaping @Sendable () -> Int) {
        self.loadedModelsSource.withLock { $0 = source }
    }

    /// The metrics in the Prometheus text format (version 0.0.4): the registry's metrics, then the process metrics
    /// read from `/proc` now.
    public func render() -> [UInt8] {
        if let source = self.loadedModelsSource.withLock({ $0 }) {
            self.loadedModels.set(Double(source()))
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16_384)
        self.registry.emit(into: &buffer)
        ProcessMetrics.read().write(into: &buffer)
        return buffer
    }
}
