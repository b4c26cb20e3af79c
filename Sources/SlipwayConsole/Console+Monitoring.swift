import Foundation
import HTTPTypes
import Hummingbird
import SlipwayAPI
import SlipwayFeedback
import SlipwayMonitoring
import SlipwayRegistry

/// What the console's monitoring page and the overview's key metric trend read: the statistics (traffic, latency,
/// errors, drift) and, when there is one, the feedback store (the key metric and the alert rules).
public struct ConsoleMonitoring: Sendable {
    /// Statistics and drift, read with the registry's authorisation.
    public let statistics: StatisticsReader
    /// Feedback joined with predictions, and the alert rules.
    public let feedback: (any FeedbackRepository)?

    /// Creates the sources.
    public init(statistics: StatisticsReader, feedback: (any FeedbackRepository)?) {
        self.statistics = statistics
        self.feedback = feedback
    }
}

/// The monitoring page's time ranges and the bucket size each is read in.
enum MonitoringRange: String, CaseIterable {
    case hour = "1h"
    case sixHours = "6h"
    case day = "24h"
    case week = "7d"

    var seconds: TimeInterval {
        switch self {
        case .hour: 3_600
        case .sixHours: 6 * 3_600
        case .day: 86_400
        case .week: 7 * 86_400
        }
    }

    var bucket: StatisticsBucketSize { self == .hour || self == .sixHours ? .minute : .hour }

    var label: String {
        switch self {
        case .hour: "Last hour"
        case .sixHours: "Last 6 hours"
        case .day: "Last 24 hours"
        case .week: "Last 7 days"
        }
    }
}

extension Console {
    /// How many points the drift chart has at most (each is one drift reading over the configured window).
    static let driftPoints = 12

