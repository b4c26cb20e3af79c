/// How per-deployment statistics are collected, kept and read.
public struct StatisticsConfiguration: Sendable, Equatable {
    /// Whether predictions are recorded at all (the statistics routes still answer from what is stored).
    public var isEnabled: Bool
    /// How often the collected statistics are written to the database.
    public var flushInterval: Duration
    /// How often records handed over by the prediction routes are folded into the in-memory buckets.
    public var aggregationInterval: Duration
    /// How long minute buckets are kept, in seconds (default 48 hours).
    public var minuteRetention: Int64
    /// How long hour buckets are kept, in seconds (default 90 days).
    public var hourRetention: Int64
    /// How often buckets past their retention are deleted.
    public var pruneInterval: Duration
    /// The sliding window drift is measured over, in seconds (default one hour).
    public var driftWindow: Int64
    /// How often the drift gauges are recomputed.
    public var driftInterval: Duration
    /// The most buckets one statistics request may span.
    public var maximumBuckets: Int

    /// The defaults: on, flushed every 5 s, minute buckets for 48 h, hour buckets for 90 days, drift over one hour.
    public init(
        isEnabled: Bool = true,
        flushInterval: Duration = .seconds(5),
        aggregationInterval: Duration = .milliseconds(250),
        minuteRetention: Int64 = 48 * 3_600,
        hourRetention: Int64 = 90 * 86_400,
        pruneInterval: Duration = .seconds(600),
        driftWindow: Int64 = 3_600,
        driftInterval: Duration = .seconds(60),
        maximumBuckets: Int = 1_500
    ) {
        self.isEnabled = isEnabled
        self.flushInterval = flushInterval
        self.aggregationInterval = aggregationInterval
        self.minuteRetention = minuteRetention
        self.hourRetention = hourRetention
        self.pruneInterval = pruneInterval
        self.driftWindow = driftWindow
        self.driftInterval = driftInterval
        self.maximumBuckets = maximumBuckets
    }
}
