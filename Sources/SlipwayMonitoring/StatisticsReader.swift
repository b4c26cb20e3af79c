import Foundation
import Logging
import SlipwayRegistry

/// A time range of statistics and the bucket size to read it in.
public struct StatisticsRange: Sendable, Equatable {
    /// The range's start (inclusive): buckets starting at or after the bucket holding it are read.
    public var from: Date
    /// The range's end (exclusive): buckets starting before it are read.
    public var to: Date
    /// Minute or hour buckets.
    public var size: StatisticsBucketSize

    /// The first bucket start read.
    public var firstBucket: Date { self.size.start(of: self.from) }

    /// How many buckets the range spans.
    public var bucketCount: Int {
        Int(((self.to.timeIntervalSince(self.firstBucket)) / Double(self.size.seconds)).rounded(.up))
    }
}

/// One bucket as reported.
public struct BucketReport: Sendable, Equatable {
    /// The bucket's first instant.
    public var start: Date
    /// The bucket's end (exclusive).
    public var end: Date
    /// What was measured.
    public var statistics: BucketStatistics
}

/// One deployment's statistics over a range.
public struct DeploymentStatisticsReport: Sendable {
    /// The model.
    public var model: Model
    /// The environment.
    public var environment: SlipwayRegistry.Environment
    /// The deployment.
    public var deployment: Deployment
    /// The range read.
    public var range: StatisticsRange
    /// The buckets holding data, oldest first.
    public var buckets: [BucketReport]
    /// Every bucket merged.
    public var total: BucketStatistics
    /// Drift over the window ending at the range's end.
    public var drift: DriftReport
}

/// Every deployment of an environment over a range.
public struct EnvironmentStatisticsReport: Sendable {
    /// One deployment's share.
    public struct Entry: Sendable {
        /// The deployment.
        public var deployment: Deployment
        /// Its statistics over the range.
        public var total: BucketStatistics
        /// Its drift over the window ending at the range's end.
        public var drift: DriftReport
    }

    /// The model.
    public var model: Model
    /// The environment.
    public var environment: SlipwayRegistry.Environment
    /// The range read.
    public var range: StatisticsRange
    /// The deployments with data in the range, and the active one, newest version first.
    public var deployments: [Entry]
    /// All of them merged.
    public var total: BucketStatistics
}

/// Reads statistics, drift and monitoring settings for the API, with the registry's authorisation: reading needs
/// read access to the model, changing settings owner rights (administrators are owners of everything).
///
/// Reading first flushes this process's recorder, so what it recorded is included at once; other processes' last
/// few seconds appear after their next flush.
public struct StatisticsReader: Sendable {
    /// The registry (authorisation, models, deployments, activity).
    public let registry: Registry
    /// Where statistics live.
    public let repository: any StatisticsRepository
    /// This process's recorder, flushed before reading.
    public let recorder: StatisticsRecorder?
    /// Retention, window and limits.
    public let configuration: StatisticsConfiguration

    /// Creates a reader.
    public init(
        registry: Registry,
        repository: any StatisticsRepository,
        recorder: StatisticsRecorder?,
        configuration: StatisticsConfiguration
    ) {
        self.registry = registry
        self.repository = repository
        self.recorder = recorder
        self.configuration = configuration
    }

    // MARK: Ranges

