import Foundation

/// Why a statistic could not be computed.
public enum StatisticsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The data cannot support the statistic (too few samples, zero variance, a rate of 0 or 1, no data…).
    case insufficientData(String)
    /// A parameter such as the confidence level is out of range; the text names it and what was expected.
    case invalidParameter(String)

    /// The reason, readable as is.
    public var description: String {
        switch self {
        case .insufficientData(let reason): reason
        case .invalidParameter(let reason): reason
        }
    }
}

/// A two-sided confidence interval.
public struct ConfidenceInterval: Sendable, Hashable, Codable {
    /// Lower bound.
    public var low: Double
    /// Upper bound.
    public var high: Double
    /// Confidence level, e.g. 0.95.
    public var level: Double

    /// An interval [low, high] at `level`.
    public init(low: Double, high: Double, level: Double) {
        self.low = low
        self.high = high
        self.level = level
    }
}

/// The test a comparison used; its raw value is the name in the readout JSON.
public enum SignificanceTest: String, Sendable, Hashable, Codable {
    /// Two-proportion z-test with the pooled standard error.
    case twoProportionZ = "two_proportion_z"
    /// Welch's unequal-variance t-test.
    case welchT = "welch_t"
}

/// The result of comparing a candidate arm with the baseline arm (candidate − baseline).
public struct ComparisonResult: Sendable, Hashable {
    /// The test used.
    public var test: SignificanceTest
    /// Candidate estimate minus baseline estimate.
    public var difference: Double
    /// Confidence interval of the difference (unpooled standard error for proportions; Welch df for means).
    public var interval: ConfidenceInterval
    /// The z or t statistic (positive when the candidate is higher).
    public var statistic: Double
    /// Two-sided p-value.
    public var pValue: Double
    /// Welch–Satterthwaite degrees of freedom (nil for the z-test).
    public var degreesOfFreedom: Double?
}

/// Confidence intervals, significance tests and minimum detectable effects for A/B readouts.
public enum ExperimentStatistics {
    /// The two-sided critical value z_{(1+level)/2}; throws unless 0 < level < 1.
    static func normalCritical(level: Double, name: String = "confidence") throws(StatisticsError) -> Double {
        guard level > 0, level < 1 else {
            throw .invalidParameter("\(name) is \(level), expected a number between 0 and 1 (exclusive)")
        }
        return -Normal.quantile((1 - level) / 2)
    }

    /// The Wald interval p ± z √(p(1−p)/n) of a proportion.
    /// Throws `insufficientData` when n < 2 or the rate is 0 or 1 (the interval would have zero width).
    public static func waldInterval(
        _ sample: ProportionSample,
        confidence: Double = 0.95
    ) throws(StatisticsError) -> ConfidenceInterval {
        try self.waldInterval(sample, confidence: confidence, label: "the sample")
    }

    static func waldInterval(
        _ sample: ProportionSample,
        confidence: Double,
        label: String
    ) throws(StatisticsError) -> ConfidenceInterval {
        let z = try self.normalCritical(level: confidence)
        let p = try self.rate(of: sample, label: label)
        let se = (p * (1 - p) / Double(sample.n)).squareRoot()
        guard se > 0 else {
            throw .insufficientData(
                "\(label) has a rate of \(p == 0 ? "0" : "1") (\(sample.successes) of \(sample.n)): "
                    + "the Wald interval is undefined"
            )
        }
        return ConfidenceInterval(low: p - z * se, high: p + z * se, level: confidence)
    }

    /// The t interval mean ± t_{n−1} s/√n of a mean. Throws `insufficientData` when n < 2 or the variance is 0.
    public static func meanInterval(
        _ sample: MeanSample,
        confidence: Double = 0.95
    ) throws(StatisticsError) -> ConfidenceInterval {
        try self.meanInterval(sample, confidence: confidence, label: "the sample")
    }

