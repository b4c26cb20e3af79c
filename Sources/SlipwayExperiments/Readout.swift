/// The key metric observed on one arm: a rate (two-proportion z-test) or a mean (Welch's t-test).
public enum KeyMetricSample: Sendable, Hashable {
    /// A rate, e.g. accuracy as correct out of labelled predictions.
    case proportion(ProportionSample)
    /// A mean, e.g. revenue per prediction or absolute error.
    case mean(MeanSample)

    var kind: KeyMetricKind {
        switch self {
        case .proportion: .proportion
        case .mean: .mean
        }
    }
}

/// Whether a key metric is a rate or a mean; the raw value appears in the readout JSON.
public enum KeyMetricKind: String, Sendable, Hashable, Codable {
    /// A rate (successes out of n).
    case proportion
    /// A mean of values.
    case mean
}

/// One arm of an experiment as the readout sees it.
public struct ExperimentArm: Sendable, Hashable {
    /// The version label shown to users (e.g. "3").
    public var version: String
    /// Requests the arm served.
    public var requests: Int
    /// The key metric so far, or nil when there is no ground truth yet.
    public var keyMetric: KeyMetricSample?

    /// An arm with its version label, request count and key-metric sample (nil: no ground truth yet).
    public init(version: String, requests: Int, keyMetric: KeyMetricSample?) {
        self.version = version
        self.requests = requests
        self.keyMetric = keyMetric
    }
}

/// A non-baseline arm compared with the baseline (candidate − baseline). JSON keys are snake_case.
public struct ArmComparison: Sendable, Hashable, Codable {
    /// "two_proportion_z" or "welch_t".
    public var test: SignificanceTest
    /// This arm's estimate minus the baseline's.
    public var difference: Double
    /// Lower bound of the difference's confidence interval.
    public var ciLow: Double
    /// Upper bound of the difference's confidence interval.
    public var ciHigh: Double
    /// The z or t statistic.
    public var statistic: Double
    /// Welch–Satterthwaite degrees of freedom (t-test only).
    public var degreesOfFreedom: Double?
    /// Two-sided p-value.
    public var pValue: Double
    /// Whether p < alpha.
    public var significant: Bool
    /// Minimum detectable effect (absolute difference) at the current sample sizes, alpha and power.
    public var mde: Double

    enum CodingKeys: String, CodingKey {
        case test
        case difference
        case ciLow = "ci_low"
        case ciHigh = "ci_high"
        case statistic
        case degreesOfFreedom = "degrees_of_freedom"
        case pValue = "p_value"
        case significant
        case mde
    }
}

/// One arm of the readout. Fields that cannot be computed are absent from the JSON (never NaN or infinity), and
/// `insufficient_data` says why.
public struct ArmReadout: Sendable, Hashable, Codable {
    /// The version label.
    public var version: String
    /// Requests the arm served.
    public var requests: Int
    /// Whether this is the baseline arm.
    public var isBaseline: Bool
    /// "proportion" or "mean"; nil when there is no ground truth yet.
    public var metric: KeyMetricKind?
    /// Samples with ground truth behind the estimate.
    public var n: Int?
    /// The key metric's estimate (rate or mean).
    public var estimate: Double?
    /// Lower bound of the estimate's confidence interval (Wald for rates, t for means).
    public var ciLow: Double?
    /// Upper bound of the estimate's confidence interval.
    public var ciHigh: Double?
    /// The comparison with the baseline (non-baseline arms with enough data only).
    public var comparison: ArmComparison?
    /// Why something above is missing, or nil when everything was computed.
    public var insufficientData: String?

    enum CodingKeys: String, CodingKey {
        case version
        case requests
        case isBaseline = "is_baseline"
        case metric
        case n
        case estimate
        case ciLow = "ci_low"
        case ciHigh = "ci_high"
        case comparison
        case insufficientData = "insufficient_data"
    }
}

/// An experiment readout: per arm the key metric with its confidence interval and, against the baseline arm, the
/// difference, its interval, the significance test and the minimum detectable effect. `Codable` with snake_case
/// keys, ready to be returned as JSON.
public struct ExperimentReadout: Sendable, Hashable, Codable {
    /// Confidence level of every interval.
    public var confidence: Double
    /// Significance level of the tests and the MDE.
    public var alpha: Double
    /// Power of the MDE.
    public var power: Double
    /// The baseline arm's version label.
    public var baselineVersion: String
    /// The baseline arm first, then the others in the order given.
    public var arms: [ArmReadout]

    enum CodingKeys: String, CodingKey {
        case confidence
        case alpha
        case power
        case baselineVersion = "baseline_version"
        case arms
    }

    /// Builds the readout. Degenerate data never throws: it gives an arm an `insufficientData` reason instead.
    /// Throws `StatisticsError.invalidParameter` only when `confidence`, `alpha` or `power` is not in (0, 1).
    public init(
        baseline: ExperimentArm,
        others: [ExperimentArm],
        confidence: Double = 0.95,
        alpha: Double = 0.05,
        power: Double = 0.8
    ) throws(StatisticsError) {
        _ = try ExperimentStatistics.normalCritical(level: confidence)
        _ = try ExperimentStatistics.mdeFactor(alpha: alpha, power: power)
        self.confidence = confidence
        self.alpha = alpha
        self.power = power
        self.baselineVersion = baseline.version

        let baselineSummary = Self.summarize(baseline, confidence: confidence)
        var arms = [baselineSummary.readout]
        for arm in others {
            var summary = Self.summarize(arm, confidence: confidence)
            if summary.canCompare {
                let outcome = Self.compare(
                    arm,
                    with: baseline,
                    baselineSummary: baselineSummary,
                    confidence: confidence,
                    alpha: alpha,
                    power: power
                )
                switch outcome {
                case .success(let comparison): summary.readout.comparison = comparison
                case .failure(let error): summary.reasons.append(error.description)
                }
            }
            summary.readout.insufficientData = Self.joined(summary.reasons)
            arms.append(summary.readout)
        }
        arms[0].isBaseline = true
        arms[0].insufficientData = Self.joined(baselineSummary.reasons)
        self.arms = arms
    }

