import Foundation
import Logging
import Metrics
import ServiceLifecycle
import SlipwayRegistry
import SlipwayRuntime
import Synchronization

/// Collects per-deployment statistics from every prediction request and writes them to the database in minute and
/// hour buckets.
///
/// `record(_:)` counts the record into its deployment's in-memory minute bucket under the lock of its thread's shard,
/// or, for a deployment not seen yet, appends it to a buffer that the service folds every
/// ``StatisticsConfiguration/aggregationInterval`` once it has built the deployment's reference profile. Every
/// ``StatisticsConfiguration/flushInterval`` it adds those to the stored minute and hour buckets (merging with what
/// other processes wrote), and on graceful shutdown it writes whatever is left. A failed write keeps the buckets in
/// memory for the next one. It also deletes buckets past their retention and keeps the `slipway_drift_psi` gauges
/// current.
///
/// ```swift
/// let statistics = StatisticsRecorder(repository: repository, logger: logger)
/// // hand it to the prediction routes as a recorder and run it as a service
/// try await statistics.flush()  // write now (tests, readers)
/// ```
public final class StatisticsRecorder: PredictionRecorder, Service {
    /// The settings.
    public let configuration: StatisticsConfiguration
    let repository: any StatisticsRepository
    let logger: Logger
    let clock: @Sendable () -> Date
    let gauges: DriftGauges

    /// Records not yet aggregated.
    private let incoming = Mutex<[PredictionRecord]>([])
    /// The in-memory buckets, one shard per recording thread: the network threads that answer predictions each
    /// count into their own instead of queueing on one lock (which showed in their tail). Every shard knows every
    /// deployment's context; `lastSeen` is the latest over the shards.
    private let shards = ThreadShards { State() }
    /// One aggregation or flush at a time.
    private let gate = AsyncGate()

    /// One minute of one deployment.
    struct BucketKey: Hashable {
        var deploymentID: UUID
        var start: Date
    }

    /// A minute bucket not yet written.
    struct PendingBucket {
        var modelID: UUID
        var environmentID: UUID
        var statistics = BucketStatistics()
    }

    /// What the recorder knows about a deployment it has seen.
    struct DeploymentContext {
        /// What every record of the deployment is counted against (shared by the shards, one reference to copy).
        final class Reference: Sendable {
            let profile: ReferenceProfile
            let order: [String]?

            init(profile: ReferenceProfile, order: [String]?) {
                self.profile = profile
                self.order = order
            }
        }

        var reference: Reference
        var model: String
        var environment: String
        var version: Int
        var lastSeen: Date

        var profile: ReferenceProfile { self.reference.profile }
    }

    private struct State {
        var pending: [BucketKey: PendingBucket] = [:]
        var contexts: [UUID: DeploymentContext] = [:]
    }

    /// Creates a recorder writing to `repository`; run it as a service.
    ///
    /// - Parameters:
    ///   - metrics: where the drift gauges go (the global metrics system by default).
    ///   - clock: the current time (tests).
    public init(
        repository: any StatisticsRepository,
        configuration: StatisticsConfiguration = StatisticsConfiguration(),
        logger: Logger = Logger(label: "slipway.statistics"),
        metrics: (any MetricsFactory)? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.repository = repository
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.gauges = DriftGauges(factory: metrics)
    }

    /// Every deployment context, with its latest `lastSeen` over the shards.
    private func contexts() -> [UUID: DeploymentContext] {
        var contexts: [UUID: DeploymentContext] = [:]
        self.shards.withEach { state in
            for (id, context) in state.contexts {
                if let known = contexts[id] {
                    if known.lastSeen < context.lastSeen { contexts[id]!.lastSeen = context.lastSeen }
                } else {
                    contexts[id] = context
                }
            }
        }
        return contexts
    }

    /// Merges `buckets` into the first shard's pending buckets.
    private func keep(_ buckets: [BucketKey: PendingBucket]) {
        self.shards.withShard(0) { state in
            for (key, bucket) in buckets {
                Self.add(bucket, at: key, to: &state.pending)
            }
        }
    }