    /// Checks a requested range: `to` defaults to now, `from` to one hour before `to`, the size to minutes; `to`
    /// must be after `from` and the range may span at most ``StatisticsConfiguration/maximumBuckets`` buckets.
    ///
    /// - Throws: ``RegistryError/Code/invalidInput`` naming `from`, `to` or `bucket`.
    public func range(from: Date?, to: Date?, bucket: String?) throws -> StatisticsRange {
        let size: StatisticsBucketSize
        if let bucket {
            guard let parsed = StatisticsBucketSize(rawValue: bucket) else {
                throw RegistryError.invalid("bucket", "bucket must be minute or hour, got '\(bucket.prefix(40))'")
            }
            size = parsed
        } else {
            size = .minute
        }
        let end = to ?? self.registry.clock()
        let start = from ?? end.addingTimeInterval(-3_600)
        guard end > start else {
            throw RegistryError.invalid(
                to == nil ? "from" : "to",
                "to must be later than from (got from \(Self.format(start)), to \(Self.format(end)))"
            )
        }
        let range = StatisticsRange(from: start, to: end, size: size)
        guard range.bucketCount <= self.configuration.maximumBuckets else {
            let hint = size == .minute ? "; use bucket=hour or" : ";"
            throw RegistryError.invalid(
                "from",
                "the range from \(Self.format(start)) to \(Self.format(end)) spans \(range.bucketCount) \(size.rawValue) "
                    + "buckets; at most \(self.configuration.maximumBuckets) are allowed\(hint) narrow from and to"
            )
        }
        return range
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// The bucket size drift is read in: minutes while the window fits their retention, else hours.
    static func bucketSize(forWindow window: Int64, configuration: StatisticsConfiguration) -> StatisticsBucketSize {
        window <= configuration.minuteRetention && window <= Int64(configuration.maximumBuckets) * 60 ? .minute : .hour
    }

    // MARK: Reports

    /// One deployment's buckets, total and drift.
    public func deploymentReport(
        owner: String,
        name: String,
        environment: String,
        version: Int,
        range: StatisticsRange,
        by principal: Principal
    ) async throws -> DeploymentStatisticsReport {
        let model = try await self.registry.model(owner: owner, name: name, by: principal)
        let (deployment, environment) = try await self.registry.deployment(
            owner: owner,
            name: name,
            environment: environment,
            version: version,
            by: principal
        )
        await self.flushRecorder()
        let records = try await self.repository.statistics(
            deploymentIDs: [deployment.id],
            size: range.size,
            from: range.firstBucket,
            to: range.to
        )
        var buckets: [BucketReport] = []
        var total = BucketStatistics()
        for record in records {
            let statistics = try Self.decode(record)
            total.merge(statistics)
            buckets.append(
                BucketReport(
                    start: record.start,
                    end: record.start.addingTimeInterval(Double(range.size.seconds)),
                    statistics: statistics
                )
            )
        }
        let threshold = try await self.threshold(of: model)
        let drift = try await self.drift(of: [deployment], until: range.to, threshold: threshold)
        return DeploymentStatisticsReport(
            model: model,
            environment: environment,
            deployment: deployment,
            range: range,
            buckets: buckets,
            total: total,
            drift: drift[deployment.id]!
        )
    }

    /// Every deployment of an environment with data in the range (and the active one), each with its total and
    /// drift, and the environment's total.
    public func environmentReport(
        owner: String,
        name: String,
        environment: String,
        range: StatisticsRange,
        by principal: Principal
    ) async throws -> EnvironmentStatisticsReport {
        let model = try await self.registry.model(owner: owner, name: name, by: principal)
        let found = try await self.registry.environment(
            owner: owner,
            name: name,
            environment: environment,
            by: principal
        )
        await self.flushRecorder()
        let records = try await self.repository.statistics(
            environmentID: found.id,
            size: range.size,
            from: range.firstBucket,
            to: range.to
        )
        let merged = try Self.mergeByDeployment(records)
        var ids = Set(merged.keys)
        if let active = found.activeDeploymentID { ids.insert(active) }
        var deployments: [Deployment] = []
        for id in ids {
            if let deployment = try await self.registry.repository.deployment(id: id) { deployments.append(deployment) }
        }
        deployments.sort { $0.version > $1.version }
        let threshold = try await self.threshold(of: model)
        let drift = try await self.drift(of: deployments, until: range.to, threshold: threshold)
        var total = BucketStatistics()
        var entries: [EnvironmentStatisticsReport.Entry] = []
        for deployment in deployments {
            let statistics = merged[deployment.id] ?? BucketStatistics()
            total.merge(statistics)
            entries.append(.init(deployment: deployment, total: statistics, drift: drift[deployment.id]!))
        }
        return EnvironmentStatisticsReport(
            model: model,
            environment: found,
            range: range,
            deployments: entries,
            total: total
        )
    }

    /// The largest population stability index (over the features and the predictions) of an environment's active
    /// deployment over the `windowSeconds` before now, or `nil` when there is no active deployment or nothing to
    /// compare (no reference, no traffic). What drift alert rules read.
    public func currentDrift(modelID: UUID, environment: String, windowSeconds: Int) async throws -> Double? {
        guard let found = try await self.registry.repository.environment(modelID: modelID, name: environment),
            let activeID = found.activeDeploymentID,
            let deployment = try await self.registry.repository.deployment(id: activeID),
            let model = try await self.registry.repository.model(id: modelID)
        else { return nil }
        await self.flushRecorder()
        let threshold = try await self.threshold(of: model)
        let reports = try await self.drift(
            of: [deployment],
            until: Date(),
            threshold: threshold,
            window: Int64(max(60, windowSeconds))
        )
        guard let report = reports[deployment.id], report.rows > 0 else { return nil }
        let indexes = report.features.map(\.index) + (report.predictions.map { [$0] } ?? [])
        return indexes.max()
    }

    /// Drift of each deployment over the window ending at `end` (the configured drift window unless `window`, in
    /// seconds, is given).
    func drift(
        of deployments: [Deployment],
        until end: Date,
        threshold: Double,
        window: Int64? = nil
    ) async throws -> [UUID: DriftReport] {
        let window = window ?? self.configuration.driftWindow
        let start = end.addingTimeInterval(-Double(window))
        let size = Self.bucketSize(forWindow: window, configuration: self.configuration)
        let records = try await self.repository.statistics(
            deploymentIDs: deployments.map(\.id),
            size: size,
            from: size.start(of: start),
            to: end
        )
        let merged = try Self.mergeByDeployment(records)
        var reports: [UUID: DriftReport] = [:]
        for deployment in deployments {
            var profile = self.recorder?.profile(of: deployment.id)
            if profile == nil, let text = try await self.repository.referenceProfile(deploymentID: deployment.id) {
                profile = try? JSONDecoder().decode(ReferenceProfile.self, from: Data(text.utf8))
            }
            reports[deployment.id] = DriftReport.make(
                profile: profile,
                live: merged[deployment.id] ?? BucketStatistics(),
                threshold: threshold,
                from: start,
                to: end
            )
        }
        return reports
    }

    func flushRecorder() async {
        guard let recorder = self.recorder else { return }
        do {
            try await recorder.flush()
        } catch {
            recorder.logger.warning(
                "statistics could not be written before reading them",
                metadata: ["error": "\(error)"]
            )
        }
    }

    /// A stored bucket's statistics, with the counters from their columns.
    static func decode(_ record: StatisticsBucketRecord) throws -> BucketStatistics {
        var statistics: BucketStatistics
        do {
            statistics = try JSONDecoder().decode(BucketStatistics.self, from: Data(record.payload.utf8))
        } catch {
            throw RegistryError(
                .storageFailure,
                "the \(record.size.rawValue) bucket at \(Self.format(record.start)) of deployment \(record.deploymentID) "
                    + "does not decode: \(error)"
            )
        }
        statistics.requests = record.requests
        statistics.errors = record.errors
        return statistics
    }

    /// Stored buckets merged per deployment.
    static func mergeByDeployment(_ records: [StatisticsBucketRecord]) throws -> [UUID: BucketStatistics] {
        var merged: [UUID: BucketStatistics] = [:]
        for record in records {
            let statistics = try self.decode(record)
            if merged[record.deploymentID] == nil {
                merged[record.deploymentID] = statistics
            } else {
                merged[record.deploymentID]!.merge(statistics)
            }
        }
        return merged
    }

    // MARK: Settings

    /// The model's drift threshold (the default until one is set).
    func threshold(of model: Model) async throws -> Double {
        try await self.repository.monitoringSettings(modelID: model.id)?.driftThreshold
            ?? MonitoringSettings.defaultDriftThreshold
    }

    /// A model's monitoring settings (anyone who may read the model); `nil` `updatedAt`-wise defaults are reported
    /// with the model's creation time.
    public func settings(
        owner: String,
        name: String,
        by principal: Principal
    ) async throws -> (
        settings: MonitoringSettings, isDefault: Bool
    ) {
        let model = try await self.registry.model(owner: owner, name: name, by: principal)
        if let stored = try await self.repository.monitoringSettings(modelID: model.id) { return (stored, false) }
        return (
            MonitoringSettings(
                modelID: model.id,
                driftThreshold: MonitoringSettings.defaultDriftThreshold,
                updatedAt: model.createdAt
            ), true
        )
    }

    /// The largest drift threshold accepted.
    public static let maximumDriftThreshold = 10.0

    /// Changes a model's drift threshold (owners and administrators) and records `monitoring.updated`.
    ///
    /// - Throws: ``RegistryError/Code/invalidInput`` naming `drift_threshold` unless it is above 0 and at most
    ///   ``maximumDriftThreshold``.
    public func updateSettings(
        owner: String,
        name: String,
        driftThreshold: Double,
        by principal: Principal
    ) async throws -> MonitoringSettings {
        let model = try await self.registry.model(owner: owner, name: name, by: principal)
        let access = try await self.registry.access(to: model, for: principal)
        guard access.hasRole(.owner) else {
            if principal == .anonymous {
                throw RegistryError(.unauthenticated, "sign in to change the monitoring settings of \(model.fullName)")
            }
            throw RegistryError.forbidden(
                "owner rights on \(model.fullName) are required to change its monitoring settings"
            )
        }
        guard driftThreshold.isFinite, driftThreshold > 0, driftThreshold <= Self.maximumDriftThreshold else {
            throw RegistryError.invalid(
                "drift_threshold",
                "drift_threshold must be a number above 0 and at most \(Self.maximumDriftThreshold), got \(driftThreshold)"
            )
        }
        let previous =
            try await self.repository.monitoringSettings(modelID: model.id)?.driftThreshold
            ?? MonitoringSettings.defaultDriftThreshold
        let now = self.registry.clock()
        let settings = MonitoringSettings(modelID: model.id, driftThreshold: driftThreshold, updatedAt: now)
        try await self.repository.setMonitoringSettings(
            settings,
            event: ActivityEvent(
                modelID: model.id,
                at: now,
                actor: principal.actor,
                action: .monitoringUpdated,
                detail: "drift_threshold \(previous) → \(driftThreshold)"
            )
        )
        return settings
    }
}