    func monitoringPage(
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor
    ) async throws -> Response {
        let model = try await self.model(context, visitor)
        let parameters = request.uri.queryParameters
        let rangeText = parameters.get("range") ?? MonitoringRange.hour.rawValue
        guard let span = MonitoringRange(rawValue: rangeText) else {
            throw APIError.invalid(
                "range",
                "range must be one of 1h, 6h, 24h or 7d, got '\(rangeText.prefix(40))'"
            )
        }
        let versionText = (parameters.get("version") ?? "").trimmingCharacters(in: .whitespaces)
        var requestedVersion: Int?
        if !versionText.isEmpty {
            guard let number = Int(versionText), number > 0 else {
                throw APIError.invalid(
                    "version",
                    "version must be a whole number from 1 (or empty for the active one), got '\(versionText.prefix(40))'"
                )
            }
            requestedVersion = number
        }
        let environments = try await self.registry.environments(
            owner: model.owner,
            name: model.name,
            by: visitor.principal
        )
        let wanted = parameters.get("environment") ?? ""
        let environment: SlipwayRegistry.Environment?
        if wanted.isEmpty {
            environment = environments.first { $0.name == "production" } ?? environments.first
        } else {
            guard let found = environments.first(where: { $0.name == wanted }) else {
                throw RegistryError.notFound("environment '\(wanted)' does not exist in \(model.fullName)")
            }
            environment = found
        }
        var data: [String: Any] = [
            "fullName": model.fullName, "path": Self.path(model), "versionField": versionText,
            "environments": environments.map { ["name": $0.name, "selected": $0.name == environment?.name] },
            "ranges": MonitoringRange.allCases.map {
                ["value": $0.rawValue, "label": $0.label, "selected": $0 == span]
            },
        ]
        guard let monitoring = self.monitoring else {
            data["absent"] = "Monitoring is not available on this server."
            return self.respond(
                "monitoring",
                data,
                title: "Monitoring · \(model.fullName)",
                visitor: visitor,
                model: model,
                tab: "Monitoring"
            )
        }
        // The same rule as the API's alert routes (`Registry.monitoredModel(…, changing: true, …)`).
        let access = try await self.registry.access(to: model, for: visitor.principal)
        let canChangeAlerts = monitoring.feedback != nil && access.hasRole(Registry.monitoringChangeRole)
        let alerts = try await self.alertRows(model, monitoring, canChange: canChangeAlerts)
        data["alerts"] = alerts
        data["hasAlerts"] = !alerts.isEmpty
        data["canChangeAlerts"] = canChangeAlerts
        if canChangeAlerts {
            data["alertForm"] = Self.alertForm(model, environments: environments, selected: environment?.name)
        }
        guard let environment else {
            data["absent"] = "\(model.fullName) has no environments yet."
            return self.respond(
                "monitoring",
                data,
                title: "Monitoring · \(model.fullName)",
                visitor: visitor,
                model: model,
                tab: "Monitoring"
            )
        }
        guard let version = requestedVersion ?? environment.activeVersion else {
            data["absent"] =
                "\(environment.name) has no active deployment: activate one, or enter a version to see its statistics."
            return self.respond(
                "monitoring",
                data,
                title: "Monitoring · \(model.fullName)",
                visitor: visitor,
                model: model,
                tab: "Monitoring"
            )
        }
        let reader = monitoring.statistics
        let now = reader.registry.clock()
        let range = try reader.range(
            from: now.addingTimeInterval(-span.seconds),
            to: now,
            bucket: span.bucket.rawValue
        )
        let report = try await reader.deploymentReport(
            owner: model.owner,
            name: model.name,
            environment: environment.name,
            version: version,
            range: range,
            by: visitor.principal
        )
        let slots = max(1, range.bucketCount)
        let step = Double(range.size.seconds)
        var requests = [Double?](repeating: 0, count: slots)
        var errors = [Double?](repeating: 0, count: slots)
        var p50 = [Double?](repeating: nil, count: slots)
        var p95 = [Double?](repeating: nil, count: slots)
        var p99 = [Double?](repeating: nil, count: slots)
        for bucket in report.buckets {
            let index = Int((bucket.start.timeIntervalSince(range.firstBucket) / step).rounded(.down))
            guard index >= 0, index < slots else { continue }
            requests[index] = Double(bucket.statistics.requests)
            errors[index] = Double(bucket.statistics.errors)
            let latency = bucket.statistics.latency
            if latency.count > 0 {
                p50[index] = latency.percentile(50)
                p95[index] = latency.percentile(95)
                p99[index] = latency.percentile(99)
            }
        }
        let unit = range.size == .minute ? "minute" : "hour"
        let period = "from \(Self.date(range.firstBucket)) to \(Self.date(range.to))"
        let total = report.total
        let axis = ChartAxis(start: range.firstBucket, step: step, count: slots, showsDay: range.size == .hour)
        var charts: [[String: Any]] = []
        charts.append(
            ConsoleChart(
                id: "traffic",
                title: "Requests per \(unit)",
                description: "Requests per \(unit) \(period): \(total.requests) in all, at most "
                    + "\(ConsoleChart.number(requests.compactMap { $0 }.max() ?? 0)) in one \(unit).",
                axis: axis,
                series: [.init(name: "requests", color: "#1f5fbf", values: requests)],
                bars: true
            ).section
        )
        charts.append(
            ConsoleChart(
                id: "latency",
                title: "Latency (ms)",
                description:
                    "Latency percentiles p50, p95 and p99 in milliseconds per \(unit) \(period); over the whole "
                    + "range p50 \(ConsoleChart.number(total.latency.percentile(50))) ms, p95 "
                    + "\(ConsoleChart.number(total.latency.percentile(95))) ms, p99 "
                    + "\(ConsoleChart.number(total.latency.percentile(99))) ms.",
                axis: axis,
                series: [
                    .init(name: "p50", color: "#1b7a3d", values: p50),
                    .init(name: "p95", color: "#8a5a00", values: p95),
                    .init(name: "p99", color: "#b3261e", values: p99),
                ]
            ).section
        )
        charts.append(
            ConsoleChart(
                id: "errors",
                title: "Errors per \(unit)",
                description: "Failed requests per \(unit) \(period): \(total.errors) in all.",
                axis: axis,
                series: [.init(name: "errors", color: "#b3261e", values: errors)],
                bars: true
            ).section
        )
        charts.append(
            try await self.keyMetricChart(
                model,
                environment: environment.name,
                version: version,
                axis: axis,
                to: range.to,
                unit: unit,
                period: period,
                monitoring: monitoring
            )
        )
        charts.append(
            try await self.driftChart(
                model,
                environment: environment.name,
                version: version,
                range: range,
                visitor: visitor,
                reader: reader,
                period: period
            )
        )
        data["charts"] = charts
        data["deployment"] =
            [
                "version": version, "environment": environment.name, "from": Self.date(range.firstBucket),
                "to": Self.date(range.to), "bucket": unit, "requests": total.requests, "errors": total.errors,
                "rows": total.rows,
                "p50": ConsoleChart.number(total.latency.percentile(50)),
                "p95": ConsoleChart.number(total.latency.percentile(95)),
                "p99": ConsoleChart.number(total.latency.percentile(99)),
                "deploymentPath": Self.path(model, environment: environment.name) + "/deployments/\(version)",
                "isActive": version == environment.activeVersion,
            ] as [String: Any]
        return self.respond(
            "monitoring",
            data,
            title: "Monitoring · \(model.fullName)",
            visitor: visitor,
            model: model,
            tab: "Monitoring"
        )
    }

