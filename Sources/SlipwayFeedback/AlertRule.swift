import Foundation
import SlipwayAPI
import SlipwayRegistry

/// An alert rule as written: a metric compared with a threshold over a window in one environment.
///
/// Written as JSON fields (`{"name": "p99", "metric": "p99_ms", "op": ">", "threshold": 20, "window": "5m",
/// "environment": "production"}`) or in the compact form `"p99_ms > 20 over 5m in production"`.
public struct AlertRule: Hashable, Sendable {
    /// What a rule watches.
    public enum Metric: String, Hashable, Sendable, CaseIterable {
        /// The share of requests the server failed (5xx, 429) among all requests of the window.
        case errorRate = "error_rate"
        /// The 99th percentile of answered requests' server latency, in milliseconds.
        case p99 = "p99_ms"
        /// The population stability index from the ``DriftSource``.
        case drift
        /// The model's key metric over the window's feedback.
        case keyMetric = "key_metric"
    }

    /// How the value is compared with the threshold.
    public enum Comparison: String, Hashable, Sendable, CaseIterable {
        case greater = ">"
        case greaterOrEqual = ">="
        case less = "<"
        case lessOrEqual = "<="

        /// Whether `value` breaks the rule.
        public func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .greater: value > threshold
            case .greaterOrEqual: value >= threshold
            case .less: value < threshold
            case .lessOrEqual: value <= threshold
            }
        }
    }

    /// The rule's name, unique in the model.
    public var name: String
    /// The metric.
    public var metric: Metric
    /// The comparison.
    public var comparison: Comparison
    /// The threshold.
    public var threshold: Double
    /// The window in seconds (1 minute to 7 days).
    public var windowSeconds: Int
    /// The environment watched.
    public var environment: String

    /// Creates a rule.
    public init(
        name: String,
        metric: Metric,
        comparison: Comparison,
        threshold: Double,
        windowSeconds: Int,
        environment: String
    ) {
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.environment = environment
    }

    /// The shortest and longest windows.
    public static let windowRange = 60...(7 * 86_400)

    /// Parses `30s`, `5m`, `1h`, `7d` into seconds, within ``windowRange``.
    public static func parseWindow(_ text: String, field: String = "window") throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = trimmed.last, let count = Int(trimmed.dropLast()), count > 0 else {
            throw APIError.invalid(field, "\(field) must be a number and a unit s, m, h or d (e.g. 5m), got '\(text)'")
        }
        let scale: Int
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3_600
        case "d": scale = 86_400
        default:
            throw APIError.invalid(field, "\(field) must end in a unit s, m, h or d (e.g. 5m), got '\(text)'")
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: scale)
        guard !overflow, self.windowRange.contains(seconds) else {
            throw APIError.invalid(field, "\(field) must be from 1m to 7d, got '\(text)'")
        }
        return seconds
    }

    /// Writes a window back in the largest whole unit (`300` → `5m`).
    public static func formatWindow(_ seconds: Int) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    /// Checks and builds a rule from its parts; each bad part is a 400 naming its field.
    public static func make(
        name: String?,
        metric: String?,
        op: String?,
        threshold: Double?,
        window: String?,
        environment: String?
    ) throws -> AlertRule {
        guard let name else { throw APIError.invalid("name", "name is required") }
        guard Names.isValid(name) else {
            throw APIError.invalid("name", "name '\(name)' must be lowercase letters, digits and dashes")
        }
        guard let metricText = metric else {
            throw APIError.invalid("metric", "metric is required (\(Self.metricList))")
        }
        guard let metric = Metric(rawValue: metricText) else {
            throw APIError.invalid("metric", "metric must be one of \(Self.metricList), got '\(metricText)'")
        }
        guard let opText = op else { throw APIError.invalid("op", "op is required (>, >=, <, <=)") }
        guard let comparison = Comparison(rawValue: opText) else {
            throw APIError.invalid("op", "op must be one of >, >=, <, <=, got '\(opText)'")
        }
        guard let threshold else { throw APIError.invalid("threshold", "threshold is required (a number)") }
        guard threshold.isFinite else { throw APIError.invalid("threshold", "threshold must be a finite number") }
        if metric == .errorRate, !(0...1).contains(threshold) {
            throw APIError.invalid("threshold", "an error_rate threshold is a share from 0 to 1, got \(threshold)")
        }
        if metric == .p99 || metric == .drift, threshold < 0 {
            throw APIError.invalid("threshold", "a \(metric.rawValue) threshold must not be negative")
        }
        let environment = environment ?? "production"
        guard Names.isValid(environment) else {
            throw APIError.invalid("environment", "environment '\(environment)' is not a valid environment name")
        }
        return AlertRule(
            name: name,
            metric: metric,
            comparison: comparison,
            threshold: threshold,
            windowSeconds: try self.parseWindow(window ?? "5m"),
            environment: environment
        )
    }

    /// Parses the compact form `METRIC OP THRESHOLD [over WINDOW] [in ENVIRONMENT]`.
    public static func parse(compact text: String, name: String?) throws -> AlertRule {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count >= 3 else {
            throw APIError.invalid(
                "rule",
                "rule must read METRIC OP THRESHOLD [over WINDOW] [in ENVIRONMENT], e.g. 'p99_ms > 20 over 5m', got '\(text)'"
            )
        }
        guard let threshold = Double(words[2]) else {
            throw APIError.invalid("rule", "the threshold in rule must be a number, got '\(words[2])'")
        }
        var window: String?
        var environment: String?
        var index = 3
        while index < words.count {
            guard index + 1 < words.count else {
                throw APIError.invalid("rule", "'\(words[index])' in rule must be followed by a value")
            }
            switch words[index] {
            case "over", "for": window = words[index + 1]
            case "in": environment = words[index + 1]
            default:
                throw APIError.invalid(
                    "rule",
                    "rule may continue with 'over WINDOW' or 'in ENVIRONMENT', got '\(words[index])'"
                )
            }
            index += 2
        }
        return try self.make(
            name: name,
            metric: words[0],
            op: words[1],
            threshold: threshold,
            window: window,
            environment: environment
        )
    }

    static var metricList: String { Metric.allCases.map(\.rawValue).joined(separator: ", ") }

    /// The compact form of the rule.
    public var compact: String {
        "\(self.metric.rawValue) \(self.comparison.rawValue) \(Self.number(self.threshold)) over \(Self.formatWindow(self.windowSeconds)) in \(self.environment)"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// Where drift alerts read the population stability index (the statistics module, wired by the server).
public protocol DriftSource: Sendable {
    /// The current PSI of an environment's active deployment over `window` (the largest over its features and
    /// predictions), `nil` when it is not known.
    func drift(modelID: UUID, environment: String, windowSeconds: Int) async throws -> Double?
}
