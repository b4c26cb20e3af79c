import Foundation

/// What one successful prediction row said, kept to join ground truth with it later.
public struct OutcomePrediction: Codable, Hashable, Sendable {
    /// The predicted class name (classifiers).
    public var label: String?
    /// Class probabilities in the deployment's class order (classifiers that give them).
    public var probabilities: [Double]?
    /// The predicted value (regressors).
    public var value: Double?

    /// Creates a row's prediction.
    public init(label: String? = nil, probabilities: [Double]? = nil, value: Double? = nil) {
        self.label = label
        self.probabilities = probabilities
        self.value = value
    }
}

/// The compact record every prediction request of a known model leaves, answered or refused: what feedback is
/// joined with and what error-rate and latency alerts read.
public struct PredictionOutcome: Hashable, Sendable {
    /// The request id (`X-Request-ID`).
    public var requestID: String
    /// The model.
    public var modelID: UUID
    /// The environment.
    public var environment: String
    /// The deployment version that answered (0 when the request did not get as far as a deployment).
    public var version: Int
    /// When the request arrived.
    public var at: Date
    /// The HTTP status answered.
    public var status: Int
    /// The server's time in seconds.
    public var latency: Double
    /// The class names of the deployment, for classifiers.
    public var classes: [String]?
    /// The predictions per row; `nil` for refused requests.
    public var predictions: [OutcomePrediction]?

    /// Creates an outcome record.
    public init(
        requestID: String,
        modelID: UUID,
        environment: String,
        version: Int,
        at: Date,
        status: Int,
        latency: Double,
        classes: [String]? = nil,
        predictions: [OutcomePrediction]? = nil
    ) {
        self.requestID = requestID
        self.modelID = modelID
        self.environment = environment
        self.version = version
        self.at = at
        self.status = status
        self.latency = latency
        self.classes = classes
        self.predictions = predictions
    }
}

/// Ground truth for one row of one earlier prediction.
public struct FeedbackEntry: Hashable, Sendable {
    /// The prediction's request id.
    public var requestID: String
    /// The row of the request (0 for single-row requests).
    public var row: Int
    /// The model.
    public var modelID: UUID
    /// When the feedback arrived.
    public var at: Date
    /// The true class name (classifiers).
    public var label: String?
    /// The true value (regressors).
    public var value: Double?
    /// A business outcome in the model's own units.
    public var outcome: Double?

    /// Creates a feedback entry.
    public init(
        requestID: String,
        row: Int,
        modelID: UUID,
        at: Date,
        label: String? = nil,
        value: Double? = nil,
        outcome: Double? = nil
    ) {
        self.requestID = requestID
        self.row = row
        self.modelID = modelID
        self.at = at
        self.label = label
        self.value = value
        self.outcome = outcome
    }

    /// Whether two entries say the same thing (time aside).
    public func hasSameContent(as other: FeedbackEntry) -> Bool {
        self.label == other.label && self.value == other.value && self.outcome == other.outcome
    }
}

/// A feedback entry joined with the prediction it judges.
public struct JoinedFeedback: Hashable, Sendable {
    /// The deployment version that predicted.
    public var version: Int
    /// The deployment's classes, for classifiers.
    public var classes: [String]?
    /// What was predicted for the row.
    public var prediction: OutcomePrediction
    /// What really happened.
    public var feedback: FeedbackEntry

    /// Creates a joined pair.
    public init(version: Int, classes: [String]?, prediction: OutcomePrediction, feedback: FeedbackEntry) {
        self.version = version
        self.classes = classes
        self.prediction = prediction
        self.feedback = feedback
    }
}

/// How an environment's prediction log is kept.
public struct PredictionLogSettings: Hashable, Sendable {
    /// The model.
    public var modelID: UUID
    /// The environment.
    public var environment: String
    /// Whether requests are logged at all.
    public var isEnabled: Bool
    /// The share of successful requests logged, 0 to 1.
    public var sampleRate: Double
    /// The most entries kept for the environment; older ones are pruned.
    public var maximumRows: Int
    /// Entries older than this many days are pruned.
    public var maximumAgeDays: Int

    /// Creates settings.
    public init(
        modelID: UUID,
        environment: String,
        isEnabled: Bool,
        sampleRate: Double,
        maximumRows: Int,
        maximumAgeDays: Int
    ) {
        self.modelID = modelID
        self.environment = environment
        self.isEnabled = isEnabled
        self.sampleRate = sampleRate
        self.maximumRows = maximumRows
        self.maximumAgeDays = maximumAgeDays
    }
}

