import Metrics
import Synchronization

/// The `slipway_drift_psi` gauges: one per deployment served within the drift window and feature (plus
/// `feature="_predictions"` for the predictions), labelled `model`, `environment`, `version`, `feature`.
///
/// Gauges of deployments that left the window are destroyed, so the label set stays bounded by the deployments in
/// use and their features.
final class DriftGauges: Sendable {
    /// The `feature` label of the predictions' index.
    static let predictionsFeature = "_predictions"
    /// The gauge's label.
    static let label = "slipway_drift_psi"

    struct Key: Hashable {
        var model: String
        var environment: String
        var version: Int
        var feature: String

        var dimensions: [(String, String)] {
            [
                ("model", self.model), ("environment", self.environment), ("version", String(self.version)),
                ("feature", self.feature),
            ]
        }
    }

    private let factory: (any MetricsFactory)?
    // `Gauge` synchronises itself (its handler is thread-safe by the MetricsFactory contract).
    private let gauges = Mutex<[Key: Gauge]>([:])

    init(factory: (any MetricsFactory)?) {
        self.factory = factory
    }

    /// Sets every gauge in `values` and destroys the others.
    func update(_ values: [Key: Double]) {
        let stale: [Gauge] = self.gauges.withLock { gauges in
            var stale: [Gauge] = []
            for (key, gauge) in gauges where values[key] == nil {
                stale.append(gauge)
                gauges[key] = nil
            }
            for (key, value) in values {
                if gauges[key] == nil {
                    gauges[key] =
                        if let factory = self.factory {
                            Gauge(label: Self.label, dimensions: key.dimensions, factory: factory)
                        } else {
                            Gauge(label: Self.label, dimensions: key.dimensions)
                        }
                }
                gauges[key]!.record(value)
            }
            return stale
        }
        for gauge in stale { gauge.destroy() }
    }

    /// The current values (tests).
    var keys: Set<Key> { self.gauges.withLock { Set($0.keys) } }
}
