import Histogram

/// Request latencies in microseconds as an HDR histogram (three significant digits: every value is kept within 0.1 %),
/// mergeable exactly: adding two histograms gives the histogram of both sets of requests.
///
/// Stored as the non-empty buckets only (`[[value, count], …]` plus the exact minimum and maximum), so a minute of
/// traffic costs a few hundred bytes rather than the histogram's whole counts array.
///
/// ```swift
/// var latency = LatencyHistogram()
/// latency.record(seconds: 0.0021)
/// latency.percentile(99)  // 2.1 (milliseconds)
/// ```
public struct LatencyHistogram: Sendable, Equatable {
    /// Latencies above this (one hour, in microseconds) are recorded as this.
    public static let highestMicroseconds: UInt64 = 3_600_000_000

    var histogram: Histogram<UInt64>

    /// An empty histogram.
    public init() {
        // Auto-resizing: the counts array only grows as far as the largest latency seen.
        self.histogram = Histogram(numberOfSignificantValueDigits: .three)
    }

    /// How many latencies were recorded.
    public var count: UInt64 { self.histogram.totalCount }

    /// Records one latency given in seconds (rounded to whole microseconds, at least 1 µs).
    public mutating func record(seconds: Double) {
        let microseconds = seconds.isFinite && seconds > 0 ? (seconds * 1_000_000).rounded() : 1
        self.record(microseconds: UInt64(min(max(microseconds, 1), Double(Self.highestMicroseconds))))
    }

    /// Records one latency given in microseconds.
    public mutating func record(microseconds: UInt64, count: UInt64 = 1) {
        self.histogram.record(min(max(microseconds, 1), Self.highestMicroseconds), count: count)
    }

    /// Adds every latency of `other`.
    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        self.histogram.add(other.histogram)
    }

    /// The latency at `percentile` (0–100) in milliseconds: the largest value that `percentile` % of the requests
    /// took at most, within the histogram's precision; 0 when nothing was recorded.
    public func percentile(_ percentile: Double) -> Double {
        guard self.count > 0 else { return 0 }
        return Double(self.histogram.valueAtPercentile(percentile)) / 1_000
    }

    /// The longest latency in milliseconds (exact).
    public var maximum: Double { self.count > 0 ? Double(self.histogram.maxRecorded) / 1_000 : 0 }

    /// The shortest latency in milliseconds (exact).
    public var minimum: Double { self.count > 0 ? Double(self.histogram.min) / 1_000 : 0 }

    /// The mean latency in milliseconds (from the bucket midpoints, within the histogram's precision).
    public var mean: Double { self.count > 0 ? self.histogram.mean / 1_000 : 0 }
}

extension LatencyHistogram: Codable {
    private enum CodingKeys: String, CodingKey {
        case counts, min, max
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let pairs = try container.decode([[UInt64]].self, forKey: .counts)
        guard !pairs.isEmpty else { return }
        let minimum = try container.decode(UInt64.self, forKey: .min)
        let maximum = try container.decode(UInt64.self, forKey: .max)
        for pair in pairs where pair.count != 2 || pair[1] == 0 {
            throw DecodingError.dataCorruptedError(
                forKey: .counts,
                in: container,
                debugDescription: "expected [value, count] pairs with positive counts"
            )
        }
        // Each stored value stands for its whole bucket (it is the bucket's highest equivalent value). The exact
        // minimum and maximum are recorded too, in their own buckets, and the other values of the last bucket at its
        // lowest equivalent value, so the histogram's minimum and maximum stay exact across round trips.
        if pairs.count == 1 {
            let count = pairs[0][1]
            self.record(microseconds: minimum)
            if count >= 2 { self.record(microseconds: maximum) }
            if count > 2 { self.record(microseconds: minimum, count: count - 2) }
            return
        }
        for (index, pair) in pairs.enumerated() {
            let (value, count) = (pair[0], pair[1])
            if index == 0 {
                self.record(microseconds: minimum)
                if count > 1 { self.record(microseconds: value, count: count - 1) }
            } else if index == pairs.count - 1 {
                if count > 1 {
                    self.record(microseconds: self.histogram.lowestEquivalentForValue(maximum), count: count - 1)
                }
                self.record(microseconds: maximum)
            } else {
                self.record(microseconds: value, count: count)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var pairs: [[UInt64]] = []
        if self.count > 0 {
            for step in self.histogram.recordedValues() {
                pairs.append([step.value, step.count])
            }
        }
        try container.encode(pairs, forKey: .counts)
        if self.count > 0 {
            try container.encode(self.histogram.min, forKey: .min)
            try container.encode(self.histogram.maxRecorded, forKey: .max)
        }
    }
}