    /// The model's alert rules as table rows, with the path of each one's delete step for those who may change them.
    func alertRows(
        _ model: Model,
        _ monitoring: ConsoleMonitoring,
        canChange: Bool
    ) async throws -> [[String: Any]] {
        guard let feedback = monitoring.feedback else { return [] }
        return try await feedback.alertRules(modelID: model.id).map { rule in
            [
                "deletePath": canChange
                    ? Self.path(model) + "/monitoring/alerts/\(ConsoleHTTP.escape(rule.name))/delete" : "",
                "name": rule.name,
                "rule": "\(rule.metric) \(rule.comparison) \(ConsoleChart.number(rule.threshold)) over "
                    + "\(AlertRule.formatWindow(rule.windowSeconds)) in \(rule.environment)",
                "state": rule.isFiring ? "firing" : "ok",
                "firing": rule.isFiring,
                "changed": Self.date(rule.changedAt),
            ]
        }
    }

    /// The form that adds an alert rule: the fields of `POST …/alerts` with their choices.
    static func alertForm(
        _ model: Model,
        environments: [SlipwayRegistry.Environment],
        selected: String?
    ) -> [String: Any] {
        [
            "action": Self.path(model) + "/monitoring/alerts",
            "metrics": AlertRule.Metric.allCases.map { ["value": $0.rawValue] },
            "ops": AlertRule.Comparison.allCases.map { ["value": $0.rawValue] },
            "environments": environments.map { ["name": $0.name, "selected": $0.name == selected] },
        ]
    }

    /// The model whose alert rules a form changes, once the visitor may change its monitoring, and the store that
    /// holds the rules.
    func alertRuleChange(
        _ context: SlipwayRequestContext,
        _ visitor: Visitor
    ) async throws -> (Model, any FeedbackRepository) {
        let model = try await self.registry.monitoredModel(
            owner: try context.parameters.require("owner"),
            name: try context.parameters.require("name"),
            changing: true,
            by: visitor.principal
        )
        guard let feedback = self.monitoring?.feedback else {
            throw ConsoleFailure(.notFound, "Alert rules are not available on this server, so nothing was changed.")
        }
        return (model, feedback)
    }

    /// Adds an alert rule from the form, checked by the same ``AlertRule`` code as `POST …/alerts` and stored by
    /// the same ``AlertRules`` helper; only those who may change the model's monitoring may.
    func createAlertRule(
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        _ form: [String: [String]]
    ) async throws -> Response {
        let (model, feedback) = try await self.alertRuleChange(context, visitor)
        let value = { (name: String) -> String? in
            let text = Self.field(form, name)
            return text.isEmpty ? nil : text
        }
        var threshold: Double?
        if let text = value("threshold") {
            guard let number = Double(text), number.isFinite else {
                throw APIError.invalid("threshold", "threshold must be a number, got '\(text.prefix(40))'")
            }
            threshold = number
        }
        let rule = try AlertRule.make(
            name: value("name"),
            metric: value("metric"),
            op: value("op"),
            threshold: threshold,
            window: value("window"),
            environment: value("environment")
        )
        try await AlertRules(registry: self.registry, repository: feedback).create(
            rule,
            on: model,
            by: visitor.principal
        )
        try await self.sessions.setFlash(id: visitor.sessionID, "Added the alert rule \(rule.name): \(rule.compact).")
        return ConsoleHTTP.redirect(
            to: Self.path(model) + "/monitoring?environment=\(ConsoleHTTP.escape(rule.environment))"
        )
    }

