import Foundation

/// An offline scoring job: an uploaded CSV or JSONL file streamed through one deployment into a result file.
public struct BatchJob: Sendable, Hashable {
    /// Where a job is in its life.
    public enum State: String, Sendable, Hashable, CaseIterable {
        case queued, running, succeeded, failed, cancelled

        /// Whether the job has stopped for good.
        public var isFinished: Bool {
            switch self {
            case .queued, .running: false
            case .succeeded, .failed, .cancelled: true
            }
        }
    }

    /// The input (and result) file format.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case csv, jsonl
    }

    /// The job's id (also the stem of its files' server-chosen names).
    public var id: UUID
    /// The model project.
    public var modelID: UUID
    /// The environment whose deployment scores the rows.
    public var environment: String
    /// The deployment version, resolved when the job was submitted.
    public var version: Int
    /// The input format; the result file uses the same one.
    public var format: Format
    /// Where the job is.
    public var state: State
    /// Why it failed or was cancelled.
    public var reason: String?
    /// Sort class probabilities descending (`order=desc`).
    public var descending: Bool
    /// How many classes to keep per row (-1 = all).
    public var limit: Int
    /// The smallest probability kept.
    public var threshold: Double
    /// The uploaded file's size in bytes.
    public var inputBytes: Int64
    /// Rows scored or reported so far.
    public var rowsDone: Int
    /// Rows in the file, once known (after the run).
    public var rowsTotal: Int?
    /// Rows that went to the error report.
    public var errorCount: Int
    /// Who submitted the job (a user or a serving key's name).
    public var submittedBy: String
    /// When the job was submitted.
    public var createdAt: Date
    /// When it started running.
    public var startedAt: Date?
    /// When it finished.
    public var finishedAt: Date?

    /// Creates a job record.
    public init(
        id: UUID = UUID(),
        modelID: UUID,
        environment: String,
        version: Int,
        format: Format,
        state: State = .queued,
        reason: String? = nil,
        descending: Bool = true,
        limit: Int = -1,
        threshold: Double = 0,
        inputBytes: Int64,
        rowsDone: Int = 0,
        rowsTotal: Int? = nil,
        errorCount: Int = 0,
        submittedBy: String,
        createdAt: Date = Date(),
        startedAt: Date? = nil,
        finishedAt: Date? = nil
    ) {
        self.id = id
        self.modelID = modelID
        self.environment = environment
        self.version = version
        self.format = format
        self.state = state
        self.reason = reason
        self.descending = descending
        self.limit = limit
        self.threshold = threshold
        self.inputBytes = inputBytes
        self.rowsDone = rowsDone
        self.rowsTotal = rowsTotal
        self.errorCount = errorCount
        self.submittedBy = submittedBy
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// Where batch jobs are persisted (the SQL repository; migration 7).
public protocol BatchJobRepository: Sendable {
    /// Records a new job.
    func insertBatchJob(_ job: BatchJob) async throws
    /// Overwrites a job's state, progress and times.
    func updateBatchJob(_ job: BatchJob) async throws
    /// The job with `id`, if any.
    func batchJob(id: UUID) async throws -> BatchJob?
    /// A model environment's jobs, newest first.
    func batchJobs(modelID: UUID, environment: String) async throws -> [BatchJob]
    /// Every job in one of `states`, oldest first.
    func batchJobs(in states: [BatchJob.State]) async throws -> [BatchJob]
    /// Finished jobs that finished before `date`.
    func finishedBatchJobs(before date: Date) async throws -> [BatchJob]
    /// Removes a job's record.
    func deleteBatchJob(id: UUID) async throws
}
