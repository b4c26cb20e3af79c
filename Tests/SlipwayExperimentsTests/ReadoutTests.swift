import Foundation
import Testing

@testable import SlipwayExperiments

@Suite struct ReadoutTests {
    @Test func proportionReadoutMatchesScipy() throws {
        let readout = try ExperimentReadout(
            baseline: ExperimentArm(version: "3", requests: 4100, keyMetric: .proportion(.init(n: 40, successes: 5))),
            others: [
                ExperimentArm(version: "4", requests: 3900, keyMetric: .proportion(.init(n: 38, successes: 12)))
            ]
        )
        #expect(readout.baselineVersion == "3")
        #expect(readout.confidence == 0.95)
        #expect(readout.arms.count == 2)

        let baseline = readout.arms[0]
        #expect(baseline.version == "3")
        #expect(baseline.isBaseline)
        #expect(baseline.requests == 4100)
        #expect(baseline.metric == .proportion)
        #expect(baseline.n == 40)
        #expect(baseline.estimate == 0.125)
        #expect(isClose(try #require(baseline.ciLow), 0.022511030043055366, relative: 1e-9))
        #expect(isClose(try #require(baseline.ciHigh), 0.22748896995694462, relative: 1e-9))
        #expect(baseline.comparison == nil)
        #expect(baseline.insufficientData == nil)

        let candidate = readout.arms[1]
        #expect(!candidate.isBaseline)
        #expect(candidate.insufficientData == nil)
        let comparison = try #require(candidate.comparison)
        #expect(comparison.test == .twoProportionZ)
        #expect(isClose(comparison.difference, 12.0 / 38 - 0.125, relative: 1e-12))
        #expect(isClose(comparison.statistic, 2.0400185996506925, relative: 1e-9))
        #expect(isClose(comparison.pValue, 0.041348473238812605, relative: 1e-6))
        #expect(isClose(comparison.ciLow, 0.010938506601541081, relative: 1e-9))
        #expect(isClose(comparison.ciHigh, 0.37064044076687996, relative: 1e-9))
        #expect(isClose(comparison.mde, 0.26201377249048646, relative: 1e-9))
        #expect(comparison.significant)
        #expect(comparison.degreesOfFreedom == nil)
    }

    @Test func meanReadoutMatchesScipyAndAlphaDecidesSignificance() throws {
        let baseline = ExperimentArm(
            version: "1",
            requests: 12,
            keyMetric: .mean(MeanSample(values: HypothesisTestTests.welchBaseline))
        )
        let candidate = ExperimentArm(
            version: "2",
            requests: 15,
            keyMetric: .mean(MeanSample(values: HypothesisTestTests.welchCandidate))
        )
        let readout = try ExperimentReadout(baseline: baseline, others: [candidate])
        let arm = readout.arms[1]
        #expect(arm.metric == .mean)
        #expect(isClose(try #require(arm.ciLow), 12.548746774459389, relative: 1e-9))
        #expect(isClose(try #require(arm.ciHigh), 13.824586558873946, relative: 1e-9))
        let comparison = try #require(arm.comparison)
        #expect(comparison.test == .welchT)
        #expect(isClose(comparison.statistic, 4.036228969619542, relative: 1e-9))
        #expect(isClose(comparison.pValue, 0.0005154679878300405, relative: 1e-6))
        #expect(isClose(try #require(comparison.degreesOfFreedom), 22.962280756030914, relative: 1e-9))
        #expect(isClose(comparison.mde, 1.2979849253609332, relative: 1e-9))
        #expect(comparison.significant)

        // At alpha 0.0001 the same difference (p ≈ 0.0005) is not significant.
        let strict = try ExperimentReadout(baseline: baseline, others: [candidate], alpha: 0.0001)
        #expect(strict.arms[1].comparison?.significant == false)
        #expect(strict.alpha == 0.0001)
    }

