import Foundation
import SlipwayInference
import SlipwayRuntime
import Testing

@testable import SlipwayMonitoring

// Each statistic against a straightforward reference computation.
@Suite struct StatisticTests {
    // MARK: Latency

    /// The exact nearest-rank percentile of sorted values.
    static func exactPercentile(_ sorted: [UInt64], permille: Int) -> UInt64 {
        let rank = (permille * sorted.count + 999) / 1_000
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    @Test func latencyPercentilesMatchExactOnesWithinThePrecision() throws {
        var generator = SeededGenerator(state: 42)
        var latency = LatencyHistogram()
        var microseconds: [UInt64] = []
        for _ in 0..<20_000 {
            // Log-uniform between 50 µs and 2 s.
            let seconds = exp(Double.random(in: log(0.000_05)...log(2.0), using: &generator))
            latency.record(seconds: seconds)
            microseconds.append(UInt64((seconds * 1_000_000).rounded()))
        }
        microseconds.sort()
        #expect(latency.count == 20_000)
        for permille in [500, 950, 990, 999] {
            let percentile = Double(permille) / 10
            let exact = Double(Self.exactPercentile(microseconds, permille: permille))
            let measured = latency.percentile(percentile) * 1_000
            // Three significant digits: within 0.1 % (and the one-microsecond unit).
            #expect(abs(measured - exact) <= exact * 0.001 + 1, "p\(percentile): \(measured) µs vs \(exact) µs")
        }
        #expect(latency.maximum == Double(microseconds.last!) / 1_000)
        #expect(latency.minimum == Double(microseconds.first!) / 1_000)
        let exactMean = Double(microseconds.reduce(0, +)) / Double(microseconds.count) / 1_000
        #expect(abs(latency.mean - exactMean) <= exactMean * 0.001)
    }

    @Test func latencyHistogramsMergeExactlyAndSurviveTheirStoredForm() throws {
        var generator = SeededGenerator(state: 7)
        var all = LatencyHistogram()
        var halves = [LatencyHistogram(), LatencyHistogram()]
        for index in 0..<5_000 {
            let seconds = Double.random(in: 0.0001...0.5, using: &generator)
            all.record(seconds: seconds)
            halves[index % 2].record(seconds: seconds)
        }
        var merged = halves[0]
        merged.merge(halves[1])
        let stored = try JSONDecoder().decode(LatencyHistogram.self, from: try JSONEncoder().encode(merged))
        for histogram in [merged, stored] {
            #expect(histogram.count == all.count)
            for percentile in [1.0, 50, 95, 99, 100] {
                #expect(histogram.percentile(percentile) == all.percentile(percentile), "p\(percentile)")
            }
            #expect(histogram.minimum == all.minimum && histogram.maximum == all.maximum)
        }
        // One value, and two values in one bucket, keep their exact minimum and maximum too.
        var single = LatencyHistogram()
        single.record(microseconds: 123_456)
        single.record(microseconds: 123_457)
        let decoded = try JSONDecoder().decode(LatencyHistogram.self, from: try JSONEncoder().encode(single))
        #expect(decoded.count == 2 && decoded.minimum == 123.456 && decoded.maximum == 123.457)
        let empty = try JSONDecoder().decode(LatencyHistogram.self, from: try JSONEncoder().encode(LatencyHistogram()))
        #expect(empty.count == 0 && empty.percentile(99) == 0)
    }

    // MARK: Numbers and categories

    @Test func quantileEdgesAreReferenceValuesAtTheDeciles() {
        #expect(NumericSummary.quantileEdges(of: (1...10).map(Double.init)) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(NumericSummary.quantileEdges(of: [6.9, 5.0, 5.1]) == [5.0, 5.1, 6.9])
        #expect(NumericSummary.quantileEdges(of: [3, 3, 3]) == [3])
        #expect(NumericSummary.quantileEdges(of: [.nan]) == nil)
        // Right-closed bins: (-∞, 5.0], (5.0, 5.1], (5.1, 6.9], (6.9, ∞).
        let edges = [5.0, 5.1, 6.9]
        #expect(
            [4.0, 5.0, 5.05, 5.1, 6.0, 6.9, 7.0].map { NumericSummary.bin(of: $0, edges: edges) } == [
                0, 0, 1, 1, 2, 2, 3,
            ]
        )
    }

