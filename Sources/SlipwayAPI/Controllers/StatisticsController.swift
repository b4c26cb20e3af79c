import Foundation
import Hummingbird
import SlipwayMonitoring
import SlipwayRegistry

/// Per-deployment statistics, drift and the models' monitoring settings (docs/monitoring.md):
///
/// - `GET /api/v1/models/{owner}/{name}/environments/{env}/deployments/{version}/stats?from=&to=&bucket=`
/// - `GET /api/v1/models/{owner}/{name}/environments/{env}/stats?from=&to=&bucket=`
/// - `GET` and `PUT /api/v1/models/{owner}/{name}/monitoring`
///
/// ```swift
/// StatisticsAPI(reader: reader).register(on: router)
/// ```
public struct StatisticsAPI: Sendable {
    /// Reads statistics and settings with the registry's authorisation.
    public let reader: StatisticsReader

    /// Creates the routes over a reader.
    public init(reader: StatisticsReader) {
        self.reader = reader
    }

    /// Adds the routes under `/api/v1` (add ``ErrorMiddleware`` to the router first).
    public func register(on router: Router<SlipwayRequestContext>) {
        let api = router.group("api/v1")
        api.get("models/:owner/:name/environments/:env/deployments/:version/stats") { request, context in
            let principal = try await self.reader.registry.principal(for: request)
            let version = try DeploymentsController.version(context)
            let range = try self.range(request)
            let report = try await self.reader.deploymentReport(
                owner: try context.owner,
                name: try context.name,
                environment: try context.parameters.require("env"),
                version: version,
                range: range,
                by: principal
            )
            var object: [String: JSONTree] = [
                "model": .string(report.model.fullName),
                "environment": .string(report.environment.name),
                "version": .integer(Int64(report.deployment.version)),
                "is_active": .bool(report.environment.activeDeploymentID == report.deployment.id),
                "buckets": .array(
                    report.buckets.map { bucket in
                        var entry = Self.statistics(bucket.statistics)
                        entry["start"] = .string(Timestamp.format(bucket.start))
                        entry["end"] = .string(Timestamp.format(bucket.end))
                        return .object(entry)
                    }
                ),
                "total": .object(Self.statistics(report.total)),
                "drift": Self.drift(report.drift),
            ]
            Self.describe(report.range, into: &object)
            return try Wire.json(JSONTree.object(object))
        }
        api.get("models/:owner/:name/environments/:env/stats") { request, context in
            let principal = try await self.reader.registry.principal(for: request)
            let range = try self.range(request)
            let report = try await self.reader.environmentReport(
                owner: try context.owner,
                name: try context.name,
                environment: try context.parameters.require("env"),
                range: range,
                by: principal
            )
            var object: [String: JSONTree] = [
                "model": .string(report.model.fullName),
                "environment": .string(report.environment.name),
                "deployments": .array(
                    report.deployments.map { entry in
                        .object([
                            "version": .integer(Int64(entry.deployment.version)),
                            "is_active": .bool(report.environment.activeDeploymentID == entry.deployment.id),
                            "status": .string(entry.deployment.status.rawValue),
                            "total": .object(Self.statistics(entry.total)),
                            "drift": Self.drift(entry.drift),
                        ])
                    }
                ),
                "total": .object(Self.statistics(report.total)),
            ]
            Self.describe(report.range, into: &object)
            return try Wire.json(JSONTree.object(object))
        }
        api.get("models/:owner/:name/monitoring") { request, context in
            let principal = try await self.reader.registry.principal(for: request)
            let (settings, isDefault) = try await self.reader.settings(
                owner: try context.owner,
                name: try context.name,
                by: principal
            )
            return try Wire.json(self.settings(settings, isDefault: isDefault))
        }
        api.put("models/:owner/:name/monitoring") { request, context in
            var request = request
            let principal = try await self.reader.registry.principal(for: request)
            let (body, _) = try await Wire.decode(UpdateMonitoring.self, from: &request, allowed: ["drift_threshold"])
            let settings = try await self.reader.updateSettings(
                owner: try context.owner,
                name: try context.name,
                driftThreshold: body.driftThreshold,
                by: principal
            )
            return try Wire.json(self.settings(settings, isDefault: false))
        }
    }

    struct UpdateMonitoring: Decodable {
        var driftThreshold: Double
        enum CodingKeys: String, CodingKey {
            case driftThreshold = "drift_threshold"
        }
    }

    func settings(_ settings: MonitoringSettings, isDefault: Bool) -> JSONTree {
        .object([
            "drift_threshold": .number(settings.driftThreshold),
            "drift_window_seconds": .integer(self.reader.configuration.driftWindow),
            "is_default": .bool(isDefault),
            "updated_at": .string(Timestamp.format(settings.updatedAt)),
        ])
    }

    // MARK: Query