    /// The confirmation step before deleting an alert rule.
    func deleteAlertConfirmPage(_ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let model = try await self.registry.monitoredModel(
            owner: try context.parameters.require("owner"),
            name: try context.parameters.require("name"),
            changing: true,
            by: visitor.principal
        )
        let name = try context.parameters.require("alert")
        guard let feedback = self.monitoring?.feedback,
            let rule = try await feedback.alertRules(modelID: model.id).first(where: { $0.name == name })
        else {
            throw RegistryError.notFound("\(model.fullName) has no alert rule named '\(name)'")
        }
        let back = Self.path(model) + "/monitoring?environment=\(ConsoleHTTP.escape(rule.environment))"
        let data: [String: Any] = [
            "heading": "Delete the alert rule \(rule.name)?",
            "question":
                "It stops watching \(rule.metric) \(rule.comparison) \(ConsoleChart.number(rule.threshold)) over "
                + "\(AlertRule.formatWindow(rule.windowSeconds)) in \(rule.environment), and no webhook is called for it "
                + "any more. The activity log keeps its history.",
            "action": Self.path(model) + "/monitoring/alerts/\(ConsoleHTTP.escape(rule.name))/delete", "back": back,
            "button": "Delete the rule",
        ]
        return self.respond(
            "confirm",
            data,
            title: "Delete the alert rule \(rule.name)?",
            visitor: visitor,
            model: model,
            tab: "Monitoring"
        )
    }

    /// Deletes an alert rule through the same ``AlertRules`` helper as `DELETE …/alerts/{name}`.
    func deleteAlertRule(_ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let (model, feedback) = try await self.alertRuleChange(context, visitor)
        let name = try context.parameters.require("alert")
        try await AlertRules(registry: self.registry, repository: feedback).delete(
            named: name,
            on: model,
            by: visitor.principal
        )
        try await self.sessions.setFlash(id: visitor.sessionID, "Deleted the alert rule \(name).")
        return ConsoleHTTP.redirect(to: Self.path(model) + "/monitoring")
    }

    /// The key metric per bucket, computed from the feedback received in each bucket.
    func keyMetricChart(
        _ model: Model,
        environment: String,
        version: Int,
        axis: ChartAxis,
        to end: Date,
        unit: String,
        period: String,
        monitoring: ConsoleMonitoring
    ) async throws -> [String: Any] {
        let heading = "Key metric" + (model.keyMetric.map { ": \($0.name)" } ?? "")
        guard let metric = model.keyMetric else {
            return [
                "id": "key-metric", "heading": heading,
                "note": "No key metric is set: choose one with PUT /api/v1/models/\(model.fullName)/key-metric.",
            ]
        }
        guard let feedback = monitoring.feedback else {
            return ["id": "key-metric", "heading": heading, "note": "Feedback is not available on this server."]
        }
        let values = try await Self.keyMetricSeries(
            metric,
            feedback: feedback,
            modelID: model.id,
            environment: environment,
            version: version,
            axis: axis,
            to: end
        )
        guard let values else { return ["id": "key-metric", "heading": heading, "note": "No feedback yet."] }
        let known = values.compactMap { $0 }
        return ConsoleChart(
            id: "key-metric",
            title: "\(metric.name) per \(unit)",
            description: "The key metric \(metric.name) (\(metric.direction.rawValue)) per \(unit) \(period), from the "
                + "feedback received in each \(unit); latest \(ConsoleChart.number(known.last ?? 0)).",
            axis: axis,
            series: [.init(name: metric.name, color: "#6b3fa0", values: values)]
        ).section
    }

    /// The key metric of the feedback received in each slot of `axis`, or `nil` when there is no feedback at all.
    static func keyMetricSeries(
        _ metric: KeyMetric,
        feedback: any FeedbackRepository,
        modelID: UUID,
        environment: String,
        version: Int?,
        axis: ChartAxis,
        to end: Date
    ) async throws -> [Double?]? {
        let joined = try await feedback.joinedFeedback(
            modelID: modelID,
            environment: environment,
            from: axis.start,
            to: end,
            version: version
        )
        guard !joined.isEmpty else { return nil }
        var groups = [[FeedbackMetrics.JoinedRow]](repeating: [], count: axis.count)
        for pair in joined {
            let index = Int((pair.feedback.at.timeIntervalSince(axis.start) / axis.step).rounded(.down))
            guard index >= 0, index < axis.count else { continue }
            groups[index].append(
                FeedbackMetrics.JoinedRow(
                    predictedLabel: pair.prediction.label,
                    probabilities: pair.prediction.probabilities,
                    classes: pair.classes,
                    predictedValue: pair.prediction.value,
                    actualLabel: pair.feedback.label,
                    actualValue: pair.feedback.value,
                    outcome: pair.feedback.outcome
                )
            )
        }
        return groups.map { $0.isEmpty ? nil : FeedbackMetrics.compute($0).value(named: metric.name) }
    }

