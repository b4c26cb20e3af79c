/// A rate metric observed on one arm: `successes` out of `n` trials (for example correct predictions out of
/// predictions with ground truth).
public struct ProportionSample: Sendable, Hashable, Codable {
    /// Number of trials.
    public var n: Int
    /// Number of successes, 0 ≤ successes ≤ n.
    public var successes: Int

    /// A sample of `successes` out of `n`. Not validated here: the tests and the readout report invalid counts.
    public init(n: Int, successes: Int) {
        self.n = n
        self.successes = successes
    }

    /// successes / n, or nil when n ≤ 0 or the counts are invalid.
    public var rate: Double? {
        guard self.invalidReason == nil, self.n > 0 else { return nil }
        return Double(self.successes) / Double(self.n)
    }

    /// Why the counts cannot be used, or nil when they are consistent.
    var invalidReason: String? {
        if self.n < 0 { return "invalid sample: n is \(self.n), expected at least 0" }
        if self.successes < 0 || self.successes > self.n {
            return "invalid sample: \(self.successes) successes out of \(self.n), expected 0 to \(self.n)"
        }
        return nil
    }
}

/// A mean metric observed on one arm: the sample size, mean and sample variance (n − 1 denominator).
public struct MeanSample: Sendable, Hashable, Codable {
    /// Number of observations.
    public var n: Int
    /// Sample mean.
    public var mean: Double
    /// Sample variance with the n − 1 denominator (0 when n < 2).
    public var variance: Double

    /// A sample summarised by its size, mean and sample variance (n − 1 denominator).
    public init(n: Int, mean: Double, variance: Double) {
        self.n = n
        self.mean = mean
        self.variance = variance
    }

    /// Summarises `values` with Welford's one-pass algorithm (numerically stable: no sum of squares).
    /// An empty array gives n = 0, mean 0; a single value gives variance 0.
    public init(values: [Double]) {
        var count = 0
        var mean = 0.0
        var sumOfSquaredDeviations = 0.0
        for value in values {
            count += 1
            let delta = value - mean
            mean += delta / Double(count)
            sumOfSquaredDeviations += delta * (value - mean)
        }
        self.n = count
        self.mean = mean
        self.variance = count > 1 ? sumOfSquaredDeviations / Double(count - 1) : 0
    }

    /// Why the summary cannot be used, or nil when it is consistent.
    var invalidReason: String? {
        if self.n < 0 { return "invalid sample: n is \(self.n), expected at least 0" }
        if !self.mean.isFinite { return "invalid sample: the mean is not a finite number" }
        if !self.variance.isFinite || self.variance < 0 {
            return "invalid sample: the variance is \(self.variance), expected a finite number ≥ 0"
        }
        return nil
    }
}