    @Test func numericSummariesCountAndMergeLikeAPlainComputation() {
        var generator = SeededGenerator(state: 3)
        let values = (0..<1_000).map { _ in Double.random(in: -50...150, using: &generator) }
        let edges = NumericSummary.quantileEdges(of: Array(values.prefix(100)))!
        var first = NumericSummary(edges: edges)
        var second = NumericSummary(edges: edges)
        for (index, value) in values.enumerated() {
            if index < 400 { first.add(value) } else { second.add(value) }
        }
        first.merge(second)
        #expect(first.count == 1_000)
        #expect(first.minimum == values.min() && first.maximum == values.max())
        #expect(abs(first.mean! - values.reduce(0, +) / 1_000) < 1e-9)
        var expected = Array(repeating: Int64(0), count: edges.count + 1)
        for value in values {
            let bin = edges.firstIndex { value <= $0 } ?? edges.count
            expected[bin] += 1
        }
        #expect(first.counts == expected)
    }

    @Test func categoriesAreCappedAndTheRestCountedAsOther() throws {
        var feature = FeatureStatistics.categorical()
        for index in 0..<150 { feature.add(category: "c\(index)") }
        feature.add(category: "c0")
        #expect(feature.categories?.count == FeatureStatistics.maximumCategories)
        #expect(feature.otherCategories == 50)
        #expect(feature.count == 151)
        // Merging keeps the most frequent categories by name.
        var other = FeatureStatistics.categorical()
        for _ in 0..<5 { other.add(category: "popular") }
        feature.merge(other)
        #expect(feature.categories?["popular"] == 5 && feature.categories?["c0"] == 2)
        #expect(feature.categories?.count == FeatureStatistics.maximumCategories)
        #expect(feature.count == 156)
    }

    // MARK: Population stability index

