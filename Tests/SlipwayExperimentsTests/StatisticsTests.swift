import Foundation
import Testing

@testable import SlipwayExperiments

/// Reference values from scipy 1.17 (`python3 Tests/SlipwayExperimentsTests/scipy_reference.py`).
enum SciPy {
    static let normalCDF: [(x: Double, expected: Double)] = [
        (-10.0, 7.61985302416047e-24),
        (-3.5, 0.00023262907903552502),
        (-1.96, 0.024997895148220435),
        (-0.5, 0.3085375387259869),
        (0.0, 0.5),
        (0.3, 0.6179114221889526),
        (1.6448536269514722, 0.95),
        (2.5, 0.9937903346742238),
        (8.0, 0.9999999999999993),
    ]
    static let normalSurvival: [(x: Double, expected: Double)] = [
        (5.0, 2.866515718791933e-07),
        (12.0, 1.776482112077653e-33),
        (30.0, 4.906713927147908e-198),
    ]
    static let normalQuantile: [(p: Double, expected: Double)] = [
        (1e-300, -37.0470962993612),
        (1e-12, -7.034483825301131),
        (1e-05, -4.264890793922825),
        (0.001, -3.090232306167813),
        (0.025, -1.9599639845400545),
        (0.3, -0.5244005127080409),
        (0.5, 0.0),
        (0.8, 0.8416212335729143),
        (0.975, 1.959963984540054),
        (0.999999, 4.753424308817087),
    ]
    static let tCDF: [(t: Double, df: Double, expected: Double)] = [
        (-40.0, 1.0, 0.007956089912025812),
        (-3.0, 1.0, 0.10241638234956672),
        (-1.2, 1.0, 0.22114206162369554),
        (0.0, 1.0, 0.5),
        (0.7, 1.0, 0.6944001122142147),
        (2.1, 1.0, 0.858536971878491),
        (5.0, 1.0, 0.9371670418109987),
        (-40.0, 2.5, 7.09781714524669e-05),
        (-3.0, 2.5, 0.036288047774515914),
        (-1.2, 2.5, 0.1657194188329388),
        (0.0, 2.5, 0.5),
        (0.7, 2.5, 0.728297528405226),
        (2.1, 2.5, 0.9277487776225781),
        (5.0, 2.5, 0.9882744050145691),
        (-40.0, 10.0, 1.1404288715428768e-12),
        (-3.0, 10.0, 0.006671827511284785),
        (-1.2, 10.0, 0.12889815036215282),
        (0.0, 10.0, 0.5),
        (0.7, 10.0, 0.7500562149135578),
        (2.1, 10.0, 0.9689613778988907),
        (5.0, 10.0, 0.9997313331986217),
        (-40.0, 1000.0, 5.239426077586636e-210),
        (-3.0, 1000.0, 0.0013833545221190963),
        (-1.2, 1000.0, 0.11521177616223356),
        (0.0, 1000.0, 0.5),
        (0.7, 1000.0, 0.7579549430036988),
        (2.1, 1000.0, 0.982010562844609),
        (5.0, 1000.0, 0.9999996616371818),
        (-40.0, 10000000.0, 0.0),
        (-3.0, 10000000.0, 0.0013499013555185817),
        (-1.2, 10000000.0, 0.11506968443612717),
        (0.0, 10000000.0, 0.5),
        (0.7, 10000000.0, 0.7580363396349059),
        (2.1, 10000000.0, 0.9821355669447417),
        (5.0, 10000000.0, 0.9999997133435963),
    ]
    static let tQuantile: [(p: Double, df: Double, expected: Double)] = [
        (1e-08, 1.0, -31830988.61837906),
        (0.001, 1.0, -318.30883898555044),
        (0.025, 1.0, -12.706204736174705),
        (0.3, 1.0, -0.7265425280053609),
        (0.6, 1.0, 0.32491969623290634),
        (0.975, 1.0, 12.706204736174694),
        (0.995, 1.0, 63.656741162871526),
        (1e-08, 2.5, -1389.227583027538),
        (0.001, 2.5, -13.822193110865964),
        (0.025, 2.5, -3.5746548420036834),
        (0.3, 2.5, -0.597307738252318),
        (0.6, 2.5, 0.2814595127485477),
        (0.975, 2.5, 3.5746548420036817),
        (0.995, 2.5, 7.163728138948783),
        (1e-08, 10.0, -15.895687652513546),
        (0.001, 10.0, -4.143700494046589),
        (0.025, 10.0, -2.2281388519862753),
        (0.3, 10.0, -0.5415280387550154),
        (0.6, 10.0, 0.2601848294920803),
        (0.975, 10.0, 2.228138851986274),
        (0.995, 10.0, 3.16927267261695),
        (1e-08, 1000.0, -5.657912337679105),
        (0.001, 1000.0, -3.0984021639129233),
        (0.025, 1000.0, -1.9623390808264085),
        (0.3, 1000.0, -0.524567707309227),
        (0.6, 1000.0, 0.25341451583949876),
        (0.975, 1000.0, 1.9623390808264083),
        (0.995, 1000.0, 2.580754698065951),
        (1e-08, 10000000.0, -5.612005803165477),
        (0.001, 10000000.0, -3.090233121180912),
        (0.025, 10000000.0, -1.9599642217672055),
        (0.3, 10000000.0, -0.5244005294232538),
        (0.6, 10000000.0, 0.25334710987600284),
        (0.975, 10000000.0, 1.959964221767205),
        (0.995, 10000000.0, 2.5758297952037488),
    ]
}

