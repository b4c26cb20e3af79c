import Foundation
import MetricsTestKit
import SlipwayRegistry
import SlipwayRuntime
import SlipwayStorage
import Synchronization
import Testing

@testable import SlipwayMonitoring

/// A repository that fails its next `mergeStatistics` calls (a database outage).
final class FlakyRepository: StatisticsRepository {
    let base: SQLRegistryRepository
    let failures = Mutex(0)

    init(base: SQLRegistryRepository, failures: Int) {
        self.base = base
        self.failures.withLock { $0 = failures }
    }

    func mergeStatistics(
        _ records: [StatisticsBucketRecord],
        combine: @escaping @Sendable (String, String) throws -> String
    ) async throws {
        let fail = self.failures.withLock { count in
            defer { count = max(0, count - 1) }
            return count > 0
        }
        if fail { throw RegistryError(.storageFailure, "the database is down (test)") }
        try await self.base.mergeStatistics(records, combine: combine)
    }

    func statistics(
        deploymentIDs: [UUID],
        size: StatisticsBucketSize,
        from: Date,
        to: Date
    ) async throws
        -> [StatisticsBucketRecord]
    {
        try await self.base.statistics(deploymentIDs: deploymentIDs, size: size, from: from, to: to)
    }

    func statistics(
        environmentID: UUID,
        size: StatisticsBucketSize,
        from: Date,
        to: Date
    ) async throws
        -> [StatisticsBucketRecord]
    {
        try await self.base.statistics(environmentID: environmentID, size: size, from: from, to: to)
    }

    func pruneStatistics(size: StatisticsBucketSize, before date: Date) async throws -> Int {
        try await self.base.pruneStatistics(size: size, before: date)
    }

    func storeReferenceProfile(deploymentID: UUID, profile: String) async throws -> String? {
        try await self.base.storeReferenceProfile(deploymentID: deploymentID, profile: profile)
    }

    func deploymentReference(id: UUID) async throws -> String? {
        try await self.base.deploymentReference(id: id)
    }

    func referenceProfile(deploymentID: UUID) async throws -> String? {
        try await self.base.referenceProfile(deploymentID: deploymentID)
    }

    func monitoringSettings(modelID: UUID) async throws -> MonitoringSettings? {
        try await self.base.monitoringSettings(modelID: modelID)
    }

    func setMonitoringSettings(_ settings: MonitoringSettings, event: ActivityEvent) async throws {
        try await self.base.setMonitoringSettings(settings, event: event)
    }
}