    /// Adds `bucket` to `buckets` at `key`, merged with the one already there.
    static func add(_ bucket: PendingBucket, at key: BucketKey, to buckets: inout [BucketKey: PendingBucket]) {
        if buckets[key] == nil {
            buckets[key] = bucket
        } else {
            buckets[key]!.statistics.merge(bucket.statistics)
        }
    }

    /// How many minute buckets wait to be written.
    private var pendingCount: Int {
        var count = 0
        self.shards.withEach { count += $0.pending.count }
        return count
    }

    // MARK: Recording

    /// Takes one record. A deployment this process has seen before is counted at once into its minute bucket in
    /// memory (a few microseconds, spread evenly over the requests instead of bursts of background work that would
    /// show in their tail); the first records of a deployment wait in a buffer until the background task has built
    /// its reference profile. Records of requests that never reached a deployment (unknown model, refused
    /// credential) are not attributed to any deployment and are skipped.
    public func record(_ record: PredictionRecord) {
        guard self.configuration.isEnabled, let prepared = record.prepared else { return }
        let id = prepared.deployment.id
        let key = BucketKey(deploymentID: id, start: StatisticsBucketSize.minute.start(of: record.receivedAt))
        let counted = self.shards.withCurrent { state -> Bool in
            // In place: copying the context would retain each of its parts, for every request.
            guard let index = state.contexts.index(forKey: id) else { return false }
            if state.contexts.values[index].lastSeen < record.receivedAt {
                state.contexts.values[index].lastSeen = record.receivedAt
            }
            let reference = state.contexts.values[index].reference
            state.pending[
                key,
                default: PendingBucket(
                    modelID: prepared.deployment.modelID,
                    environmentID: prepared.deployment.environmentID
                )
            ].statistics.add(record, profile: reference.profile, order: reference.order)
            return true
        }
        if !counted { self.incoming.withLock { $0.append(record) } }
    }

    /// How many records are folded between two yields to queued work.
    static let recordsPerSlice = 64

    /// Folds the buffered records (those of deployments seen for the first time) into the in-memory minute buckets,
    /// building each one's reference profile.
    func aggregate() async {
        let records = self.incoming.withLock { buffer in
            defer { buffer = [] }
            return buffer
        }
        guard !records.isEmpty else { return }
        var contexts = self.contexts()
        for record in records {
            let prepared = record.prepared!
            if contexts[prepared.deployment.id] == nil {
                contexts[prepared.deployment.id] = await self.makeContext(for: prepared)
            }
        }
        var buckets: [BucketKey: PendingBucket] = [:]
        var seen: [UUID: Date] = [:]
        for (index, record) in records.enumerated() {
            // Folding thousands of records is milliseconds of work on one of the few cooperative threads that also
            // answer predictions: let queued requests run between chunks, so the fold never shows in their tail.
            if index > 0, index.isMultiple(of: Self.recordsPerSlice) { await Task.yield() }
            let prepared = record.prepared!
            let deployment = prepared.deployment
            let context = contexts[deployment.id]!
            let key = BucketKey(
                deploymentID: deployment.id,
                start: StatisticsBucketSize.minute.start(of: record.receivedAt)
            )
            buckets[key, default: PendingBucket(modelID: deployment.modelID, environmentID: deployment.environmentID)]
                .statistics.add(record, profile: context.profile, order: context.reference.order)
            seen[deployment.id] = max(seen[deployment.id] ?? record.receivedAt, record.receivedAt)
        }
        self.shards.withEach { state in
            for (id, context) in contexts where state.contexts[id] == nil { state.contexts[id] = context }
        }
        self.shards.withShard(0) { state in
            for (id, date) in seen {
                if let last = state.contexts[id]?.lastSeen { state.contexts[id]!.lastSeen = max(last, date) }
            }
        }
        self.keep(buckets)
    }

