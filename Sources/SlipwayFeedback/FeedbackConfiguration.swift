/// Settings of the feedback layer: outcome retention, how often the background task flushes and evaluates alerts,
/// and its bounds.
public struct FeedbackConfiguration: Sendable {
    /// How long per-request outcome records (what feedback joins with) are kept, in days.
    public var outcomeRetentionDays: Int
    /// How often buffered records are written.
    public var flushInterval: Duration
    /// How often alert rules are evaluated.
    public var alertInterval: Duration
    /// How often log settings are re-read (other nodes' changes).
    public var settingsInterval: Duration
    /// How often old outcomes and log entries are pruned.
    public var pruneInterval: Duration
    /// The most records waiting for a flush; beyond it records are dropped (and counted) rather than slowing
    /// predictions. A buffer half full is flushed at once, before the flush interval is up.
    public var maximumBufferedRecords: Int
    /// The most webhook deliveries waiting; beyond it the oldest are dropped.
    public var webhookQueueSize: Int
    /// Attempts per webhook delivery.
    public var webhookAttempts: Int
    /// The wait before the second attempt; doubled for each further one.
    public var webhookBackoff: Duration

    /// Creates a configuration (7 days of outcomes, flush every second, alerts every 30 s).
    public init(
        outcomeRetentionDays: Int = 7,
        flushInterval: Duration = .seconds(1),
        alertInterval: Duration = .seconds(30),
        settingsInterval: Duration = .seconds(5),
        pruneInterval: Duration = .seconds(600),
        maximumBufferedRecords: Int = 50_000,
        webhookQueueSize: Int = 1_000,
        webhookAttempts: Int = 5,
        webhookBackoff: Duration = .milliseconds(500)
    ) {
        self.outcomeRetentionDays = outcomeRetentionDays
        self.flushInterval = flushInterval
        self.alertInterval = alertInterval
        self.settingsInterval = settingsInterval
        self.pruneInterval = pruneInterval
        self.maximumBufferedRecords = maximumBufferedRecords
        self.webhookQueueSize = webhookQueueSize
        self.webhookAttempts = webhookAttempts
        self.webhookBackoff = webhookBackoff
    }
}