/// |actual − expected| ≤ relative · |expected| (or ≤ 1e-300 when scipy's answer underflowed to 0).
func isClose(_ actual: Double, _ expected: Double, relative: Double) -> Bool {
    if expected == 0 { return abs(actual) <= 1e-300 }
    return abs(actual - expected) <= relative * abs(expected)
}

@Suite struct DistributionTests {
    @Test func normalCDFMatchesScipy() {
        for (x, expected) in SciPy.normalCDF {
            let actual = Normal.cdf(x)
            #expect(isClose(actual, expected, relative: 1e-12), "cdf(\(x)) = \(actual), scipy \(expected)")
        }
        for (x, expected) in SciPy.normalSurvival {
            let actual = Normal.survival(x)
            #expect(isClose(actual, expected, relative: 1e-12), "sf(\(x)) = \(actual), scipy \(expected)")
        }
    }

    @Test func normalQuantileMatchesScipy() {
        for (p, expected) in SciPy.normalQuantile {
            let actual = Normal.quantile(p)
            #expect(isClose(actual, expected, relative: 1e-12), "quantile(\(p)) = \(actual), scipy \(expected)")
        }
    }

    @Test func normalQuantileInvertsTheCDFAndHandlesEdges() {
        for p in stride(from: 0.001, to: 1.0, by: 0.0123) {
            #expect(isClose(Normal.cdf(Normal.quantile(p)), p, relative: 1e-13), "p = \(p)")
        }
        #expect(Normal.quantile(0) == -.infinity)
        #expect(Normal.quantile(1) == .infinity)
        #expect(Normal.quantile(-0.1).isNaN)
        #expect(Normal.quantile(1.5).isNaN)
        #expect(Normal.quantile(.nan).isNaN)
        #expect(Normal.cdf(.nan).isNaN)
        #expect(Normal.cdf(.infinity) == 1)
        #expect(Normal.cdf(-.infinity) == 0)
    }

    @Test func studentTCDFMatchesScipy() throws {
        for (t, df, expected) in SciPy.tCDF {
            let distribution = try #require(StudentT(degreesOfFreedom: df))
            let actual = distribution.cdf(t)
            #expect(isClose(actual, expected, relative: 1e-9), "cdf(\(t), df \(df)) = \(actual), scipy \(expected)")
        }
    }

