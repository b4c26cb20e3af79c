import Foundation
import SlipwayRegistry

/// Quality metrics computed from predictions joined with ground truth, defined as scikit-learn defines them.
///
/// ```swift
/// let metrics = FeedbackMetrics.classification(predicted: ["a", "b"], actual: ["a", "a"])
/// metrics.accuracy  // 0.5
/// ```
public struct FeedbackMetrics: Hashable, Sendable, Codable {
    /// Precision, recall and F1 of one class.
    public struct ClassScores: Hashable, Sendable, Codable {
        /// The class name.
        public var label: String
        /// Of the rows predicted as this class, the share that were.
        public var precision: Double
        /// Of the rows of this class, the share predicted as it.
        public var recall: Double
        /// The harmonic mean of precision and recall.
        public var f1: Double
        /// How many rows truly were this class.
        public var support: Int
    }

    /// Rows with ground truth (label or value).
    public var count: Int
    /// Share of rows predicted right (classifiers).
    public var accuracy: Double?
    /// Per-class scores over the labels seen in truth or prediction, sorted by label (classifiers).
    public var classes: [ClassScores]?
    /// Unweighted mean of the per-class precisions.
    public var macroPrecision: Double?
    /// Unweighted mean of the per-class recalls.
    public var macroRecall: Double?
    /// Unweighted mean of the per-class F1 scores.
    public var macroF1: Double?
    /// Cross-entropy of the predicted probabilities (classifiers with probabilities).
    public var logLoss: Double?
    /// Area under the ROC curve, binary classifiers with probabilities and both classes present.
    public var rocAUC: Double?
    /// Mean absolute error (regressors).
    public var mae: Double?
    /// Root mean squared error (regressors).
    public var rmse: Double?
    /// Coefficient of determination (regressors).
    public var r2: Double?
    /// Rows with an outcome value.
    public var outcomeCount: Int
    /// Sum of outcome values.
    public var outcomeSum: Double?
    /// Mean of outcome values.
    public var outcomeMean: Double?

    /// An empty result.
    public init() {
        self.count = 0
        self.outcomeCount = 0
    }

    enum CodingKeys: String, CodingKey {
        case count, accuracy, classes
        case macroPrecision = "macro_precision"
        case macroRecall = "macro_recall"
        case macroF1 = "macro_f1"
        case logLoss = "log_loss"
        case rocAUC = "roc_auc"
        case mae, rmse, r2
        case outcomeCount = "outcome_count"
        case outcomeSum = "outcome_sum"
        case outcomeMean = "outcome_mean"
    }

    /// The names a key metric may take, with which way is better.
    public static let keyMetricNames: [String: Bool] = [
        "accuracy": true, "macro_precision": true, "macro_recall": true, "macro_f1": true, "log_loss": false,
        "roc_auc": true, "mae": false, "rmse": false, "r2": true, "outcome_sum": true, "outcome_mean": true,
    ]

    /// The value of the named metric, if it could be computed.
    public func value(named name: String) -> Double? {
        switch name {
        case "accuracy": self.accuracy
        case "macro_precision": self.macroPrecision
        case "macro_recall": self.macroRecall
        case "macro_f1": self.macroF1
        case "log_loss": self.logLoss
        case "roc_auc": self.rocAUC
        case "mae": self.mae
        case "rmse": self.rmse
        case "r2": self.r2
        case "outcome_sum": self.outcomeSum
        case "outcome_mean": self.outcomeMean
        default: nil
        }
    }

    // MARK: Classification