    /// Drift per feature (population stability index over the configured drift window) at evenly spaced points of
    /// the range.
    func driftChart(
        _ model: Model,
        environment: String,
        version: Int,
        range: StatisticsRange,
        visitor: Visitor,
        reader: StatisticsReader,
        period: String
    ) async throws -> [String: Any] {
        let points = max(1, min(Self.driftPoints, range.bucketCount))
        let span = range.to.timeIntervalSince(range.firstBucket)
        var names: [String] = []
        var values: [String: [Double?]] = [:]
        var problem: String?
        var threshold = MonitoringSettings.defaultDriftThreshold
        for point in 0..<points {
            let end = range.firstBucket.addingTimeInterval(span * Double(point + 1) / Double(points))
            let probe = try reader.range(from: end.addingTimeInterval(-60), to: end, bucket: "minute")
            let report = try await reader.deploymentReport(
                owner: model.owner,
                name: model.name,
                environment: environment,
                version: version,
                range: probe,
                by: visitor.principal
            )
            let drift = report.drift
            threshold = drift.threshold
            if let text = drift.problem { problem = text }
            guard drift.rows > 0 else { continue }
            var readings = drift.features.map { ($0.name, $0.index) }
            if let predictions = drift.predictions { readings.append(("predictions", predictions)) }
            for (name, index) in readings {
                if values[name] == nil {
                    names.append(name)
                    values[name] = [Double?](repeating: nil, count: points)
                }
                values[name]![point] = index
            }
        }
        let window = AlertRule.formatWindow(Int(reader.configuration.driftWindow))
        guard !names.isEmpty else {
            return [
                "id": "drift", "heading": "Drift per feature",
                "note": problem.map { "No drift to show: \($0)." }
                    ?? "No drift to show: no predictions in the drift window of this range.",
            ]
        }
        let palette = ["#1f5fbf", "#1b7a3d", "#b3261e", "#8a5a00", "#6b3fa0", "#00838f", "#ad1457", "#5d4037"]
        let series = names.enumerated().map { offset, name in
            ConsoleChart.Series(name: name, color: palette[offset % palette.count], values: values[name] ?? [])
        }
        let latest = names.compactMap { name in values[name]?.last.flatMap { $0 }.map { (name, $0) } }
        let drifting = latest.filter { $0.1 >= threshold }.map(\.0)
        return ConsoleChart(
            id: "drift",
            title: "Drift (population stability index)",
            description: "Population stability index per feature and of the predictions, each point over the "
                + "\(window) before it, \(period); threshold \(ConsoleChart.number(threshold)). "
                + (drifting.isEmpty
                    ? "Nothing drifts at the end." : "Drifting at the end: \(drifting.joined(separator: ", ")).")
                + (problem.map { " \($0)." } ?? ""),
            axis: ChartAxis(
                start: range.firstBucket.addingTimeInterval(span / Double(points)),
                step: span / Double(points),
                count: points,
                showsDay: range.size == .hour
            ),
            series: series,
            threshold: threshold
        ).section
    }