    @Test func studentTQuantileMatchesScipy() throws {
        for (p, df, expected) in SciPy.tQuantile {
            let distribution = try #require(StudentT(degreesOfFreedom: df))
            let actual = distribution.quantile(p)
            #expect(
                isClose(actual, expected, relative: 1e-9),
                "quantile(\(p), df \(df)) = \(actual), scipy \(expected)"
            )
        }
    }

    @Test func studentTExtremeTailsMatchScipy() throws {
        let cdfs: [(t: Double, df: Double, expected: Double)] = [
            (-1e+101, 1.5, 1.1924482405556577e-152),
            (-1e+120, 1.5, 3.7708524320162467e-181),
            (-1e+60, 0.5, 3.2070097541422293e-31),
            (-300000.0, 2.5, 1.4592540394097867e-14),
        ]
        for (t, df, expected) in cdfs {
            let actual = try #require(StudentT(degreesOfFreedom: df)).cdf(t)
            #expect(isClose(actual, expected, relative: 1e-9), "cdf(\(t), df \(df)) = \(actual), scipy \(expected)")
        }
        let quantiles: [(p: Double, df: Double, expected: Double)] = [
            (1e-100, 1.5, -2.4226631011346154e+66),
            (1e-100, 3.0, -2.225769823822442e+33),
            (1e-250, 30.0, -1081064634.5305128),
        ]
        for (p, df, expected) in quantiles {
            let actual = try #require(StudentT(degreesOfFreedom: df)).quantile(p)
            #expect(
                isClose(actual, expected, relative: 1e-9),
                "quantile(\(p), df \(df)) = \(actual), scipy \(expected)"
            )
        }
        // Beyond the largest double: (1/p)^(1/ν) ≈ 1e400.
        #expect(try #require(StudentT(degreesOfFreedom: 0.05)).quantile(1e-20) == -.infinity)
    }

    @Test(arguments: [0.3, 1.0, 1.7, 2.0, 3.0, 7.5, 30.0, 1e4, 1e6, 1e7, 1e9, 1e12])
    func studentTQuantileInvertsTheCDF(df: Double) throws {
        let distribution = try #require(StudentT(degreesOfFreedom: df))
        let tolerance = 1e-11
        for p in [1e-6, 0.01, 0.025, 0.2, 0.5, 0.75, 0.975, 0.999] {
            let t = distribution.quantile(p)
            #expect(t.isFinite, "df \(df), p \(p)")
            #expect(isClose(distribution.cdf(t), p, relative: tolerance), "df \(df), p \(p), t \(t)")
        }
    }

    @Test func studentTRejectsBadDegreesOfFreedomAndHandlesEdges() throws {
        #expect(StudentT(degreesOfFreedom: 0) == nil)
        #expect(StudentT(degreesOfFreedom: -1) == nil)
        #expect(StudentT(degreesOfFreedom: .nan) == nil)
        #expect(StudentT(degreesOfFreedom: .infinity) == nil)
        let distribution = try #require(StudentT(degreesOfFreedom: 4))
        #expect(distribution.quantile(0) == -.infinity)
        #expect(distribution.quantile(1) == .infinity)
        #expect(distribution.quantile(0.5) == 0)
        #expect(distribution.quantile(2).isNaN)
        #expect(distribution.cdf(.infinity) == 1)
        #expect(distribution.cdf(-.infinity) == 0)
        #expect(distribution.cdf(.nan).isNaN)
    }
}

@Suite struct SampleTests {
    @Test func meanSampleFromValuesIsStable() {
        // Values around 1e9 with a spread of a few units: a naive sum of squares would lose every digit.
        let values = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]
        let sample = MeanSample(values: values)
        #expect(sample.n == 4)
        #expect(sample.mean == 1e9 + 10)
        #expect(isClose(sample.variance, 30, relative: 1e-12))