    static func meanInterval(
        _ sample: MeanSample,
        confidence: Double,
        label: String
    ) throws(StatisticsError) -> ConfidenceInterval {
        _ = try self.normalCritical(level: confidence)
        try self.checkMean(sample, label: label)
        let se = (sample.variance / Double(sample.n)).squareRoot()
        guard se > 0 else {
            throw .insufficientData("\(label) has a variance of 0 over \(sample.n) values: the t interval is undefined")
        }
        guard let distribution = StudentT(degreesOfFreedom: Double(sample.n - 1)) else {
            throw .insufficientData("\(label) has fewer than 2 values")
        }
        let t = -distribution.quantile((1 - confidence) / 2)
        return ConfidenceInterval(low: sample.mean - t * se, high: sample.mean + t * se, level: confidence)
    }

    /// Two-proportion z-test of candidate − baseline: z = (p₂ − p₁) / √(p̄(1−p̄)(1/n₁ + 1/n₂)) with the pooled
    /// rate p̄, two-sided p-value; the interval of the difference uses the unpooled standard error
    /// √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂). Throws `insufficientData` when an arm has n < 2, or the pooled rate is 0 or 1.
    public static func twoProportionZTest(
        baseline: ProportionSample,
        candidate: ProportionSample,
        confidence: Double = 0.95
    ) throws(StatisticsError) -> ComparisonResult {
        let z = try self.normalCritical(level: confidence)
        let p1 = try self.rate(of: baseline, label: "the baseline")
        let p2 = try self.rate(of: candidate, label: "the candidate")
        let n1 = Double(baseline.n)
        let n2 = Double(candidate.n)
        let pooled = Double(baseline.successes + candidate.successes) / (n1 + n2)
        let pooledSE = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        guard pooledSE > 0 else {
            throw .insufficientData(
                "the rate is \(pooled == 0 ? "0" : "1") in both arms: the z statistic is undefined"
            )
        }
        let difference = p2 - p1
        let statistic = difference / pooledSE
        let unpooledSE = (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2).squareRoot()
        return ComparisonResult(
            test: .twoProportionZ,
            difference: difference,
            interval: ConfidenceInterval(
                low: difference - z * unpooledSE,
                high: difference + z * unpooledSE,
                level: confidence
            ),
            statistic: statistic,
            pValue: min(1, 2 * Normal.cdf(-abs(statistic))),
            degreesOfFreedom: nil
        )
    }

    /// Welch's t-test of candidate − baseline: t = (m₂ − m₁) / √(s₁²/n₁ + s₂²/n₂), Welch–Satterthwaite
    /// degrees of freedom, two-sided p-value, and the t interval of the difference with those degrees of freedom.
    /// Throws `insufficientData` when an arm has n < 2 or both variances are 0.
    public static func welchTTest(
        baseline: MeanSample,
        candidate: MeanSample,
        confidence: Double = 0.95
    ) throws(StatisticsError) -> ComparisonResult {
        _ = try self.normalCritical(level: confidence)
        try self.checkMean(baseline, label: "the baseline")
        try self.checkMean(candidate, label: "the candidate")
        let v1 = baseline.variance / Double(baseline.n)
        let v2 = candidate.variance / Double(candidate.n)
        let se = (v1 + v2).squareRoot()
        guard se > 0 else {
            throw .insufficientData("the variance is 0 in both arms: the t statistic is undefined")
        }
        let difference = candidate.mean - baseline.mean
        guard se.isFinite, difference.isFinite else {
            throw .insufficientData(
                "the values are too large to compare: the difference or its standard error overflows"
            )
        }
        // Welch–Satterthwaite, with the variances of the means scaled by the larger so nothing overflows.
        let scale = max(v1, v2)
        let r1 = v1 / scale
        let r2 = v2 / scale
        let df = (r1 + r2) * (r1 + r2) / (r1 * r1 / Double(baseline.n - 1) + r2 * r2 / Double(candidate.n - 1))
        guard let distribution = StudentT(degreesOfFreedom: df) else {
            throw .insufficientData("the Welch–Satterthwaite degrees of freedom are undefined")
        }
        let statistic = difference / se
        let t = -distribution.quantile((1 - confidence) / 2)
        return ComparisonResult(
            test: .welchT,
            difference: difference,
            interval: ConfidenceInterval(low: difference - t * se, high: difference + t * se, level: confidence),
            statistic: statistic,
            pValue: min(1, 2 * distribution.cdf(-abs(statistic))),
            degreesOfFreedom: df
        )
    }