    /// Builds a deployment's reference profile and stores it, or takes the one another process stored first.
    private func makeContext(for prepared: PreparedModel) async -> DeploymentContext {
        let reference: String?
        do {
            reference = try await self.repository.deploymentReference(id: prepared.deployment.id)
        } catch {
            reference = nil
            self.logger.warning(
                "the deployment's reference rows could not be read; drift is measured against its samples",
                metadata: ["deployment.id": "\(prepared.deployment.id)", "error": "\(error)"]
            )
        }
        var profile = ReferenceProfile.make(for: prepared, reference: reference)
        do {
            let text = String(decoding: try JSONEncoder().encode(profile), as: UTF8.self)
            if let stored = try await self.repository.storeReferenceProfile(
                deploymentID: prepared.deployment.id,
                profile: text
            ), stored != text {
                profile = try JSONDecoder().decode(ReferenceProfile.self, from: Data(stored.utf8))
            }
        } catch {
            self.logger.warning(
                "the reference profile could not be stored; using this process's own",
                metadata: ["deployment.id": "\(prepared.deployment.id)", "error": "\(error)"]
            )
        }
        return DeploymentContext(
            reference: DeploymentContext.Reference(profile: profile, order: FeatureColumns.order(of: prepared)),
            model: prepared.model.fullName,
            environment: prepared.environment,
            version: prepared.deployment.version,
            lastSeen: self.clock()
        )
    }

    // MARK: Writing

    /// Writes every record received so far to the database (minute and hour buckets, merged with stored ones).
    /// On failure the buckets stay in memory for the next flush and the error is thrown.
    public func flush() async throws {
        try await self.gate.withGate {
            await self.aggregate()
            var pending: [BucketKey: PendingBucket] = [:]
            for index in 0..<self.shards.count {
                let taken = self.shards.withShard(index) { state in
                    defer { state.pending = [:] }
                    return state.pending
                }
                for (key, bucket) in taken {
                    Self.add(bucket, at: key, to: &pending)
                }
            }
            guard !pending.isEmpty else { return }
            do {
                try await self.repository.mergeStatistics(try Self.records(pending), combine: Self.combine)
            } catch {
                self.keep(pending)
                throw error
            }
        }
    }

    /// The stored records for pending minute buckets: one per minute, plus one per hour summing its minutes.
    static func records(_ pending: [BucketKey: PendingBucket]) throws -> [StatisticsBucketRecord] {
        var hours: [BucketKey: PendingBucket] = [:]
        for (key, bucket) in pending {
            let hour = BucketKey(deploymentID: key.deploymentID, start: StatisticsBucketSize.hour.start(of: key.start))
            Self.add(bucket, at: hour, to: &hours)
        }
        let encoder = JSONEncoder()
        var records: [StatisticsBucketRecord] = []
        for (size, buckets) in [(StatisticsBucketSize.minute, pending), (.hour, hours)] {
            for (key, bucket) in buckets {
                records.append(
                    StatisticsBucketRecord(
                        deploymentID: key.deploymentID,
                        modelID: bucket.modelID,
                        environmentID: bucket.environmentID,
                        size: size,
                        start: key.start,
                        requests: bucket.statistics.requests,
                        errors: bucket.statistics.errors,
                        payload: String(decoding: try encoder.encode(bucket.statistics), as: UTF8.self)
                    )
                )
            }
        }
        return records
    }

    /// Merges a stored payload with an added one.
    @Sendable static func combine(_ stored: String, _ added: String) throws -> String {
        let decoder = JSONDecoder()
        var merged = try decoder.decode(BucketStatistics.self, from: Data(stored.utf8))
        merged.merge(try decoder.decode(BucketStatistics.self, from: Data(added.utf8)))
        return String(decoding: try JSONEncoder().encode(merged), as: UTF8.self)
    }

    /// Deletes minute and hour buckets past their retention.
    func prune() async throws {
        let now = self.clock()
        let minutes = try await self.repository.pruneStatistics(
            size: .minute,
            before: now.addingTimeInterval(-Double(self.configuration.minuteRetention))
        )
        let hours = try await self.repository.pruneStatistics(
            size: .hour,
            before: now.addingTimeInterval(-Double(self.configuration.hourRetention))
        )
        if minutes + hours > 0 {
            self.logger.debug("pruned statistics buckets", metadata: ["minutes": "\(minutes)", "hours": "\(hours)"])
        }
        // Forget deployments not seen for a day (their profile is stored; a new record builds the context again).
        let horizon = now.addingTimeInterval(-86_400)
        let stale = self.contexts().filter { $0.value.lastSeen < horizon }.keys
        guard !stale.isEmpty else { return }
        self.shards.withEach { state in
            for id in stale { state.contexts[id] = nil }
        }
    }