@Suite(.timeLimit(.minutes(2))) struct StatisticsRecorderTests {
    static let start = Date(timeIntervalSince1970: 1_700_000_040)  // 22:14:00 UTC, a whole minute

    func stored(
        _ world: IrisWorld,
        _ size: StatisticsBucketSize,
        from: Date = Date(timeIntervalSince1970: 0),
        to: Date = Date(timeIntervalSince1970: 4_000_000_000)
    ) async throws -> [StatisticsBucketRecord] {
        try await world.repository.statistics(deploymentIDs: [world.deployment.id], size: size, from: from, to: to)
    }

    @Test func twoProcessesWritingTheSameBucketsAddUp() async throws {
        let world = try await IrisWorld.make()
        let second = try await world.openAgain()
        let recorders = [
            StatisticsRecorder(repository: world.repository, clock: { Self.start }),
            StatisticsRecorder(repository: second, clock: { Self.start }),
        ]
        var all = BucketStatistics()
        let profile = ReferenceProfile.make(for: world.prepared)
        var generator = SeededGenerator(state: 5)
        // Three minutes of the same hour, each process serving every minute; flushed twice per process.
        for round in 0..<2 {
            for minute in 0..<3 {
                for (index, recorder) in recorders.enumerated() {
                    for request in 0..<(5 + index) {
                        let record = try world.record(
                            [[5.1, 3.5, Double(request % 7), 0.2 * Double(minute + 1)]],
                            at: Self.start.addingTimeInterval(Double(minute * 60 + request)),
                            latency: Double.random(in: 0.0005...0.05, using: &generator),
                            status: request == 0 && round == 1 ? 429 : 200,
                            errorCode: request == 0 && round == 1 ? "rate_limited" : nil
                        )
                        recorder.record(record)
                        all.add(record, profile: profile, order: world.prepared.schema?.order)
                    }
                }
            }
            async let a: Void = recorders[0].flush()
            async let b: Void = recorders[1].flush()
            _ = try await (a, b)
        }
        let minutes = try await self.stored(world, .minute)
        #expect(minutes.map(\.start) == (0..<3).map { Self.start.addingTimeInterval(Double($0 * 60)) })
        #expect(minutes.map(\.requests) == [22, 22, 22])
        let hours = try await self.stored(world, .hour)
        try #require(hours.count == 1)
        #expect(hours[0].start == StatisticsBucketSize.hour.start(of: Self.start))
        let hour = try StatisticsReader.decode(hours[0])
        #expect(hour.requests == 66 && hour.errors == 6 && hour.errorCodes == ["rate_limited": 6])
        #expect(hour.requests == all.requests && hour.rows == all.rows)
        for percentile in [50.0, 95, 99] {
            #expect(hour.latency.percentile(percentile) == all.latency.percentile(percentile))
        }
        #expect(hour.predictions == all.predictions)
        Self.expectSameFeatures(hour, all)
        // The hour is the sum of its minutes.
        var summed = BucketStatistics()
        for minute in minutes { summed.merge(try StatisticsReader.decode(minute)) }
        #expect(summed.requests == hour.requests && summed.latency == hour.latency)
        Self.expectSameFeatures(summed, hour)
        try await second.shutdown()
        await world.close()
    }

    @Test func recordsFromManyThreadsAtOnceAllCount() async throws {
        let world = try await IrisWorld.make()
        let recorder = StatisticsRecorder(repository: world.repository, clock: { Self.start })
        // The first record builds the deployment's context; the rest are counted straight into the shards.
        let first = try world.record([[5.1, 3.5, 1.4, 0.2]], at: Self.start)
        recorder.record(first)
        await recorder.aggregate()
        var records: [PredictionRecord] = []
        for index in 0..<64 {
            let petal = Double(index % 7)
            let at = Self.start.addingTimeInterval(Double(index % 50))
            records.append(try world.record([[5.1, 3.5, petal, 0.2]], at: at, latency: 0.001 * Double(index % 9 + 1)))
        }
        var expected = BucketStatistics()
        let profile = ReferenceProfile.make(for: world.prepared)
        expected.add(first, profile: profile, order: world.prepared.schema?.order)
        let threads = 8
        let perThread = 250
        for index in 0..<(threads * perThread) {
            expected.add(records[index % records.count], profile: profile, order: world.prepared.schema?.order)
        }
        let shared = records
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread { recorder.record(shared[(thread * perThread + index) % shared.count]) }
        }
        try await recorder.flush()
        let minutes = try await self.stored(world, .minute)
        try #require(minutes.count == 1)
        let minute = try StatisticsReader.decode(minutes[0])
        #expect(minutes[0].requests == Int64(threads * perThread + 1))
        #expect(minute.rows == expected.rows && minute.latency == expected.latency)
        #expect(minute.predictions == expected.predictions)
        Self.expectSameFeatures(minute, expected)
        await world.close()
    }

    /// Feature statistics agree: counts, extremes and histograms exactly, sums up to rounding (added in another order).
    static func expectSameFeatures(
        _ left: BucketStatistics,
        _ right: BucketStatistics,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(Set(left.features.keys) == Set(right.features.keys), sourceLocation: sourceLocation)
        for (name, feature) in left.features {
            guard let a = feature.numeric, let b = right.features[name]?.numeric else {
                Issue.record("\(name) is not numeric on both sides", sourceLocation: sourceLocation)
                continue
            }
            #expect(
                a.count == b.count && a.minimum == b.minimum && a.maximum == b.maximum,
                sourceLocation: sourceLocation
            )
            #expect(a.edges == b.edges && a.counts == b.counts, sourceLocation: sourceLocation)
            #expect(abs(a.sum - b.sum) <= 1e-9 * max(1, abs(a.sum)), sourceLocation: sourceLocation)
        }
    }

    @Test func aFailedWriteKeepsTheBucketsForTheNextOne() async throws {
        let world = try await IrisWorld.make()
        let flaky = FlakyRepository(base: world.repository, failures: 1)
        let recorder = StatisticsRecorder(repository: flaky)
        for index in 0..<4 {
            recorder.record(try world.record([[5, 3, 1.4, 0.2]], at: Self.start.addingTimeInterval(Double(index))))
        }
        await #expect(throws: RegistryError.self) { try await recorder.flush() }
        recorder.record(try world.record([[5, 3, 1.4, 0.2]], at: Self.start.addingTimeInterval(5)))
        try await recorder.flush()
        #expect(try await self.stored(world, .minute).map(\.requests) == [5])
        #expect(try await self.stored(world, .hour).map(\.requests) == [5])
        await world.close()
    }

    @Test func bucketsPastTheirRetentionArePruned() async throws {
        let world = try await IrisWorld.make()
        let now = Self.start.addingTimeInterval(100 * 86_400)
        let recorder = StatisticsRecorder(
            repository: world.repository,
            configuration: StatisticsConfiguration(minuteRetention: 2 * 3_600, hourRetention: 3 * 86_400),
            clock: { now }
        )
        // Four days ago, two days ago, one hour ago, now.
        for age: Double in [4 * 86_400, 2 * 86_400, 3_600, 0] {
            recorder.record(try world.record([[5, 3, 1.4, 0.2]], at: now.addingTimeInterval(-age)))
        }
        try await recorder.flush()
        #expect(try await self.stored(world, .minute).count == 4)
        #expect(try await self.stored(world, .hour).count == 4)
        try await recorder.prune()
        let minutes = try await self.stored(world, .minute)
        #expect(
            minutes.map(\.start) == [now.addingTimeInterval(-3_600), now].map(StatisticsBucketSize.minute.start(of:))
        )
        let hours = try await self.stored(world, .hour)
        #expect(
            hours.map(\.start)
                == [now.addingTimeInterval(-2 * 86_400), now.addingTimeInterval(-3_600), now].map(
                    StatisticsBucketSize.hour.start(of:)
                )
        )
        await world.close()
    }

    @Test func driftGaugesFollowTheWindow() async throws {
        let world = try await IrisWorld.make()
        let metrics = TestMetrics()
        let now = Self.start.addingTimeInterval(600)
        let recorder = StatisticsRecorder(repository: world.repository, metrics: metrics, clock: { now })
        // Live sepal lengths far above the reference's (5.0–6.9).
        for index in 0..<30 {
            recorder.record(try world.record([[7.5, 3.0, 5.0, 1.5]], at: now.addingTimeInterval(-Double(index))))
        }
        try await recorder.flush()
        try await recorder.refreshDriftGauges()
        let keys = recorder.gauges.keys
        #expect(
            keys.map(\.feature).sorted() == [
                "_predictions", "petal_length", "petal_width", "sepal_length", "sepal_width",
            ]
        )
        let gauge = try metrics.expectGauge(
            "slipway_drift_psi",
            [("model", "admin/iris"), ("environment", "production"), ("version", "1"), ("feature", "sepal_length")]
        )
        // All live values in the reference's empty last bin: (1 - 0.0001)·ln(1/0.0001) + 3 · (0.0001 - 1/3)·ln(0.0003).
        let expected = (1 - 1e-4) * log(1 / 1e-4) + 3 * (1e-4 - 1.0 / 3) * log(1e-4 * 3)
        #expect(abs((gauge.lastValue ?? 0) - expected) < 1e-9)
        await world.close()
    }
}