    @Test func degenerateArmsGetReasonsInsteadOfNumbers() throws {
        let readout = try ExperimentReadout(
            baseline: ExperimentArm(version: "1", requests: 500, keyMetric: .proportion(.init(n: 200, successes: 0))),
            others: [
                ExperimentArm(version: "2", requests: 10, keyMetric: nil),
                ExperimentArm(version: "3", requests: 1, keyMetric: .proportion(.init(n: 1, successes: 1))),
                ExperimentArm(version: "4", requests: 300, keyMetric: .proportion(.init(n: 100, successes: 0))),
                ExperimentArm(version: "5", requests: 300, keyMetric: .proportion(.init(n: 100, successes: 7))),
                ExperimentArm(version: "6", requests: 300, keyMetric: .mean(.init(n: 100, mean: 2, variance: 1))),
                ExperimentArm(version: "7", requests: 300, keyMetric: .proportion(.init(n: 10, successes: 11))),
                ExperimentArm(version: "8", requests: 0, keyMetric: .proportion(.init(n: 0, successes: 0))),
            ]
        )
        let reasons = readout.arms.map(\.insufficientData)
        #expect(reasons[0] == "version 1 has a rate of 0 (0 of 200): the Wald interval is undefined")
        #expect(reasons[1] == "no ground truth yet for version 2")
        #expect(reasons[2] == "version 3 has 1 sample, at least 2 needed")
        #expect(
            reasons[3]
                == "version 4 has a rate of 0 (0 of 100): the Wald interval is undefined; "
                + "the rate is 0 in both arms: the z statistic is undefined"
        )
        // One arm at 0 and the other not: the z-test is defined; only the zero arm's own interval is not.
        #expect(reasons[4] == nil)
        #expect(readout.arms[4].comparison != nil)
        #expect(readout.arms[0].ciLow == nil && readout.arms[0].estimate == 0)
        #expect(
            reasons[5]
                == "the key metric is a proportion for the baseline and a mean for version 6: they cannot be compared"
        )
        #expect(reasons[6] == "version 7: invalid sample: 11 successes out of 10, expected 0 to 10")
        #expect(reasons[7] == "version 8 has 0 samples, at least 2 needed")
        #expect(readout.arms[7].estimate == nil)
        for arm in readout.arms where arm.version != "5" {
            #expect(arm.comparison == nil, "version \(arm.version)")
        }
        // Everything encodes: JSONEncoder refuses NaN and infinity, so this also proves there are none.
        _ = try JSONEncoder().encode(readout)
    }

    @Test func missingOrTinyBaselineBlocksComparisons() throws {
        let noBaselineData = try ExperimentReadout(
            baseline: ExperimentArm(version: "1", requests: 0, keyMetric: nil),
            others: [ExperimentArm(version: "2", requests: 80, keyMetric: .mean(.init(n: 50, mean: 3, variance: 2)))]
        )
        #expect(noBaselineData.arms[0].insufficientData == "no ground truth yet for version 1")
        #expect(noBaselineData.arms[1].insufficientData == "the baseline (version 1) has no ground truth yet")
        #expect(noBaselineData.arms[1].estimate == 3)
        #expect(noBaselineData.arms[1].ciLow != nil)

        let tinyBaseline = try ExperimentReadout(
            baseline: ExperimentArm(version: "1", requests: 3, keyMetric: .mean(MeanSample(values: [2]))),
            others: [ExperimentArm(version: "2", requests: 80, keyMetric: .mean(.init(n: 50, mean: 3, variance: 2)))]
        )
        #expect(
            tinyBaseline.arms[1].insufficientData
                == "the baseline cannot be compared yet: version 1 has 1 value, at least 2 needed"
        )

        let flat = try ExperimentReadout(
            baseline: ExperimentArm(version: "1", requests: 30, keyMetric: .mean(.init(n: 30, mean: 1, variance: 0))),
            others: [ExperimentArm(version: "2", requests: 30, keyMetric: .mean(.init(n: 30, mean: 1, variance: 0)))]
        )
        #expect(
            flat.arms[1].insufficientData
                == "version 2 has a variance of 0 over 30 values: the t interval is undefined; "
                + "the variance is 0 in both arms: the t statistic is undefined"
        )
        _ = try JSONEncoder().encode(flat)
    }

    @Test func encodesSnakeCaseJSONAndRoundTrips() throws {
        let readout = try ExperimentReadout(
            baseline: ExperimentArm(
                version: "3",
                requests: 1000,
                keyMetric: .proportion(.init(n: 1000, successes: 480))
            ),
            others: [
                ExperimentArm(version: "4", requests: 1000, keyMetric: .proportion(.init(n: 1000, successes: 520))),
                ExperimentArm(version: "5", requests: 7, keyMetric: nil),
            ],
            confidence: 0.9
        )
        let data = try JSONEncoder().encode(readout)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["baseline_version"] as? String == "3")
        #expect(object["confidence"] as? Double == 0.9)
        let arms = try #require(object["arms"] as? [[String: Any]])
        #expect(arms[0]["is_baseline"] as? Bool == true)
        #expect(arms[0]["metric"] as? String == "proportion")
        #expect(arms[0]["ci_low"] is Double)
        #expect(arms[0]["ci_high"] is Double)
        let comparison = try #require(arms[1]["comparison"] as? [String: Any])
        #expect(comparison["test"] as? String == "two_proportion_z")
        for key in ["difference", "ci_low", "ci_high", "statistic", "p_value", "mde"] {
            #expect(comparison[key] is Double, "\(key)")
        }
        #expect(comparison["significant"] as? Bool == false)
        #expect(arms[2]["insufficient_data"] as? String == "no ground truth yet for version 5")
        #expect(arms[2]["estimate"] == nil)

        let decoded = try JSONDecoder().decode(ExperimentReadout.self, from: data)
        #expect(decoded == readout)
    }

    @Test func badParametersThrowNamingTheParameter() {
        let arm = ExperimentArm(version: "1", requests: 10, keyMetric: nil)
        #expect(
            throws: StatisticsError.invalidParameter("confidence is 0.0, expected a number between 0 and 1 (exclusive)")
        ) {
            try ExperimentReadout(baseline: arm, others: [], confidence: 0)
        }
        #expect(
            throws: StatisticsError.invalidParameter("alpha is 1.0, expected a number between 0 and 1 (exclusive)")
        ) {
            try ExperimentReadout(baseline: arm, others: [], alpha: 1)
        }
        #expect(
            throws: StatisticsError.invalidParameter("power is nan, expected a number between 0 and 1 (exclusive)")
        ) {
            try ExperimentReadout(baseline: arm, others: [], power: .nan)
        }
    }

    @Test func hugeValuesDoNotLeakInfinity() throws {
        let readout = try ExperimentReadout(
            baseline: ExperimentArm(
                version: "1",
                requests: 10,
                keyMetric: .mean(.init(n: 10, mean: -1e308, variance: 1e308))
            ),
            others: [
                ExperimentArm(version: "2", requests: 10, keyMetric: .mean(.init(n: 10, mean: 1e308, variance: 1e308)))
            ]
        )
        #expect(readout.arms[1].comparison == nil)
        #expect(
            readout.arms[1].insufficientData
                == "the values are too large to compare: the difference or its standard error overflows"
        )
        _ = try JSONEncoder().encode(readout)
    }
}