    @Test func populationStabilityIndexMatchesTheHandComputedExample() throws {
        // Reference shares 0.25 each, live 0.1, 0.2, 0.3, 0.4:
        // (0.1-0.25)·ln(0.4) + (0.2-0.25)·ln(0.8) + (0.3-0.25)·ln(1.2) + (0.4-0.25)·ln(1.6) = 0.228217…
        let index = try #require(
            PopulationStabilityIndex.compute(reference: [25, 25, 25, 25], live: [10, 20, 30, 40])
        )
        #expect(abs(index - 0.228_217_409_573) < 1e-9)
        // An empty reference bin takes the epsilon share 0.0001:
        // 0 + (0.25-0.5)·ln(0.5) + (0.25-0.0001)·ln(2500) = 2.128515…
        let empty = try #require(PopulationStabilityIndex.compute(reference: [50, 50, 0], live: [50, 25, 25]))
        #expect(abs(empty - 2.128_515_893_253) < 1e-9)
        #expect(PopulationStabilityIndex.compute(reference: [1, 2, 3], live: [2, 4, 6]) == 0)
        #expect(PopulationStabilityIndex.compute(reference: [1, 2], live: [0, 0]) == nil)
        // Categories: the union of both sides' names.
        let categories = try #require(
            PopulationStabilityIndex.compute(reference: ["a": 2, "b": 2], live: ["a": 1, "b": 2, "c": 1])
        )
        #expect(abs(categories - 2.128_515_893_253) < 1e-9)
    }

    // MARK: Features and predictions of real records

    @Test func featureColumnsAreNamedBySchemaOrderInputNamesOrPosition() throws {
        let matrix = try Tensor(shape: [2, 3], floats: [1, 2, 3, 4, .nan, 6])
        let named = FeatureColumns.columns(["X": matrix], order: ["a", "b", "c"])
        #expect(named.map(\.name) == ["a", "b", "c"])
        guard case .numbers(let b) = named[1].values else { throw TestFailure("b is not numeric") }
        #expect(b[0] == 2 && b[1].isNaN)
        #expect(FeatureColumns.columns(["X": matrix], order: nil).map(\.name) == ["x0", "x1", "x2"])
        let perFeature = FeatureColumns.columns(
            [
                "color": try Tensor(shape: [2, 1], strings: ["red", "blue"]),
                "size": try Tensor(shape: [2, 1], floats: [1, 2]),
                "flag": try Tensor(shape: [2], bools: [true, false]),
            ],
            order: ["size", "color"]
        )
        #expect(perFeature.map(\.name) == ["size", "color", "flag"])
        guard case .categories(let colors) = perFeature[1].values, case .categories(let flags) = perFeature[2].values
        else { throw TestFailure("strings and booleans are categories") }
        #expect(colors == ["red", "blue"] && flags == ["true", "false"])
    }

    @Test func referenceProfileComesFromTheSamplesRunThroughTheModel() async throws {
        let world = try await IrisWorld.make()
        defer { Task { await world.close() } }
        let profile = ReferenceProfile.make(for: world.prepared)
        #expect(profile.source == "samples" && profile.rows == 3 && profile.problem == nil)
        #expect(profile.featureOrder == ["sepal_length", "sepal_width", "petal_length", "petal_width"])
        // Samples: sepal_length 5.1, 5.0, 6.9.
        #expect(profile.features["sepal_length"]?.numeric?.edges == [5.0, 5.1, 6.9].map { Double(Float($0)) })
        #expect(profile.features["sepal_length"]?.numeric?.counts == [1, 1, 1, 0])
        // The three samples are one of each class.
        #expect(profile.predictions?.categories == ["setosa": 1, "versicolor": 1, "virginica": 1])

        let none = try await IrisWorld.make(samples: false)
        defer { Task { await none.close() } }
        let empty = ReferenceProfile.make(for: none.prepared)
        #expect(empty.rows == 0 && empty.problem != nil)
    }

    @Test func referenceRowsSentWithTheDeploymentComeBeforeTheSamples() async throws {
        let world = try await IrisWorld.make()
        defer { Task { await world.close() } }
        let reference = "[[4.4, 2.9, 1.4, 0.2], [7.7, 3.0, 6.1, 2.3], [6.0, 2.2, 4.0, 1.0], [5.0, 3.4, 1.5, 0.2]]"
        let profile = ReferenceProfile.make(for: world.prepared, reference: reference)
        #expect(profile.source == "reference" && profile.rows == 4 && profile.problem == nil)
        #expect(profile.features["sepal_length"]?.numeric?.edges.first == Double(Float(4.4)))
        let objects = #"[{"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}]"#
        #expect(
            ReferenceProfile.referenceRows(for: world.prepared.deployment, reference: objects)?.source == "reference"
        )
        // A reference that is not a list of rows falls back to the samples.
        #expect(ReferenceProfile.referenceRows(for: world.prepared.deployment, reference: "{}")?.source == "samples")
    }

    @Test func bucketsCountRequestsFeaturesAndPredictedClasses() async throws {
        let world = try await IrisWorld.make()
        defer { Task { await world.close() } }
        let profile = ReferenceProfile.make(for: world.prepared)
        var generator = SeededGenerator(state: 11)
        var bucket = BucketStatistics()
        var allRows: [[Double]] = []
        var expectedClasses: [String: Int64] = [:]
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        for request in 0..<40 {
            let rows = (0..<(1 + request % 3)).map { _ in
                [
                    Double(Float(Double.random(in: 4.3...7.9, using: &generator))),
                    Double(Float(Double.random(in: 2.0...4.4, using: &generator))),
                    Double(Float(Double.random(in: 1.0...6.9, using: &generator))),
                    Double(Float(Double.random(in: 0.1...2.5, using: &generator))),
                ]
            }
            let record = try world.record(rows, at: at)
            for output in record.outputs! {
                let probabilities = output.probabilities!
                let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
                expectedClasses[["setosa", "versicolor", "virginica"][best], default: 0] += 1
            }
            allRows += rows
            bucket.add(record, profile: profile, order: world.prepared.schema?.order)
        }
        bucket.add(
            try world.record([[5, 3, 1, 0.5]], at: at, status: 409, errorCode: "schema_violation"),
            profile: profile,
            order: world.prepared.schema?.order
        )
        #expect(bucket.requests == 41 && bucket.errors == 1 && bucket.errorCodes == ["schema_violation": 1])
        #expect(bucket.rows == Int64(allRows.count + 1))
        #expect(bucket.predictions.categories == expectedClasses)
        #expect(bucket.featureOrder == ["sepal_length", "sepal_width", "petal_length", "petal_width"])
        for (column, name) in bucket.featureOrder.enumerated() {
            let values = allRows.map { $0[column] } + [[5, 3, 1, 0.5][column]]
            let numeric = try #require(bucket.features[name]?.numeric)
            #expect(numeric.count == Int64(values.count) && bucket.features[name]?.missing == 0)
            #expect(numeric.minimum == values.min() && numeric.maximum == values.max())
            #expect(abs(numeric.mean! - values.reduce(0, +) / Double(values.count)) < 1e-9)
            // Binned over the reference's edges.
            let edges = try #require(profile.features[name]?.numeric?.edges)
            #expect(numeric.edges == edges)
            var counts = Array(repeating: Int64(0), count: edges.count + 1)
            for value in values { counts[edges.firstIndex { value <= $0 } ?? edges.count] += 1 }
            #expect(numeric.counts == counts, "\(name)")
        }
        // The stored form merges like the values.
        let stored = try JSONDecoder().decode(BucketStatistics.self, from: try JSONEncoder().encode(bucket))
        var twice = stored
        twice.merge(stored)
        #expect(twice.predictions.count == 2 * bucket.predictions.count)
        #expect(
            twice.features["petal_width"]?.numeric?.counts
                == bucket.features["petal_width"]?.numeric?.counts.map { $0 * 2 }
        )
        #expect(twice.latency.count == 82)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
