import Foundation
import Logging
import Metrics
import SlipwayRegistry

/// Evaluates every alert rule: computes each rule's value over its window, and on a change between firing and
/// resolved records an activity event and queues the model's webhooks.
public struct AlertEvaluator: Sendable {
    let registry: any RegistryRepository
    let repository: any FeedbackRepository
    let drift: (any DriftSource)?
    let webhooks: WebhookSender
    let logger: Logger
    let metrics: (any MetricsFactory)?

    /// Creates an evaluator; `metrics` receives the key metric gauge (the global metrics system when `nil`).
    public init(
        registry: any RegistryRepository,
        repository: any FeedbackRepository,
        drift: (any DriftSource)?,
        webhooks: WebhookSender,
        logger: Logger,
        metrics: (any MetricsFactory)? = nil
    ) {
        self.registry = registry
        self.repository = repository
        self.drift = drift
        self.webhooks = webhooks
        self.logger = logger
        self.metrics = metrics
    }

    /// Evaluates all rules at `now`.
    public func evaluateAll(now: Date = Date()) async {
        let rules: [StoredAlertRule]
        do {
            rules = try await self.repository.allAlertRules()
        } catch {
            self.logger.info("reading alert rules failed", metadata: ["error": "\(error)"])
            return
        }
        for rule in rules {
            do {
                try await self.evaluate(rule, now: now)
            } catch {
                self.logger.info(
                    "evaluating an alert failed",
                    metadata: ["alert.name": "\(rule.name)", "error": "\(error)"]
                )
            }
        }
    }

    /// Evaluates one rule; returns the value it read (`nil`: no data, state kept).
    @discardableResult
    public func evaluate(_ rule: StoredAlertRule, now: Date) async throws -> Double? {
        guard let model = try await self.registry.model(id: rule.modelID),
            let metric = AlertRule.Metric(rawValue: rule.metric),
            let comparison = AlertRule.Comparison(rawValue: rule.comparison)
        else { return nil }
        let since = now.addingTimeInterval(-Double(rule.windowSeconds))
        let value: Double?
        switch metric {
        case .errorRate:
            let window = try await self.repository.requestWindow(
                modelID: model.id,
                environment: rule.environment,
                since: since
            )
            value = window.requests > 0 ? Double(window.errors) / Double(window.requests) : nil
        case .p99:
            let window = try await self.repository.requestWindow(
                modelID: model.id,
                environment: rule.environment,
                since: since
            )
            value = window.latencyPercentiles(0.99)[0].map { $0 * 1_000 }
        case .drift:
            value = try await self.drift?.drift(
                modelID: model.id,
                environment: rule.environment,
                windowSeconds: rule.windowSeconds
            )
        case .keyMetric:
            guard let keyMetric = model.keyMetric else {
                value = nil
                break
            }
            let joined = try await self.repository.joinedFeedback(
                modelID: model.id,
                environment: rule.environment,
                from: since,
                to: now,
                version: nil
            )
            let metrics = FeedbackMetrics.compute(joined.map(FeedbackMetrics.JoinedRow.init))
            value = metrics.value(named: keyMetric.name)
            if let value {
                KeyMetricGauge.record(
                    value,
                    model: model,
                    environment: rule.environment,
                    version: nil,
                    factory: self.metrics
                )
            }
        }
        guard let value else { return nil }
        let firing = comparison.holds(value, rule.threshold)
        guard firing != rule.isFiring else { return value }
        let action: ActivityEvent.Action = firing ? .alertFiring : .alertResolved
        let definition =
            "\(rule.metric) \(rule.comparison) \(AlertRule.number(rule.threshold)) over \(AlertRule.formatWindow(rule.windowSeconds))"
        let event = ActivityEvent(
            modelID: model.id,
            at: now,
            actor: .system,
            action: action,
            environment: rule.environment,
            detail: "\(rule.name): \(rule.metric) = \(Self.format(value)) (\(definition))"
        )
        try await self.repository.setAlertState(id: rule.id, isFiring: firing, at: now, event: event)
        self.logger.info(
            firing ? "alert firing" : "alert resolved",
            metadata: ["model.name": "\(model.fullName)", "alert.name": "\(rule.name)", "alert.value": "\(value)"]
        )
        let payload = WebhookPayload(
            event: action.rawValue,
            model: model.fullName,
            alert: rule.name,
            metric: rule.metric,
            op: rule.comparison,
            threshold: rule.threshold,
            window: AlertRule.formatWindow(rule.windowSeconds),
            environment: rule.environment,
            value: value,
            at: Self.timestamp(now)
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(payload)
        for webhook in try await self.repository.webhooks(modelID: model.id) {
            self.webhooks.enqueue(url: webhook.url, secret: webhook.secret, body: body)
        }
        return value
    }

    /// The body of a webhook POST.
    struct WebhookPayload: Codable {
        var event: String
        var model: String
        var alert: String
        var metric: String
        var op: String
        var threshold: Double
        var window: String
        var environment: String
        var value: Double
        var at: String
    }

    /// The nearest-rank percentile (`p` from 0 to 1) of `values`.
    static func format(_ value: Double) -> String {
        String(format: "%.4g", value)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// The key metric as a swift-metrics gauge `slipway_key_metric` with model, environment and version dimensions,
/// set whenever the key metric is computed (metrics API, key-metric alerts).
enum KeyMetricGauge {
    static func record(
        _ value: Double,
        model: Model,
        environment: String,
        version: Int?,
        factory: (any MetricsFactory)?
    ) {
        let dimensions = [
            ("model", model.fullName), ("environment", environment), ("version", version.map(String.init) ?? "all"),
            ("metric", model.keyMetric?.name ?? ""),
        ]
        if let factory {
            Gauge(label: "slipway_key_metric", dimensions: dimensions, factory: factory).record(value)
        } else {
            Gauge(label: "slipway_key_metric", dimensions: dimensions).record(value)
        }
    }
}