        let scipyData = [12.1, 9.8, 11.4, 10.2, 13.5, 10.9, 11.7, 9.4, 12.8, 10.6, 11.1, 12.3]
        let summary = MeanSample(values: scipyData)
        #expect(isClose(summary.mean, 11.316666666666665, relative: 1e-14))
        #expect(isClose(summary.variance, 1.5142424242424246, relative: 1e-13))
    }

    @Test func meanSampleOfNoneOrOneValue() {
        #expect(MeanSample(values: []) == MeanSample(n: 0, mean: 0, variance: 0))
        #expect(MeanSample(values: [3.5]) == MeanSample(n: 1, mean: 3.5, variance: 0))
    }

    @Test func proportionRate() {
        #expect(ProportionSample(n: 40, successes: 5).rate == 0.125)
        #expect(ProportionSample(n: 0, successes: 0).rate == nil)
        #expect(ProportionSample(n: 10, successes: 11).rate == nil)
        #expect(ProportionSample(n: 10, successes: -1).rate == nil)
    }
}

@Suite struct HypothesisTestTests {
    static let welchBaseline = [12.1, 9.8, 11.4, 10.2, 13.5, 10.9, 11.7, 9.4, 12.8, 10.6, 11.1, 12.3]
    static let welchCandidate = [
        13.2, 12.9, 10.8, 14.1, 13.7, 12.2, 15.0, 11.9, 13.4, 12.6, 14.4, 13.1, 12.0, 13.9, 14.6,
    ]

    @Test func welchMatchesScipy() throws {
        let baseline = MeanSample(values: Self.welchBaseline)
        let candidate = MeanSample(values: Self.welchCandidate)
        let result = try ExperimentStatistics.welchTTest(baseline: baseline, candidate: candidate)
        #expect(result.test == .welchT)
        #expect(isClose(result.statistic, 4.036228969619542, relative: 1e-9))
        #expect(isClose(result.pValue, 0.0005154679878300405, relative: 1e-6))
        #expect(isClose(try #require(result.degreesOfFreedom), 22.962280756030914, relative: 1e-9))
        #expect(isClose(result.interval.low, 0.9114960580052013, relative: 1e-9))
        #expect(isClose(result.interval.high, 2.8285039419948044, relative: 1e-9))
        #expect(result.interval.level == 0.95)

        let baselineCI = try ExperimentStatistics.meanInterval(baseline)
        #expect(isClose(baselineCI.low, 10.534815306311499, relative: 1e-9))
        #expect(isClose(baselineCI.high, 12.09851802702183, relative: 1e-9))
        let candidateCI = try ExperimentStatistics.meanInterval(candidate)
        #expect(isClose(candidateCI.low, 12.548746774459389, relative: 1e-9))
        #expect(isClose(candidateCI.high, 13.824586558873946, relative: 1e-9))

        let mde = try ExperimentStatistics.minimumDetectableEffect(baseline: baseline, candidate: candidate)
        #expect(isClose(mde, 1.2979849253609332, relative: 1e-9))
    }

    @Test func welchFromSummariesWithLargeSamples() throws {
        let result = try ExperimentStatistics.welchTTest(
            baseline: MeanSample(n: 260_000, mean: 5.0, variance: 3.9),
            candidate: MeanSample(n: 250_000, mean: 5.02, variance: 4.1)
        )
        #expect(isClose(result.statistic, 3.569153051241172, relative: 1e-9))
        #expect(isClose(result.pValue, 0.0003581701572536997, relative: 1e-6))
    }

    @Test func welchWithTinySamplesAndNinetyPercentInterval() throws {
        let result = try ExperimentStatistics.welchTTest(
            baseline: MeanSample(values: [1.0, 2.0]),
            candidate: MeanSample(values: [2.5, 4.0, 6.5]),
            confidence: 0.90
        )
        #expect(isClose(result.statistic, 2.2322093586152834, relative: 1e-9))
        #expect(isClose(result.pValue, 0.1244149150693071, relative: 1e-6))
        #expect(isClose(try #require(result.degreesOfFreedom), 2.625048770971518, relative: 1e-9))
        #expect(isClose(result.interval.low, -0.3360130895153115, relative: 1e-9))
        #expect(isClose(result.interval.high, 6.002679756181976, relative: 1e-9))
        #expect(result.interval.level == 0.90)
    }