    /// The overview's key metric trend per environment: one sparkline of the last 7 days, a point per day.
    func keyMetricTrends(_ model: Model, environments: [SlipwayRegistry.Environment]) async throws -> [[String: Any]] {
        guard let metric = model.keyMetric, let feedback = self.monitoring?.feedback else { return [] }
        let now = self.registry.clock()
        let start = StatisticsBucketSize.hour.start(of: now.addingTimeInterval(-7 * 86_400))
        let axis = ChartAxis(start: start, step: 86_400, count: 8, showsDay: true)
        var trends: [[String: Any]] = []
        for environment in environments {
            let values = try await Self.keyMetricSeries(
                metric,
                feedback: feedback,
                modelID: model.id,
                environment: environment.name,
                version: nil,
                axis: axis,
                to: now
            )
            var row: [String: Any] = [
                "name": environment.name,
                "path": Self.path(model) + "/monitoring?environment=\(ConsoleHTTP.escape(environment.name))&range=7d",
            ]
            if let values, let latest = values.compactMap({ $0 }).last {
                row["latest"] = ConsoleChart.number(latest)
                row["hasTrend"] = true
                row["svg"] = ConsoleChart.sparkline(
                    values,
                    label: "\(metric.name) in \(environment.name) per day over the last 7 days, latest "
                        + ConsoleChart.number(latest)
                )
            }
            trends.append(row)
        }
        return trends
    }
}

/// The time axis of a chart: `count` slots of `step` seconds from `start`.
struct ChartAxis {
    var start: Date
    var step: TimeInterval
    var count: Int
    /// Whether labels show the day (hour buckets) or only the time (minute buckets).
    var showsDay: Bool

    func label(_ slot: Int) -> String {
        let text = self.start.addingTimeInterval(self.step * Double(slot)).formatted(.iso8601)
        let time = text.replacingOccurrences(of: "T", with: " ")
        let characters = Array(time)
        guard characters.count >= 16 else { return time }
        return String(self.showsDay ? characters[5..<16] : characters[11..<16])
    }
}

/// A line or bar chart drawn as SVG on the server: axis labels, a legend, and a title and description for screen
/// readers. Every text in it is escaped.
struct ConsoleChart {
    struct Series {
        var name: String
        var color: String
        var values: [Double?]
    }

    var id: String
    var title: String
    var description: String
    var axis: ChartAxis
    var series: [Series]
    var bars = false
    var threshold: Double?

    static let width = 720.0
    static let height = 240.0
    static let left = 60.0
    static let right = 12.0
    static let top = 28.0
    static let bottom = 30.0

    /// The chart as a page section (rendered by the `monitoring` template).
    var section: [String: Any] { ["id": self.id, "heading": self.title, "svg": self.svg(), "hasChart": true] }