/// One logged prediction request.
public struct PredictionLogEntry: Hashable, Sendable {
    /// Assigned by the store, increasing.
    public var id: Int64
    /// The model.
    public var modelID: UUID
    /// The environment.
    public var environment: String
    /// The deployment version.
    public var version: Int
    /// The request id.
    public var requestID: String
    /// When the request arrived.
    public var at: Date
    /// The serving key's name, if one was used.
    public var keyName: String?
    /// The input rows as sent, PII redacted (JSON text).
    public var inputs: String
    /// The outputs per row (JSON text), `null` for refused requests.
    public var outputs: String
    /// The server's time in seconds.
    public var latency: Double
    /// The HTTP status.
    public var status: Int

    /// Creates an entry; the store assigns ``id``.
    public init(
        id: Int64 = 0,
        modelID: UUID,
        environment: String,
        version: Int,
        requestID: String,
        at: Date,
        keyName: String?,
        inputs: String,
        outputs: String,
        latency: Double,
        status: Int
    ) {
        self.id = id
        self.modelID = modelID
        self.environment = environment
        self.version = version
        self.requestID = requestID
        self.at = at
        self.keyName = keyName
        self.inputs = inputs
        self.outputs = outputs
        self.latency = latency
        self.status = status
    }
}

/// Which log entries to read.
public struct PredictionLogQuery: Hashable, Sendable {
    /// Entries at or after this time.
    public var from: Date?
    /// Entries before this time.
    public var to: Date?
    /// Only this deployment version.
    public var version: Int?
    /// At most this many entries.
    public var limit: Int
    /// Entries with an id below this one (the cursor of the previous page; newest first).
    public var before: Int64?

    /// Creates a query.
    public init(from: Date? = nil, to: Date? = nil, version: Int? = nil, limit: Int = 100, before: Int64? = nil) {
        self.from = from
        self.to = to
        self.version = version
        self.limit = limit
        self.before = before
    }
}

/// A stored alert rule with its current state.
public struct StoredAlertRule: Hashable, Sendable {
    /// Stable identifier.
    public var id: UUID
    /// The model.
    public var modelID: UUID
    /// The rule's name, unique in the model.
    public var name: String
    /// The metric (`error_rate`, `p99_ms`, `drift`, `key_metric`).
    public var metric: String
    /// The comparison (`>`, `>=`, `<`, `<=`).
    public var comparison: String
    /// The threshold.
    public var threshold: Double
    /// The window in seconds.
    public var windowSeconds: Int
    /// The environment watched.
    public var environment: String
    /// Whether the rule is firing now.
    public var isFiring: Bool
    /// When the state last changed (creation time at first).
    public var changedAt: Date
    /// When the rule was created.
    public var createdAt: Date

    /// Creates a rule value.
    public init(
        id: UUID,
        modelID: UUID,
        name: String,
        metric: String,
        comparison: String,
        threshold: Double,
        windowSeconds: Int,
        environment: String,
        isFiring: Bool,
        changedAt: Date,
        createdAt: Date
    ) {
        self.id = id
        self.modelID = modelID
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.environment = environment
        self.isFiring = isFiring
        self.changedAt = changedAt
        self.createdAt = createdAt
    }
}

/// A URL that receives a model's alert events, signed with its secret.
public struct Webhook: Hashable, Sendable {
    /// Stable identifier.
    public var id: UUID
    /// The model.
    public var modelID: UUID
    /// Where events are POSTed.
    public var url: String
    /// The HMAC-SHA256 key of the `X-Slipway-Signature` header.
    public var secret: String
    /// When it was added.
    public var createdAt: Date

    /// Creates a webhook value.
    public init(id: UUID, modelID: UUID, url: String, secret: String, createdAt: Date) {
        self.id = id
        self.modelID = modelID
        self.url = url
        self.secret = secret
        self.createdAt = createdAt
    }
}

/// Request counts and latencies of an environment over a window (alerts).
public struct RequestWindow: Hashable, Sendable {
    /// Requests seen.
    public var requests: Int
    /// Requests answered with a 5xx or refused with a 429/503 (the server's failures, not the caller's).
    public var errors: Int
    /// The latencies of answered requests, in seconds (at most the newest 100,000).
    public var latencies: [Double]

    /// Creates a window summary.
    public init(requests: Int, errors: Int, latencies: [Double]) {
        self.requests = requests
        self.errors = errors
        self.latencies = latencies
    }

    /// Nearest-rank percentiles of the latencies, in seconds, one per quantile (sorted once); `nil` without
    /// latencies.
    public func latencyPercentiles(_ quantiles: Double...) -> [Double?] {
        guard !self.latencies.isEmpty else { return quantiles.map { _ in nil } }
        let sorted = self.latencies.sorted()
        return quantiles.map { quantile in
            let rank = Int((quantile * Double(sorted.count)).rounded(.up))
            return sorted[min(max(rank, 1), sorted.count) - 1]
        }
    }
}