    struct ProportionCase: Sendable, CustomTestStringConvertible {
        var baseline: ProportionSample
        var candidate: ProportionSample
        var z: Double
        var pValue: Double
        var differenceLow: Double
        var differenceHigh: Double
        var mde: Double
        var baselineWald: (Double, Double)
        var candidateWald: (Double, Double)

        var testDescription: String {
            "\(self.baseline.successes)/\(self.baseline.n) vs \(self.candidate.successes)/\(self.candidate.n)"
        }
    }

    static let proportionCases = [
        ProportionCase(
            baseline: ProportionSample(n: 1000, successes: 480),
            candidate: ProportionSample(n: 1000, successes: 520),
            z: 1.7888543819998333,
            pValue: 0.0736382701203024,
            differenceLow: -0.003791052091614608,
            differenceHigh: 0.08379105209161468,
            mde: 0.06264534992459173,
            baselineWald: (0.4490350501107259, 0.5109649498892741),
            candidateWald: (0.48903505011072596, 0.5509649498892741)
        ),
        ProportionCase(
            baseline: ProportionSample(n: 40, successes: 5),
            candidate: ProportionSample(n: 38, successes: 12),
            z: 2.0400185996506925,
            pValue: 0.041348473238812605,
            differenceLow: 0.010938506601541081,
            differenceHigh: 0.37064044076687996,
            mde: 0.26201377249048646,
            baselineWald: (0.022511030043055366, 0.22748896995694462),
            candidateWald: (0.16799779124661204, 0.46358115612180895)
        ),
        ProportionCase(
            baseline: ProportionSample(n: 1_000_000, successes: 120_000),
            candidate: ProportionSample(n: 1_000_000, successes: 121_500),
            z: 3.255191201732329,
            pValue: 0.0011331604972787523,
            differenceLow: 0.0005968462352933242,
            differenceHigh: 0.0024031537647066785,
            mde: 0.001290977262697521,
            baselineWald: (0.11936308709271573, 0.12063691290728426),
            candidateWald: (0.12085966518817219, 0.1221403348118278)
        ),
    ]

    @Test(arguments: Self.proportionCases)
    func twoProportionZTestMatchesScipy(_ data: ProportionCase) throws {
        let result = try ExperimentStatistics.twoProportionZTest(baseline: data.baseline, candidate: data.candidate)
        #expect(result.test == .twoProportionZ)
        #expect(result.degreesOfFreedom == nil)
        #expect(isClose(result.statistic, data.z, relative: 1e-9))
        #expect(isClose(result.pValue, data.pValue, relative: 1e-6))
        #expect(isClose(result.interval.low, data.differenceLow, relative: 1e-9))
        #expect(isClose(result.interval.high, data.differenceHigh, relative: 1e-9))
        let mde = try ExperimentStatistics.minimumDetectableEffect(baseline: data.baseline, candidate: data.candidate)
        #expect(isClose(mde, data.mde, relative: 1e-9))
        let baselineWald = try ExperimentStatistics.waldInterval(data.baseline)
        #expect(isClose(baselineWald.low, data.baselineWald.0, relative: 1e-9))
        #expect(isClose(baselineWald.high, data.baselineWald.1, relative: 1e-9))
        let candidateWald = try ExperimentStatistics.waldInterval(data.candidate)
        #expect(isClose(candidateWald.low, data.candidateWald.0, relative: 1e-9))
        #expect(isClose(candidateWald.high, data.candidateWald.1, relative: 1e-9))
    }

    @Test func swappingArmsNegatesTheStatistic() throws {
        let a = ProportionSample(n: 40, successes: 5)
        let b = ProportionSample(n: 38, successes: 12)
        let forward = try ExperimentStatistics.twoProportionZTest(baseline: a, candidate: b)
        let backward = try ExperimentStatistics.twoProportionZTest(baseline: b, candidate: a)
        #expect(forward.statistic == -backward.statistic)
        #expect(forward.pValue == backward.pValue)
    }