    func svg() -> String {
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        let known = self.series.flatMap { $0.values.compactMap { $0 } } + (self.threshold.map { [$0] } ?? [])
        let maximum = Self.ceiling(known.max() ?? 0)
        let slot = plotWidth / Double(max(1, self.axis.count))
        func x(_ index: Int) -> Double { Self.left + slot * (Double(index) + 0.5) }
        func y(_ value: Double) -> Double { Self.top + plotHeight * (1 - min(max(value / maximum, 0), 1)) }
        var out = """
            <svg class="chart" id="chart-\(self.id)" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" role="img" \
            aria-labelledby="\(self.id)-title \(self.id)-desc" xmlns="http://www.w3.org/2000/svg">\
            <title id="\(self.id)-title">\(Self.escape(self.title))</title>\
            <desc id="\(self.id)-desc">\(Self.escape(self.description))</desc>
            """
        // Grid and y-axis labels.
        for step in 0...4 {
            let value = maximum * Double(step) / 4
            let position = Self.format(y(value))
            out += "<line x1=\"\(Self.format(Self.left))\" x2=\"\(Self.format(Self.width - Self.right))\" "
            out += "y1=\"\(position)\" y2=\"\(position)\" stroke=\"#d5dae2\" stroke-width=\"1\"/>"
            out += "<text x=\"\(Self.format(Self.left - 6))\" y=\"\(position)\" dy=\"4\" text-anchor=\"end\" "
            out += "font-size=\"14\" fill=\"#5a6270\">\(Self.escape(Self.number(value)))</text>"
        }
        // x-axis labels: first, middle and last slot.
        let labelled = Array(Set([0, (self.axis.count - 1) / 2, self.axis.count - 1])).sorted()
        for index in labelled {
            let anchor = index == 0 ? "start" : index == self.axis.count - 1 ? "end" : "middle"
            let position = index == 0 ? Self.left : index == self.axis.count - 1 ? Self.width - Self.right : x(index)
            out +=
                "<text x=\"\(Self.format(position))\" y=\"\(Self.format(Self.height - 8))\" text-anchor=\"\(anchor)\" "
            out += "font-size=\"14\" fill=\"#5a6270\">\(Self.escape(self.axis.label(index))) UTC</text>"
        }
        if let threshold = self.threshold {
            let position = Self.format(y(threshold))
            out += "<line x1=\"\(Self.format(Self.left))\" x2=\"\(Self.format(Self.width - Self.right))\" "
            out += "y1=\"\(position)\" y2=\"\(position)\" stroke=\"#b3261e\" stroke-dasharray=\"6 4\"/>"
        }
        for series in self.series {
            if self.bars {
                let barWidth = max(1, slot * 0.8)
                for (index, value) in series.values.enumerated() {
                    guard let value, value > 0 else { continue }
                    let top = y(value)
                    out += "<rect x=\"\(Self.format(x(index) - barWidth / 2))\" y=\"\(Self.format(top))\" "
                    out += "width=\"\(Self.format(barWidth))\" height=\"\(Self.format(Self.top + plotHeight - top))\" "
                    out += "fill=\"\(series.color)\"><title>\(Self.escape(self.axis.label(index))) UTC: "
                    out += "\(Self.number(value)) \(Self.escape(series.name))</title></rect>"
                }
            } else {
                var run: [(Int, Double)] = []
                func flush() {
                    if run.count > 1 {
                        let points = run.map { "\(Self.format(x($0.0))),\(Self.format(y($0.1)))" }
                        out += "<polyline fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\" "
                        out += "points=\"\(points.joined(separator: " "))\"/>"
                    }
                    run = []
                }
                for (index, value) in series.values.enumerated() {
                    if let value { run.append((index, value)) } else { flush() }
                }
                flush()
                for (index, value) in series.values.enumerated() {
                    guard let value else { continue }
                    out += "<circle cx=\"\(Self.format(x(index)))\" cy=\"\(Self.format(y(value)))\" r=\"3\" "
                    out += "fill=\"\(series.color)\"><title>\(Self.escape(self.axis.label(index))) UTC: "
                    out += "\(Self.escape(series.name)) \(Self.number(value))</title></circle>"
                }
            }
        }
        // Legend along the top.
        var legend = Self.left
        for series in self.series {
            out += "<rect x=\"\(Self.format(legend))\" y=\"8\" width=\"12\" height=\"12\" fill=\"\(series.color)\"/>"
            out += "<text x=\"\(Self.format(legend + 16))\" y=\"18\" font-size=\"14\" fill=\"#1d2330\">"
            out += "\(Self.escape(series.name))</text>"
            legend += 28 + Double(min(series.name.count, 24)) * 8
        }
        out += "</svg>"
        return out
    }

    /// A small line of `values` (one per slot), for the model overview.
    static func sparkline(_ values: [Double?], label: String) -> String {
        let width = 160.0
        let height = 36.0
        let known = values.compactMap { $0 }
        let low = known.min() ?? 0
        let high = known.max() ?? 1
        let spread = high - low > 0 ? high - low : 1
        let slot = width / Double(max(1, values.count))
        let points = values.enumerated().compactMap { index, value -> String? in
            guard let value else { return nil }
            let x = slot * (Double(index) + 0.5)
            let y = 4 + (height - 8) * (1 - (value - low) / spread)
            return "\(self.format(x)),\(self.format(y))"
        }
        var out = "<svg class=\"spark\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
        out += "xmlns=\"http://www.w3.org/2000/svg\"><title>\(self.escape(label))</title>"
        if points.count > 1 {
            out +=
                "<polyline fill=\"none\" stroke=\"#6b3fa0\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
        }
        for point in points {
            let parts = point.split(separator: ",")
            out += "<circle cx=\"\(parts[0])\" cy=\"\(parts[1])\" r=\"2.5\" fill=\"#6b3fa0\"/>"
        }
        return out + "</svg>"
    }

    /// A round number at or above `value` for the top of the y axis (1, 2 or 5 times a power of ten).
    static func ceiling(_ value: Double) -> Double {
        guard value.isFinite, value > 0 else { return 1 }
        let power = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 5, 10] where factor * power >= value { return factor * power }
        return 10 * power
    }

    /// A number for labels: whole numbers without decimals, others with up to three decimals (fewer for large values),
    /// without trailing zeros.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        let decimals = abs(value) >= 100 ? 1 : abs(value) >= 1 ? 2 : 3
        var text = String(format: "%.\(decimals)f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Escapes text for HTML and SVG content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
