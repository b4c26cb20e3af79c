import Foundation
import SlipwayFeedback
import Testing

// Values checked by hand (and against scikit-learn's definitions: zero_division=0, log_loss clipping, rank AUC).
@Suite("Feedback metrics")
struct FeedbackMetricsTests {
    @Test func classificationMatchesHandComputedScores() {
        let metrics = FeedbackMetrics.classification(
            predicted: ["a", "a", "b", "c", "c"],
            actual: ["a", "b", "b", "c", "a"]
        )
        #expect(metrics.count == 5)
        #expect(metrics.accuracy == 0.6)
        // a: P 1/2 R 1/2; b: P 1 R 1/2; c: P 1/2 R 1.
        let scores = Dictionary(uniqueKeysWithValues: (metrics.classes ?? []).map { ($0.label, $0) })
        #expect(scores["a"]?.precision == 0.5 && scores["a"]?.recall == 0.5 && scores["a"]?.support == 2)
        #expect(scores["b"]?.precision == 1 && scores["b"]?.recall == 0.5)
        #expect(scores["c"]?.precision == 0.5 && scores["c"]?.recall == 1)
        #expect(abs((metrics.macroPrecision ?? 0) - 2.0 / 3.0) < 1e-12)
        #expect(abs((metrics.macroRecall ?? 0) - 2.0 / 3.0) < 1e-12)
        let f1 = (0.5 + 2.0 / 3.0 + 2.0 / 3.0) / 3
        #expect(abs((metrics.macroF1 ?? 0) - f1) < 1e-12)
        #expect(metrics.logLoss == nil && metrics.rocAUC == nil)
    }

    @Test func aClassNeverPredictedScoresZeroPrecision() {
        let metrics = FeedbackMetrics.classification(predicted: ["a", "a"], actual: ["a", "b"])
        let b = metrics.classes?.first { $0.label == "b" }
        #expect(b?.precision == 0 && b?.recall == 0 && b?.f1 == 0)
    }

    @Test func binaryLogLossAndAUC() {
        let probabilities = [[0.9, 0.1], [0.4, 0.6], [0.35, 0.65], [0.2, 0.8]]
        let metrics = FeedbackMetrics.classification(
            predicted: ["no", "yes", "yes", "yes"],
            actual: ["no", "no", "yes", "yes"],
            probabilities: probabilities,
            classes: ["no", "yes"]
        )
        let expectedLoss = -(log(0.9) + log(0.4) + log(0.65) + log(0.8)) / 4
        #expect(abs((metrics.logLoss ?? 0) - expectedLoss) < 1e-12)
        // Positives 0.65, 0.8 against negatives 0.1, 0.6: all four pairs ordered right.
        #expect(metrics.rocAUC == 1)
        let tied = FeedbackMetrics.classification(
            predicted: ["yes", "yes"],
            actual: ["no", "yes"],
            probabilities: [[0.5, 0.5], [0.5, 0.5]],
            classes: ["no", "yes"]
        )
        #expect(tied.rocAUC == 0.5)
        let oneClass = FeedbackMetrics.classification(
            predicted: ["yes"],
            actual: ["yes"],
            probabilities: [[0.2, 0.8]],
            classes: ["no", "yes"]
        )
        #expect(oneClass.rocAUC == nil && oneClass.logLoss != nil)
    }

    @Test func certainWrongAnswersAreClipped() {
        let metrics = FeedbackMetrics.classification(
            predicted: ["no"],
            actual: ["yes"],
            probabilities: [[1, 0]],
            classes: ["no", "yes"]
        )
        #expect(abs((metrics.logLoss ?? 0) - -log(Double.ulpOfOne)) < 1e-9)
    }

    @Test func regressionMatchesHandComputedScores() {
        let metrics = FeedbackMetrics.regression(predicted: [2.5, 0.0, 2, 8], actual: [3, -0.5, 2, 7])
        #expect(metrics.mae == 0.5)
        #expect(abs((metrics.rmse ?? 0) - 0.375.squareRoot()) < 1e-12)
        // scikit-learn's r2_score example: 0.948…
        #expect(abs((metrics.r2 ?? 0) - 0.9486081370449679) < 1e-12)
        #expect(FeedbackMetrics.regression(predicted: [1, 1], actual: [1, 1]).r2 == 1)
        #expect(FeedbackMetrics.regression(predicted: [1, 2], actual: [1, 1]).r2 == 0)
    }

    @Test func joinedRowsGiveOutcomesAndKeyMetric() {
        let rows = [
            FeedbackMetrics.JoinedRow(predictedLabel: "a", actualLabel: "a", outcome: 10),
            FeedbackMetrics.JoinedRow(predictedLabel: "b", actualLabel: "a"),
            FeedbackMetrics.JoinedRow(predictedLabel: "a", outcome: 5),
        ]
        let metrics = FeedbackMetrics.compute(rows)
        #expect(metrics.count == 2 && metrics.accuracy == 0.5)
        #expect(metrics.outcomeSum == 15 && metrics.outcomeMean == 7.5 && metrics.outcomeCount == 2)
        #expect(metrics.value(named: "accuracy") == 0.5 && metrics.value(named: "outcome_mean") == 7.5)
        #expect(metrics.value(named: "rmse") == nil && metrics.value(named: "nonsense") == nil)
        #expect(FeedbackMetrics.keyMetricNames["log_loss"] == false && FeedbackMetrics.keyMetricNames["r2"] == true)
    }
}