    /// Accuracy, per-class and macro precision, recall and F1; log loss when `probabilities` and `classes` are
    /// given; ROC AUC when there are exactly two classes (the second is the positive one).
    ///
    /// - Parameters:
    ///   - predicted: the predicted label per row.
    ///   - actual: the true label per row.
    ///   - probabilities: per row, the probabilities in `classes` order (or `nil` for all rows).
    ///   - classes: the model's classes.
    public static func classification(
        predicted: [String],
        actual: [String],
        probabilities: [[Double]]? = nil,
        classes: [String]? = nil
    ) -> FeedbackMetrics {
        var metrics = FeedbackMetrics()
        let count = min(predicted.count, actual.count)
        metrics.count = count
        guard count > 0 else { return metrics }
        var right = 0
        var truePositives: [String: Int] = [:]
        var predictedCounts: [String: Int] = [:]
        var actualCounts: [String: Int] = [:]
        for index in 0..<count {
            let guess = predicted[index]
            let truth = actual[index]
            predictedCounts[guess, default: 0] += 1
            actualCounts[truth, default: 0] += 1
            if guess == truth {
                right += 1
                truePositives[truth, default: 0] += 1
            }
        }
        metrics.accuracy = Double(right) / Double(count)
        let labels = Set(predictedCounts.keys).union(actualCounts.keys).sorted()
        var scores: [ClassScores] = []
        for label in labels {
            let hits = Double(truePositives[label] ?? 0)
            let guessed = Double(predictedCounts[label] ?? 0)
            let support = actualCounts[label] ?? 0
            // scikit-learn's zero_division default: an undefined ratio counts as 0.
            let precision = guessed > 0 ? hits / guessed : 0
            let recall = support > 0 ? hits / Double(support) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            scores.append(ClassScores(label: label, precision: precision, recall: recall, f1: f1, support: support))
        }
        metrics.classes = scores
        let classCount = Double(scores.count)
        metrics.macroPrecision = scores.reduce(0) { $0 + $1.precision } / classCount
        metrics.macroRecall = scores.reduce(0) { $0 + $1.recall } / classCount
        metrics.macroF1 = scores.reduce(0) { $0 + $1.f1 } / classCount

        if let probabilities, let classes, probabilities.count >= count,
            probabilities.prefix(count).allSatisfy({ $0.count == classes.count }),
            actual.prefix(count).allSatisfy(classes.contains)
        {
            let rows = Array(probabilities.prefix(count))
            let truths = Array(actual.prefix(count))
            metrics.logLoss = Self.logLoss(actual: truths, probabilities: rows, classes: classes)
            if classes.count == 2 {
                metrics.rocAUC = Self.rocAUC(
                    positives: truths.map { $0 == classes[1] },
                    scores: rows.map { $0[1] }
                )
            }
        }
        return metrics
    }

    /// scikit-learn's `log_loss`: rows normalised to sum to 1, probabilities clipped to [ε, 1 − ε] with ε the
    /// float64 machine epsilon, mean negative log-likelihood of the true class.
    static func logLoss(actual: [String], probabilities: [[Double]], classes: [String]) -> Double? {
        guard !actual.isEmpty else { return nil }
        let epsilon = Double.ulpOfOne
        var total = 0.0
        for (truth, row) in zip(actual, probabilities) {
            guard let index = classes.firstIndex(of: truth) else { return nil }
            let clipped = row.map { min(max($0, epsilon), 1 - epsilon) }
            let sum = clipped.reduce(0, +)
            total -= Foundation.log(clipped[index] / sum)
        }
        return total / Double(actual.count)
    }