    /// `from`, `to` (RFC 3339 or Unix seconds) and `bucket` (`minute` or `hour`), checked by the reader.
    func range(_ request: Request) throws -> StatisticsRange {
        let query = request.uri.queryParameters
        return try self.reader.range(
            from: try Self.time(query.get("from"), "from"),
            to: try Self.time(query.get("to"), "to"),
            bucket: query.get("bucket")
        )
    }

    /// A time given as RFC 3339 (`2026-01-31T12:00:00Z`) or as Unix seconds (`1769860800`, fractions allowed).
    static func time(_ text: String?, _ name: String) throws -> Date? {
        guard let text else { return nil }
        if let seconds = Double(text), seconds.isFinite, text.first != "+" {
            // Between 1970 and 9999, so the time can be written back.
            guard seconds >= 0, seconds < 253_402_300_800 else {
                throw APIError.invalid(name, "\(name) must be a time between 1970 and 9999, got \(text.prefix(40))")
            }
            return Date(timeIntervalSince1970: seconds)
        }
        guard let date = Timestamp.parse(text) else {
            throw APIError.invalid(
                name,
                "\(name) must be an RFC 3339 time such as 2026-01-31T12:00:00Z or Unix seconds, got '\(text.prefix(40))'"
            )
        }
        return date
    }

    static func describe(_ range: StatisticsRange, into object: inout [String: JSONTree]) {
        object["bucket"] = .string(range.size.rawValue)
        object["from"] = .string(Timestamp.format(range.from))
        object["to"] = .string(Timestamp.format(range.to))
    }

    // MARK: Rendering

    static func number(_ value: Double?) -> JSONTree {
        guard let value, value.isFinite else { return .null }
        return .number(value)
    }

    static func statistics(_ statistics: BucketStatistics) -> [String: JSONTree] {
        let latency = statistics.latency
        return [
            "requests": .integer(statistics.requests),
            "errors": .integer(statistics.errors),
            "error_rate": statistics.requests > 0
                ? .number(Double(statistics.errors) / Double(statistics.requests)) : .null,
            "error_codes": .object(statistics.errorCodes.mapValues { .integer($0) }),
            "rows": .integer(statistics.rows),
            "latency_ms": .object([
                "count": .integer(Int64(clamping: latency.count)),
                "p50": latency.count > 0 ? .number(latency.percentile(50)) : .null,
                "p95": latency.count > 0 ? .number(latency.percentile(95)) : .null,
                "p99": latency.count > 0 ? .number(latency.percentile(99)) : .null,
                "min": latency.count > 0 ? .number(latency.minimum) : .null,
                "max": latency.count > 0 ? .number(latency.maximum) : .null,
                "mean": latency.count > 0 ? .number(latency.mean) : .null,
            ]),
            "predictions": .object(self.values(statistics.predictions, categoriesKey: "classes")),
            "features": .array(
                zip(statistics.featureOrder, statistics.featureStatistics).map { name, feature in
                    var entry = self.values(feature, categoriesKey: "categories")
                    entry["name"] = .string(name)
                    return JSONTree.object(entry)
                }
            ),
        ]
    }

    /// A feature's or the predictions' statistics: numbers with a histogram, or category counts.
    static func values(_ statistics: FeatureStatistics, categoriesKey: String) -> [String: JSONTree] {
        var entry: [String: JSONTree] = [
            "count": .integer(statistics.count),
            "missing": .integer(statistics.missing),
        ]
        if let numeric = statistics.numeric {
            entry["kind"] = .string("numeric")
            entry["min"] = self.number(numeric.minimum)
            entry["max"] = self.number(numeric.maximum)
            entry["mean"] = self.number(numeric.mean)
            entry["histogram"] = .object([
                "edges": .array(numeric.edges.map { self.number($0) }),
                "counts": .array(numeric.counts.map { .integer($0) }),
            ])
        } else if let categories = statistics.categories {
            entry["kind"] = .string("categorical")
            entry[categoriesKey] = .object(categories.mapValues { .integer($0) })
            entry["other"] = .integer(statistics.otherCategories)
        } else {
            entry["kind"] = .null
        }
        return entry
    }

    static func drift(_ drift: DriftReport) -> JSONTree {
        .object([
            "window": .object([
                "from": .string(Timestamp.format(drift.from)),
                "to": .string(Timestamp.format(drift.to)),
            ]),
            "threshold": .number(drift.threshold),
            "rows": .integer(drift.rows),
            "reference": .object([
                "source": .string(drift.referenceSource),
                "rows": .integer(Int64(drift.referenceRows)),
            ]),
            "features": .object(
                Dictionary(
                    drift.features.map { ($0.name, self.number($0.index)) },
                    uniquingKeysWith: { first, _ in first }
                )
            ),
            "predictions": self.number(drift.predictions),
            "drifting": .array(drift.drifting.map { .string($0) }),
            "predictions_drifting": .bool(drift.predictionsDrifting),
            "is_drifting": .bool(drift.isDrifting),
            "problem": drift.problem.map { .string($0) } ?? .null,
        ])
    }
}