    @Test func degenerateProportionsThrowInsufficientData() {
        #expect(throws: StatisticsError.insufficientData("the rate is 0 in both arms: the z statistic is undefined")) {
            try ExperimentStatistics.twoProportionZTest(
                baseline: ProportionSample(n: 50, successes: 0),
                candidate: ProportionSample(n: 60, successes: 0)
            )
        }
        #expect(throws: StatisticsError.insufficientData("the rate is 1 in both arms: the MDE is undefined")) {
            try ExperimentStatistics.minimumDetectableEffect(
                baseline: ProportionSample(n: 50, successes: 50),
                candidate: ProportionSample(n: 60, successes: 60)
            )
        }
        #expect(throws: StatisticsError.insufficientData("the baseline has 1 sample, at least 2 needed")) {
            try ExperimentStatistics.twoProportionZTest(
                baseline: ProportionSample(n: 1, successes: 1),
                candidate: ProportionSample(n: 60, successes: 6)
            )
        }
        #expect(
            throws: StatisticsError.insufficientData(
                "the sample: invalid sample: 12 successes out of 10, expected 0 to 10"
            )
        ) {
            try ExperimentStatistics.waldInterval(ProportionSample(n: 10, successes: 12))
        }
        #expect(
            throws: StatisticsError.insufficientData(
                "the sample has a rate of 0 (0 of 10): the Wald interval is undefined"
            )
        ) {
            try ExperimentStatistics.waldInterval(ProportionSample(n: 10, successes: 0))
        }
    }

    @Test func degenerateMeansThrowInsufficientData() {
        #expect(
            throws: StatisticsError.insufficientData("the variance is 0 in both arms: the t statistic is undefined")
        ) {
            try ExperimentStatistics.welchTTest(
                baseline: MeanSample(n: 10, mean: 1, variance: 0),
                candidate: MeanSample(n: 12, mean: 2, variance: 0)
            )
        }
        #expect(throws: StatisticsError.insufficientData("the candidate has 1 value, at least 2 needed")) {
            try ExperimentStatistics.welchTTest(
                baseline: MeanSample(n: 10, mean: 1, variance: 2),
                candidate: MeanSample(values: [4])
            )
        }
        #expect(
            throws: StatisticsError.insufficientData(
                "the baseline: invalid sample: the variance is -1.0, expected a finite number ≥ 0"
            )
        ) {
            try ExperimentStatistics.welchTTest(
                baseline: MeanSample(n: 10, mean: 1, variance: -1),
                candidate: MeanSample(n: 10, mean: 1, variance: 1)
            )
        }
        #expect(
            throws: StatisticsError.insufficientData("the sample: invalid sample: the mean is not a finite number")
        ) {
            try ExperimentStatistics.meanInterval(MeanSample(n: 10, mean: .nan, variance: 1))
        }
    }

    @Test func oneZeroVarianceArmStillTests() throws {
        // Welch's df then comes from the other arm alone: n − 1.
        let result = try ExperimentStatistics.welchTTest(
            baseline: MeanSample(n: 8, mean: 1, variance: 0),
            candidate: MeanSample(n: 12, mean: 2, variance: 3)
        )
        #expect(isClose(try #require(result.degreesOfFreedom), 11, relative: 1e-12))
        #expect(result.pValue > 0 && result.pValue < 1)
    }

    @Test func badParametersAreNamed() {
        let a = ProportionSample(n: 100, successes: 40)
        #expect(
            throws: StatisticsError.invalidParameter("confidence is 1.5, expected a number between 0 and 1 (exclusive)")
        ) {
            try ExperimentStatistics.twoProportionZTest(baseline: a, candidate: a, confidence: 1.5)
        }
        #expect(
            throws: StatisticsError.invalidParameter("alpha is 0.0, expected a number between 0 and 1 (exclusive)")
        ) {
            try ExperimentStatistics.minimumDetectableEffect(baseline: a, candidate: a, alpha: 0)
        }
        #expect(
            throws: StatisticsError.invalidParameter("power is 1.0, expected a number between 0 and 1 (exclusive)")
        ) {
            try ExperimentStatistics.minimumDetectableEffect(baseline: a, candidate: a, power: 1)
        }
    }
}