    /// The area under the ROC curve by the rank-sum (Mann–Whitney) formula, ties counting one half; `nil` unless
    /// both classes occur.
    static func rocAUC(positives: [Bool], scores: [Double]) -> Double? {
        let positiveCount = positives.filter { $0 }.count
        let negativeCount = positives.count - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            // Ranks are 1-based; tied scores share the mean of their ranks.
            let rank = Double(start + end) / 2 + 1
            for position in start...end { ranks[order[position]] = rank }
            start = end + 1
        }
        var positiveRankSum = 0.0
        for (index, isPositive) in positives.enumerated() where isPositive { positiveRankSum += ranks[index] }
        let positive = Double(positiveCount)
        return (positiveRankSum - positive * (positive + 1) / 2) / (positive * Double(negativeCount))
    }

    // MARK: Regression

    /// MAE, RMSE and R² (scikit-learn's `r2_score`: 1 for a perfect fit of constant truth, 0 for an imperfect one).
    public static func regression(predicted: [Double], actual: [Double]) -> FeedbackMetrics {
        var metrics = FeedbackMetrics()
        let count = min(predicted.count, actual.count)
        metrics.count = count
        guard count > 0 else { return metrics }
        var absolute = 0.0
        var squared = 0.0
        var mean = 0.0
        for index in 0..<count {
            let error = predicted[index] - actual[index]
            absolute += abs(error)
            squared += error * error
            mean += actual[index]
        }
        mean /= Double(count)
        var total = 0.0
        for value in actual.prefix(count) { total += (value - mean) * (value - mean) }
        metrics.mae = absolute / Double(count)
        metrics.rmse = (squared / Double(count)).squareRoot()
        if total == 0 {
            metrics.r2 = squared == 0 ? 1 : 0
        } else {
            metrics.r2 = 1 - squared / total
        }
        return metrics
    }

    // MARK: Joined feedback

    /// Everything computable from joined feedback: classification metrics when labels were given, regression
    /// metrics when values were, outcome sum and mean when outcomes were.
    public static func compute(_ joined: [JoinedRow]) -> FeedbackMetrics {
        var predictedLabels: [String] = []
        var actualLabels: [String] = []
        var probabilities: [[Double]] = []
        var hasAllProbabilities = true
        var classes: [String]?
        var predictedValues: [Double] = []
        var actualValues: [Double] = []
        var outcomes: [Double] = []
        for row in joined {
            if let truth = row.actualLabel, let guess = row.predictedLabel {
                predictedLabels.append(guess)
                actualLabels.append(truth)
                if let rowProbabilities = row.probabilities, let rowClasses = row.classes,
                    classes == nil || classes == rowClasses
                {
                    classes = rowClasses
                    probabilities.append(rowProbabilities)
                } else {
                    hasAllProbabilities = false
                }
            }
            if let truth = row.actualValue, let guess = row.predictedValue {
                predictedValues.append(guess)
                actualValues.append(truth)
            }
            if let outcome = row.outcome { outcomes.append(outcome) }
        }
        var metrics: FeedbackMetrics
        if !actualLabels.isEmpty {
            metrics = self.classification(
                predicted: predictedLabels,
                actual: actualLabels,
                probabilities: hasAllProbabilities ? probabilities : nil,
                classes: hasAllProbabilities ? classes : nil
            )
        } else if !actualValues.isEmpty {
            metrics = self.regression(predicted: predictedValues, actual: actualValues)
        } else {
            metrics = FeedbackMetrics()
        }
        metrics.outcomeCount = outcomes.count
        if !outcomes.isEmpty {
            let sum = outcomes.reduce(0, +)
            metrics.outcomeSum = sum
            metrics.outcomeMean = sum / Double(outcomes.count)
        }
        return metrics
    }

    /// One prediction row with its ground truth, flattened.
    public struct JoinedRow: Hashable, Sendable {
        /// The predicted label.
        public var predictedLabel: String?
        /// The predicted probabilities in ``classes`` order.
        public var probabilities: [Double]?
        /// The deployment's classes.
        public var classes: [String]?
        /// The predicted value.
        public var predictedValue: Double?
        /// The true label.
        public var actualLabel: String?
        /// The true value.
        public var actualValue: Double?
        /// The business outcome.
        public var outcome: Double?

        /// Creates a row.
        public init(
            predictedLabel: String? = nil,
            probabilities: [Double]? = nil,
            classes: [String]? = nil,
            predictedValue: Double? = nil,
            actualLabel: String? = nil,
            actualValue: Double? = nil,
            outcome: Double? = nil
        ) {
            self.predictedLabel = predictedLabel
            self.probabilities = probabilities
            self.classes = classes
            self.predictedValue = predictedValue
            self.actualLabel = actualLabel
            self.actualValue = actualValue
            self.outcome = outcome
        }

        /// A stored prediction joined with its feedback, flattened.
        public init(_ joined: JoinedFeedback) {
            self.init(
                predictedLabel: joined.prediction.label,
                probabilities: joined.prediction.probabilities,
                classes: joined.classes,
                predictedValue: joined.prediction.value,
                actualLabel: joined.feedback.label,
                actualValue: joined.feedback.value,
                outcome: joined.feedback.outcome
            )
        }
    }
}