/// How urgently a write of per-request records should get the cores.
public enum WritePriority: Sendable {
    /// As any other work of the server.
    case normal
    /// Behind the requests: an embedded SQLite database runs the write's statements on a thread at nice +10, which a
    /// network thread that wakes up preempts at once; PostgreSQL runs it as any other. For records written while the
    /// server has cores to spare; a writer that has fallen behind writes at ``normal`` priority to catch up.
    case background
}

/// Storage of the prediction log, per-request outcomes, feedback, alert rules and webhooks.
public protocol FeedbackRepository: Sendable {
    /// Records an activity event on its own (settings changes and alert transitions).
    func recordEvent(_ event: ActivityEvent) async throws

    /// Inserts outcome records (a request id already stored is left as it is), at `priority`.
    func insertOutcomes(_ outcomes: [PredictionOutcome], priority: WritePriority) async throws
    /// The outcome of a request of a model, if still kept.
    func outcome(requestID: String, modelID: UUID) async throws -> PredictionOutcome?
    /// Deletes outcomes and their feedback older than `date`; returns how many outcomes went.
    func pruneOutcomes(before date: Date) async throws -> Int
    /// Counts and latencies of an environment's requests since `date`.
    func requestWindow(modelID: UUID, environment: String, since date: Date) async throws -> RequestWindow
    /// Counts and latencies of one version's requests in `[from, to)`, with errors as a rollout guardrail sees them:
    /// every answer but a 2xx, except refusals of the caller's credentials or rate (401, 403, 404, 429).
    func versionWindow(
        modelID: UUID,
        environment: String,
        version: Int,
        from: Date,
        to: Date
    ) async throws
        -> RequestWindow

    /// Stored feedback for one row of a request.
    func feedback(modelID: UUID, requestID: String, row: Int) async throws -> FeedbackEntry?
    /// Stores new feedback entries, all or none.
    func insertFeedback(_ entries: [FeedbackEntry]) async throws
    /// Feedback of an environment joined with its predictions, by prediction time.
    func joinedFeedback(
        modelID: UUID,
        environment: String,
        from: Date,
        to: Date,
        version: Int?
    ) async throws -> [JoinedFeedback]

    /// The prediction log settings of every environment that has some.
    func allPredictionLogSettings() async throws -> [PredictionLogSettings]
    /// Stores an environment's log settings and records `event`.
    func savePredictionLogSettings(_ settings: PredictionLogSettings, event: ActivityEvent) async throws
    /// Appends log entries, at `priority`.
    func insertLogEntries(_ entries: [PredictionLogEntry], priority: WritePriority) async throws
    /// Reads log entries, newest first.
    func logEntries(
        modelID: UUID,
        environment: String,
        query: PredictionLogQuery
    ) async throws
        -> [PredictionLogEntry]
    /// Deletes entries beyond the settings' row count and age; returns how many went.
    func pruneLog(_ settings: PredictionLogSettings, now: Date) async throws -> Int

    /// Every alert rule.
    func allAlertRules() async throws -> [StoredAlertRule]
    /// A model's alert rules by name.
    func alertRules(modelID: UUID) async throws -> [StoredAlertRule]
    /// Inserts a rule and records `event`; a name already used in the model is a conflict.
    func createAlertRule(_ rule: StoredAlertRule, event: ActivityEvent) async throws
    /// Deletes a rule by name and records `event`; returns whether it existed.
    func deleteAlertRule(modelID: UUID, name: String, event: ActivityEvent) async throws -> Bool
    /// Changes a rule's state and records `event`.
    func setAlertState(id: UUID, isFiring: Bool, at date: Date, event: ActivityEvent) async throws

    /// A model's webhooks.
    func webhooks(modelID: UUID) async throws -> [Webhook]
    /// Adds a webhook and records `event`.
    func createWebhook(_ webhook: Webhook, event: ActivityEvent) async throws
    /// Removes a webhook and records `event`; returns whether it existed.
    func deleteWebhook(modelID: UUID, id: UUID, event: ActivityEvent) async throws -> Bool
}

extension FeedbackRepository {
    /// Inserts outcome records at normal priority.
    public func insertOutcomes(_ outcomes: [PredictionOutcome]) async throws {
        try await self.insertOutcomes(outcomes, priority: .normal)
    }

    /// Appends log entries at normal priority.
    public func insertLogEntries(_ entries: [PredictionLogEntry]) async throws {
        try await self.insertLogEntries(entries, priority: .normal)
    }
}
