import Foundation
import SlipwayInference
import SlipwayRegistry
import Testing

@testable import SlipwayRuntime

/// Arm assignment of a traffic split: shares, stickiness, growth and route keys.
@Suite struct TrafficRouteTests {
    /// The iris example as version `version`, with a traffic route over `splits` when given.
    static func route(
        splits: [Int],
        shadows: [Int] = [],
        sticky: String? = nil
    ) throws -> (PreparedModel, [PreparedModel]) {
        let active = try InputBuilderTests.iris()
        let others = try splits.map { _ in try InputBuilderTests.iris() }
        let traffic = TrafficRoute(
            splits: zip(splits, others).map { (weight: $0.0, model: $0.1) },
            active: active,
            shadows: try shadows.map { TrafficRoute.Shadow(model: try InputBuilderTests.iris(), percent: $0) },
            stickyFeature: sticky
        )
        let routed = PreparedModel(
            model: active.model,
            environment: active.environment,
            deployment: active.deployment,
            session: active.session,
            schema: active.schema,
            classes: active.classes,
            admission: nil,
            traffic: traffic
        )
        return (routed, [active] + others)
    }

    @Test func keysSpreadByTheWeightsAndAlwaysLandOnTheSameArm() throws {
        let (routed, arms) = try Self.route(splits: [20, 10])
        var counts = [0, 0, 0]
        for user in 0..<20_000 {
            let chosen = routed.routed(key: "user-\(user)")
            #expect(routed.routed(key: "user-\(user)") === chosen)
            let index = try #require(arms.firstIndex { $0 === chosen })
            counts[index] += 1
        }
        // 70/20/10 within 4.5 binomial standard deviations.
        for (count, share) in zip(counts, [0.7, 0.2, 0.1]) {
            #expect(
                abs(Double(count) - 20_000 * share) < 4.5 * (20_000 * share * (1 - share)).squareRoot(),
                "\(counts)"
            )
        }
    }

    @Test func aGrowingCanaryKeepsEveryoneItHad() throws {
        let keys = (0..<5_000).map { "key-\($0)" }
        let small = keys.filter { TrafficRoute.bucket($0) < 5 * 100 }
        let large = keys.filter { TrafficRoute.bucket($0) < 25 * 100 }
        #expect(Set(small).isSubset(of: Set(large)))
        let (five, fiveArms) = try Self.route(splits: [5])
        #expect(small.allSatisfy { five.routed(key: $0) === fiveArms[1] })
    }

    @Test func withoutAKeyAssignmentIsRandomByWeight() throws {
        let (routed, arms) = try Self.route(splits: [50])
        let toCanary = (0..<10_000).filter { _ in routed.routed(key: nil) === arms[1] }.count
        #expect(abs(toCanary - 5_000) < 250)
    }

    @Test func routeKeysComeFromTheHeaderThenTheStickyFeature() throws {
        let (routed, _) = try Self.route(splits: [50], sticky: "petal_width")
        let features = PredictionRows.features([["petal_width": .number(0.2), "sepal_length": .integer(5)]])
        #expect(routed.routeKey(header: "abc", rows: features) == "abc")
        #expect(routed.routeKey(header: nil, rows: features) == "0.2")
        // Positional rows find the feature through the schema's order.
        let order = try #require(routed.schema?.order)
        var row = [JSONTree](repeating: .number(1), count: order.count)
        row[try #require(order.firstIndex(of: "petal_width"))] = .integer(7)
        #expect(routed.routeKey(header: nil, rows: .ndarray([row])) == "7")
        let (plain, _) = try Self.route(splits: [50])
        #expect(plain.routeKey(header: nil, rows: features) == nil)
    }

    @Test func shadowsAreDrawnByTheirPercent() throws {
        let (always, _) = try Self.route(splits: [], shadows: [100])
        #expect(always.traffic?.shadowsForRequest().count == 1)
        #expect(always.traffic?.isSplit == false && always.routed(key: "x") === always)
        let (sometimes, _) = try Self.route(splits: [], shadows: [10])
        let copies = (0..<10_000).reduce(0) { total, _ in total + (sometimes.traffic?.shadowsForRequest().count ?? 0) }
        #expect(abs(copies - 1_000) < 150)
    }
}