    /// Minimum detectable effect (absolute difference in rates) of a two-sided z-test at `alpha` with `power`:
    /// (z_{1−α/2} + z_{power}) · √(p̄(1−p̄)(1/n₁ + 1/n₂)), where p̄ is the pooled rate of both arms (the common
    /// rate under the null hypothesis, the same p̄ the test statistic uses).
    public static func minimumDetectableEffect(
        baseline: ProportionSample,
        candidate: ProportionSample,
        alpha: Double = 0.05,
        power: Double = 0.8
    ) throws(StatisticsError) -> Double {
        let factor = try self.mdeFactor(alpha: alpha, power: power)
        _ = try self.rate(of: baseline, label: "the baseline")
        _ = try self.rate(of: candidate, label: "the candidate")
        let n1 = Double(baseline.n)
        let n2 = Double(candidate.n)
        let pooled = Double(baseline.successes + candidate.successes) / (n1 + n2)
        let se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        guard se > 0 else {
            throw .insufficientData("the rate is \(pooled == 0 ? "0" : "1") in both arms: the MDE is undefined")
        }
        return factor * se
    }

    /// Minimum detectable effect (absolute difference in means) of a two-sided test at `alpha` with `power`:
    /// (z_{1−α/2} + z_{power}) · √(s₁²/n₁ + s₂²/n₂).
    public static func minimumDetectableEffect(
        baseline: MeanSample,
        candidate: MeanSample,
        alpha: Double = 0.05,
        power: Double = 0.8
    ) throws(StatisticsError) -> Double {
        let factor = try self.mdeFactor(alpha: alpha, power: power)
        try self.checkMean(baseline, label: "the baseline")
        try self.checkMean(candidate, label: "the candidate")
        let se = (baseline.variance / Double(baseline.n) + candidate.variance / Double(candidate.n)).squareRoot()
        guard se > 0 else {
            throw .insufficientData("the variance is 0 in both arms: the MDE is undefined")
        }
        return factor * se
    }

    static func mdeFactor(alpha: Double, power: Double) throws(StatisticsError) -> Double {
        guard alpha > 0, alpha < 1 else {
            throw .invalidParameter("alpha is \(alpha), expected a number between 0 and 1 (exclusive)")
        }
        guard power > 0, power < 1 else {
            throw .invalidParameter("power is \(power), expected a number between 0 and 1 (exclusive)")
        }
        return -Normal.quantile(alpha / 2) + Normal.quantile(power)
    }

    /// The rate of a valid sample with n ≥ 2.
    static func rate(of sample: ProportionSample, label: String) throws(StatisticsError) -> Double {
        if let reason = sample.invalidReason { throw .insufficientData("\(label): \(reason)") }
        guard sample.n >= 2 else {
            throw .insufficientData("\(label) has \(sample.n) sample\(sample.n == 1 ? "" : "s"), at least 2 needed")
        }
        return Double(sample.successes) / Double(sample.n)
    }

    /// Checks that a mean sample is valid and has n ≥ 2.
    static func checkMean(_ sample: MeanSample, label: String) throws(StatisticsError) {
        if let reason = sample.invalidReason { throw .insufficientData("\(label): \(reason)") }
        guard sample.n >= 2 else {
            throw .insufficientData("\(label) has \(sample.n) value\(sample.n == 1 ? "" : "s"), at least 2 needed")
        }
    }
}