    // MARK: Drift gauges

    /// The reference profile this process uses for a deployment, if it has seen it.
    func profile(of deploymentID: UUID) -> ReferenceProfile? {
        self.shards.withShard(0) { $0.contexts[deploymentID]?.profile }
    }

    /// Recomputes `slipway_drift_psi` for every deployment this process served within the drift window, over the
    /// window's stored buckets (every process's), and removes the gauges of the others.
    func refreshDriftGauges() async throws {
        let now = self.clock()
        let window = Double(self.configuration.driftWindow)
        let from = now.addingTimeInterval(-window)
        let active = self.contexts().filter { $0.value.lastSeen >= from }
        var values: [DriftGauges.Key: Double] = [:]
        if !active.isEmpty {
            let size = StatisticsReader.bucketSize(
                forWindow: self.configuration.driftWindow,
                configuration: self.configuration
            )
            let records = try await self.repository.statistics(
                deploymentIDs: Array(active.keys),
                size: size,
                from: size.start(of: from),
                to: now.addingTimeInterval(Double(size.seconds))
            )
            let merged = try StatisticsReader.mergeByDeployment(records)
            for (id, context) in active {
                let drift = DriftReport.make(
                    profile: context.profile,
                    live: merged[id] ?? BucketStatistics(),
                    threshold: MonitoringSettings.defaultDriftThreshold,
                    from: from,
                    to: now
                )
                let base = DriftGauges.Key(
                    model: context.model,
                    environment: context.environment,
                    version: context.version,
                    feature: ""
                )
                for (name, index) in drift.features {
                    var key = base
                    key.feature = name
                    values[key] = index
                }
                if let index = drift.predictions {
                    var key = base
                    key.feature = DriftGauges.predictionsFeature
                    values[key] = index
                }
            }
        }
        self.gauges.update(values)
    }

    // MARK: Service

    /// Aggregates, flushes, prunes and refreshes the drift gauges until a graceful shutdown, then writes everything
    /// still in memory.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        do {
            try await self.flush()
        } catch {
            self.logger.error(
                "statistics could not be written on shutdown",
                metadata: [
                    "error": "\(error)",
                    "buckets": "\(self.pendingCount)",
                ]
            )
        }
    }

    private func loop() async {
        let clock = ContinuousClock()
        var nextFlush = clock.now.advanced(by: self.configuration.flushInterval)
        var nextPrune = clock.now
        var nextDrift = clock.now.advanced(by: self.configuration.driftInterval)
        var isFailing = false
        while !Task.isCancelled {
            try? await Task.sleep(for: self.configuration.aggregationInterval)
            if Task.isCancelled { return }
            let now = clock.now
            if now >= nextFlush {
                nextFlush = now.advanced(by: self.configuration.flushInterval)
                do {
                    try await self.flush()
                    if isFailing { self.logger.info("statistics are written again") }
                    isFailing = false
                } catch {
                    if !isFailing {
                        self.logger.warning(
                            "writing statistics failed; kept in memory",
                            metadata: ["error": "\(error)"]
                        )
                    }
                    isFailing = true
                }
            } else {
                await self.gate.withGate { await self.aggregate() }
            }
            if now >= nextPrune {
                nextPrune = now.advanced(by: self.configuration.pruneInterval)
                do {
                    try await self.prune()
                } catch {
                    self.logger.info("pruning statistics failed", metadata: ["error": "\(error)"])
                }
            }
            if now >= nextDrift {
                nextDrift = now.advanced(by: self.configuration.driftInterval)
                do {
                    try await self.refreshDriftGauges()
                } catch {
                    self.logger.info("computing drift failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
