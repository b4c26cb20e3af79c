import Foundation

/// The length of one statistics bucket.
public enum StatisticsBucketSize: String, Hashable, Sendable, Codable, CaseIterable {
    /// Buckets of 60 seconds.
    case minute
    /// Buckets of 3,600 seconds.
    case hour

    /// The bucket's length in seconds.
    public var seconds: Int64 {
        switch self {
        case .minute: 60
        case .hour: 3_600
        }
    }

    /// The start of the bucket holding `date` (the date rounded down to a whole bucket since 1970).
    public func start(of date: Date) -> Date {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let start = seconds - ((seconds % self.seconds) + self.seconds) % self.seconds
        return Date(timeIntervalSince1970: Double(start))
    }
}

/// One stored statistics bucket of one deployment: the request and error counters the database adds up itself,
/// and the rest of the statistics as an opaque JSON payload that only the monitoring layer reads and merges.
public struct StatisticsBucketRecord: Hashable, Sendable {
    /// The deployment measured.
    public var deploymentID: UUID
    /// The deployment's model.
    public var modelID: UUID
    /// The deployment's environment.
    public var environmentID: UUID
    /// Minute or hour.
    public var size: StatisticsBucketSize
    /// The bucket's first instant (a whole minute or hour).
    public var start: Date
    /// Prediction requests answered or refused by the deployment in the bucket.
    public var requests: Int64
    /// The refused ones among them.
    public var errors: Int64
    /// The monitoring layer's statistics (JSON text).
    public var payload: String

    /// Creates a bucket record.
    public init(
        deploymentID: UUID,
        modelID: UUID,
        environmentID: UUID,
        size: StatisticsBucketSize,
        start: Date,
        requests: Int64,
        errors: Int64,
        payload: String
    ) {
        self.deploymentID = deploymentID
        self.modelID = modelID
        self.environmentID = environmentID
        self.size = size
        self.start = start
        self.requests = requests
        self.errors = errors
        self.payload = payload
    }
}

/// A model's monitoring settings.
public struct MonitoringSettings: Hashable, Sendable {
    /// The model.
    public var modelID: UUID
    /// The population stability index above which a feature or the predictions count as drifting.
    public var driftThreshold: Double
    /// When the settings last changed.
    public var updatedAt: Date

    /// The threshold a model has until someone sets one.
    public static let defaultDriftThreshold = 0.2

    /// Creates settings.
    public init(modelID: UUID, driftThreshold: Double, updatedAt: Date) {
        self.modelID = modelID
        self.driftThreshold = driftThreshold
        self.updatedAt = updatedAt
    }
}

/// Where per-deployment statistics and the reference profiles for drift live, and the models' monitoring settings.
///
/// Several server processes may write the same bucket: ``mergeStatistics(_:combine:)`` adds counters in the
/// database and merges payloads under a row lock, so no process's counts replace another's.
public protocol StatisticsRepository: Sendable {
    /// Adds each record to its stored bucket in one transaction: requests and errors are summed; the payload becomes
    /// `combine(stored, added)` (or `added` for a new bucket). Records of deployments that no longer exist are
    /// dropped.
    ///
    /// - Parameters:
    ///   - records: the buckets to add; at most one per deployment, size and start.
    ///   - combine: merges a stored payload with an added one; called inside the transaction.
    func mergeStatistics(
        _ records: [StatisticsBucketRecord],
        combine: @escaping @Sendable (_ stored: String, _ added: String) throws -> String
    ) async throws

    /// The buckets of `size` of these deployments that start in `[from, to)`, ordered by deployment then start.
    func statistics(
        deploymentIDs: [UUID],
        size: StatisticsBucketSize,
        from: Date,
        to: Date
    ) async throws -> [StatisticsBucketRecord]

    /// The buckets of `size` of every deployment of an environment that start in `[from, to)`, ordered by
    /// deployment then start.
    func statistics(
        environmentID: UUID,
        size: StatisticsBucketSize,
        from: Date,
        to: Date
    ) async throws -> [StatisticsBucketRecord]

    /// Deletes the buckets of `size` that start before `date`; returns how many were deleted.
    func pruneStatistics(size: StatisticsBucketSize, before date: Date) async throws -> Int

    /// Stores a deployment's reference profile (JSON text) unless one is stored already; returns the stored one.
    /// Returns `nil` when the deployment no longer exists.
    func storeReferenceProfile(deploymentID: UUID, profile: String) async throws -> String?

    /// The reference rows sent with a deployment (a JSON array of rows), or `nil` when it carries none.
    func deploymentReference(id: UUID) async throws -> String?

    /// A deployment's stored reference profile (JSON text), if any.
    func referenceProfile(deploymentID: UUID) async throws -> String?

    /// A model's monitoring settings, `nil` while it has the defaults.
    func monitoringSettings(modelID: UUID) async throws -> MonitoringSettings?

    /// Stores a model's monitoring settings and records `event` in the same transaction.
    func setMonitoringSettings(_ settings: MonitoringSettings, event: ActivityEvent) async throws
}