    private struct Summary {
        var readout: ArmReadout
        var reasons: [String]
        /// The arm's own data is good enough to be tested (valid, n ≥ 2).
        var canCompare: Bool
    }

    private static func summarize(_ arm: ExperimentArm, confidence: Double) -> Summary {
        let label = "version \(arm.version)"
        var readout = ArmReadout(version: arm.version, requests: arm.requests, isBaseline: false)
        guard let metric = arm.keyMetric else {
            return Summary(readout: readout, reasons: ["no ground truth yet for \(label)"], canCompare: false)
        }
        readout.metric = metric.kind
        var reasons: [String] = []
        let interval: Result<ConfidenceInterval, StatisticsError>
        switch metric {
        case .proportion(let sample):
            if let reason = sample.invalidReason {
                return Summary(readout: readout, reasons: ["\(label): \(reason)"], canCompare: false)
            }
            readout.n = sample.n
            readout.estimate = sample.rate
            interval = Result { () throws(StatisticsError) in
                try ExperimentStatistics.waldInterval(sample, confidence: confidence, label: label)
            }
        case .mean(let sample):
            if let reason = sample.invalidReason {
                return Summary(readout: readout, reasons: ["\(label): \(reason)"], canCompare: false)
            }
            readout.n = sample.n
            readout.estimate = sample.n > 0 ? sample.mean : nil
            interval = Result { () throws(StatisticsError) in
                try ExperimentStatistics.meanInterval(sample, confidence: confidence, label: label)
            }
        }
        switch interval {
        case .success(let interval) where interval.low.isFinite && interval.high.isFinite:
            readout.ciLow = interval.low
            readout.ciHigh = interval.high
        case .success:
            reasons.append("\(label): the confidence interval overflowed")
        case .failure(let error):
            reasons.append(error.description)
        }
        let n = readout.n ?? 0
        if n < 2 && reasons.isEmpty {
            reasons.append("\(label) has \(n) sample\(n == 1 ? "" : "s"), at least 2 needed")
        }
        return Summary(readout: readout, reasons: reasons, canCompare: n >= 2)
    }

    private static func compare(
        _ arm: ExperimentArm,
        with baseline: ExperimentArm,
        baselineSummary: Summary,
        confidence: Double,
        alpha: Double,
        power: Double
    ) -> Result<ArmComparison, StatisticsError> {
        guard let baselineMetric = baseline.keyMetric else {
            return .failure(.insufficientData("the baseline (version \(baseline.version)) has no ground truth yet"))
        }
        guard baselineSummary.canCompare else {
            let why = baselineSummary.reasons.first ?? "too little data"
            return .failure(.insufficientData("the baseline cannot be compared yet: \(why)"))
        }
        let outcome: Result<(ComparisonResult, Double), StatisticsError>
        switch (baselineMetric, arm.keyMetric) {
        case (.proportion(let base), .proportion(let candidate)?):
            outcome = Result { () throws(StatisticsError) in
                (
                    try ExperimentStatistics.twoProportionZTest(
                        baseline: base,
                        candidate: candidate,
                        confidence: confidence
                    ),
                    try ExperimentStatistics.minimumDetectableEffect(
                        baseline: base,
                        candidate: candidate,
                        alpha: alpha,
                        power: power
                    )
                )
            }
        case (.mean(let base), .mean(let candidate)?):
            outcome = Result { () throws(StatisticsError) in
                (
                    try ExperimentStatistics.welchTTest(baseline: base, candidate: candidate, confidence: confidence),
                    try ExperimentStatistics.minimumDetectableEffect(
                        baseline: base,
                        candidate: candidate,
                        alpha: alpha,
                        power: power
                    )
                )
            }
        default:
            return .failure(
                .insufficientData(
                    "the key metric is a \(baselineMetric.kind.rawValue) for the baseline and a "
                        + "\(arm.keyMetric?.kind.rawValue ?? "missing value") for version \(arm.version): "
                        + "they cannot be compared"
                )
            )
        }
        switch outcome {
        case .failure(let error):
            return .failure(error)
        case .success(let (result, mde)):
            let values = [
                result.difference, result.interval.low, result.interval.high, result.statistic, result.pValue, mde,
            ]
            guard values.allSatisfy(\.isFinite), result.degreesOfFreedom?.isFinite ?? true else {
                return .failure(.insufficientData("the statistics overflowed for version \(arm.version)"))
            }
            return .success(
                ArmComparison(
                    test: result.test,
                    difference: result.difference,
                    ciLow: result.interval.low,
                    ciHigh: result.interval.high,
                    statistic: result.statistic,
                    degreesOfFreedom: result.degreesOfFreedom,
                    pValue: result.pValue,
                    significant: result.pValue < alpha,
                    mde: mde
                )
            )
        }
    }

    private static func joined(_ reasons: [String]) -> String? {
        var unique: [String] = []
        for reason in reasons where !unique.contains(reason) { unique.append(reason) }
        return unique.isEmpty ? nil : unique.joined(separator: "; ")
    }
}

extension ArmReadout {
    init(version: String, requests: Int, isBaseline: Bool) {
        self.version = version
        self.requests = requests
        self.isBaseline = isBaseline
    }
}
