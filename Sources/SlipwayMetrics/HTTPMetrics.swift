import HTTPTypes
import Hummingbird
import Prometheus
import SlipwayAPI
import Synchronization

/// HTTP requests by method, route template and status, and their durations.
///
/// The route is the router's matched template (`/v1/{owner}/{name}/predict`), never the path as sent, and every
/// request that matched no route counts under `unmatched`, so the label set is bounded by the routes the server has.
public final class HTTPMetrics: Sendable {
    /// The seconds buckets of the request duration histogram.
    public static let buckets: [Double] = [
        0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
    /// The methods counted by name; any other counts as `other`.
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    struct Key: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    struct Series {
        var requests: Counter
        var duration: ValueHistogram
    }

    private let registry: PrometheusCollectorRegistry
    private let series: Mutex<[Key: Series]>
    private var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "slipway",
            metricName: "http_requests",
            unitName: "total",
            helpText: "HTTP requests answered, by method, route template and status."
        )
    }
    private var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "slipway",
            metricName: "http_request_duration",
            unitName: "seconds",
            helpText: "Time from a request's arrival to its response head, by method, route template and status class."
        )
    }

    /// Requests answered by the HTTP fast path (also counted in the series above).
    private let fastPath: Counter

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.series = Mutex([:])
        self.fastPath = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "slipway",
                metricName: "http_fast_path_requests",
                unitName: "total",
                helpText: "Requests answered on the network thread that read them, before the router."
            )
        )
    }

    /// Counts one request the fast path answered.
    public func recordFastPath() {
        self.fastPath.increment()
    }

    /// The route label for a matched endpoint path (`nil` or Hummingbird's `NotFound` when none matched).
    static func route(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath != "NotFound" else { return "unmatched" }
        return endpointPath
    }

    /// Counts one request that took `elapsed`.
    public func record(method: String, route: String, status: Int, elapsed: Duration) {
        self.record(
            method: method,
            route: route,
            status: status,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }

    /// Counts one request.
    public func record(method: String, route: String, status: Int, seconds: Double) {
        let key = Key(
            method: Self.knownMethods.contains(method) ? method : "other",
            route: route,
            status: (100...599).contains(status) ? status : 0
        )
        let series =
            self.series.withLock { $0[key] } ?? self.makeSeries(key)
        series.requests.increment()
        series.duration.record(seconds)
    }

    private func makeSeries(_ key: Key) -> Series {
        self.series.withLock { series in
            if let existing = series[key] { return existing }
            let status = String(key.status)
            let made = Series(
                requests: self.registry.makeCounter(
                    descriptor: self.requestsDescriptor,
                    labels: [("method", key.method), ("route", key.route), ("status", status)]
                ),
                duration: self.registry.makeValueHistogram(
                    descriptor: self.durationDescriptor,
                    labels: [("method", key.method), ("route", key.route), ("status_class", "\(key.status / 100)xx")],
                    buckets: Self.buckets
                )
            )
            series[key] = made
            return made
        }
    }
}

/// Counts every request into ``HTTPMetrics``: add it to the router before any route so that it wraps all routes
/// and the not-found responder.
public struct HTTPMetricsMiddleware: RouterMiddleware {
    public typealias Context = SlipwayRequestContext

    let metrics: HTTPMetrics

    /// Creates the middleware.
    public init(metrics: HTTPMetrics) {
        self.metrics = metrics
    }

    @concurrent
    public func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            self.record(request, context, status: Int(response.status.code), started: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            self.record(request, context, status: Int(status), started: started)
            throw error
        }
    }

    func record(_ request: Request, _ context: Context, status: Int, started: ContinuousClock.Instant) {
        self.metrics.record(
            method: request.method.rawValue,
            route: HTTPMetrics.route(context.endpointPath),
            status: status,
            elapsed: ContinuousClock.now - started
        )
    }
}
