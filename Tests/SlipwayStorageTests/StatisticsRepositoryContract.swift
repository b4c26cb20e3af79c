import Foundation
import SlipwayRegistry
import SlipwayStorage
import Testing

/// The ``StatisticsRepository`` behaviour every backend must show; run against SQLite always and PostgreSQL when
/// `SLIPWAY_TEST_POSTGRES_URL` is set.
enum StatisticsRepositoryContract {
    /// A model with one deployment in production.
    static func deployment(_ repository: SQLRegistryRepository, name: String = "churn") async throws -> Deployment {
        let (model, environments) = try await Fixtures.model(repository, name: name)
        return try await repository.createDeployment(
            Deployment(
                modelID: model.id,
                environmentID: environments[0].id,
                environmentName: environments[0].name,
                artifactDigest: String(repeating: "b", count: 64),
                artifactSize: 1,
                summary: "first",
                createdBy: Fixtures.alice,
                createdAt: Fixtures.start
            ),
            event: Fixtures.event(model.id, .deploymentCreated)
        )
    }

    static func record(
        _ deployment: Deployment,
        _ size: StatisticsBucketSize,
        minute: Int,
        requests: Int64,
        errors: Int64 = 0,
        payload: String
    ) -> StatisticsBucketRecord {
        StatisticsBucketRecord(
            deploymentID: deployment.id,
            modelID: deployment.modelID,
            environmentID: deployment.environmentID,
            size: size,
            start: Date(timeIntervalSince1970: 1_700_000_040 + Double(minute * 60)),
            requests: requests,
            errors: errors,
            payload: payload
        )
    }

    /// Payloads in these tests are comma-separated lists; merging concatenates them in order.
    @Sendable static func concatenate(_ stored: String, _ added: String) -> String { stored + "," + added }

    static func mergesBucketsAddingCountersAndPayloads(_ repository: SQLRegistryRepository) async throws {
        let deployment = try await self.deployment(repository)
        try await repository.mergeStatistics(
            [
                self.record(deployment, .minute, minute: 0, requests: 3, errors: 1, payload: "a"),
                self.record(deployment, .minute, minute: 1, requests: 2, payload: "b"),
                self.record(deployment, .hour, minute: 0, requests: 5, errors: 1, payload: "h1"),
            ],
            combine: self.concatenate
        )
        try await repository.mergeStatistics(
            [
                self.record(deployment, .minute, minute: 0, requests: 4, errors: 2, payload: "c"),
                self.record(deployment, .hour, minute: 0, requests: 4, errors: 2, payload: "h2"),
            ],
            combine: self.concatenate
        )
        let from = Date(timeIntervalSince1970: 1_700_000_040)
        let minutes = try await repository.statistics(
            deploymentIDs: [deployment.id],
            size: .minute,
            from: from,
            to: from.addingTimeInterval(3_600)
        )
        #expect(minutes.map(\.requests) == [7, 2] && minutes.map(\.errors) == [3, 0])
        #expect(minutes.map(\.payload) == ["a,c", "b"])
        #expect(minutes.allSatisfy { $0.modelID == deployment.modelID && $0.environmentID == deployment.environmentID })
        // [from, to): a bucket starting at `to` is not included.
        let first = try await repository.statistics(
            deploymentIDs: [deployment.id],
            size: .minute,
            from: from,
            to: from.addingTimeInterval(60)
        )
        #expect(first.map(\.payload) == ["a,c"])
        let hours = try await repository.statistics(
            environmentID: deployment.environmentID,
            size: .hour,
            from: from,
            to: from.addingTimeInterval(3_600)
        )
        #expect(hours.map(\.requests) == [9] && hours.map(\.payload) == ["h1,h2"])
        // A deployment deleted in the meantime: its buckets are dropped, the others kept.
        let other = try await self.deployment(repository, name: "other")
        try await repository.execute(
            unsafeSQL: "DELETE FROM deployments WHERE id = '\(other.id.uuidString.lowercased())'"
        )
        try await repository.mergeStatistics(
            [
                self.record(other, .minute, minute: 0, requests: 1, payload: "gone"),
                self.record(deployment, .minute, minute: 2, requests: 1, payload: "d"),
            ],
            combine: self.concatenate
        )
        #expect(
            try await repository.statistics(deploymentIDs: [other.id], size: .minute, from: from, to: .distantFuture)
                .isEmpty
        )
        #expect(
            try await repository.statistics(
                deploymentIDs: [deployment.id],
                size: .minute,
                from: from,
                to: .distantFuture
            )
            .map(\.payload) == ["a,c", "b", "d"]
        )
    }

    static func mergesConcurrentWritersWithoutLosingCounts(_ database: TestDatabase) async throws {
        let first = try await database.open()
        try await first.migrate()
        let second = try await database.open()
        let deployment = try await self.deployment(first)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, repository) in [first, second, first, second].enumerated() {
                group.addTask {
                    for round in 0..<5 {
                        try await repository.mergeStatistics(
                            [
                                self.record(deployment, .minute, minute: round % 2, requests: 1, payload: "\(index)"),
                                self.record(deployment, .hour, minute: 0, requests: 1, payload: "\(index)"),
                            ],
                            combine: self.concatenate
                        )
                    }
                }
            }
            try await group.waitForAll()
        }
        let from = Date(timeIntervalSince1970: 0)
        let minutes = try await first.statistics(
            deploymentIDs: [deployment.id],
            size: .minute,
            from: from,
            to: .distantFuture
        )
        #expect(minutes.map(\.requests) == [12, 8])
        #expect(minutes.map { $0.payload.split(separator: ",").count } == [12, 8])
        let hours = try await first.statistics(
            deploymentIDs: [deployment.id],
            size: .hour,
            from: from,
            to: .distantFuture
        )
        #expect(hours.map(\.requests) == [20] && hours.map { $0.payload.split(separator: ",").count } == [20])
        try await first.shutdown()
        try await second.shutdown()
    }

    static func prunesBySizeAndAge(_ repository: SQLRegistryRepository) async throws {
        let deployment = try await self.deployment(repository)
        try await repository.mergeStatistics(
            (0..<4).map { self.record(deployment, .minute, minute: $0, requests: 1, payload: "m") }
                + [self.record(deployment, .hour, minute: 0, requests: 4, payload: "h")],
            combine: self.concatenate
        )
        let cutoff = Date(timeIntervalSince1970: 1_700_000_040 + 120)
        #expect(try await repository.pruneStatistics(size: .minute, before: cutoff) == 2)
        #expect(try await repository.pruneStatistics(size: .minute, before: cutoff) == 0)
        let left = try await repository.statistics(
            deploymentIDs: [deployment.id],
            size: .minute,
            from: .distantPast,
            to: .distantFuture
        )
        #expect(left.map(\.start) == [cutoff, cutoff.addingTimeInterval(60)])
        #expect(
            try await repository.statistics(
                deploymentIDs: [deployment.id],
                size: .hour,
                from: .distantPast,
                to: .distantFuture
            )
            .count == 1
        )
    }

    static func keepsTheFirstReferenceProfileAndTheSettings(_ repository: SQLRegistryRepository) async throws {
        let deployment = try await self.deployment(repository)
        #expect(try await repository.referenceProfile(deploymentID: deployment.id) == nil)
        #expect(try await repository.storeReferenceProfile(deploymentID: deployment.id, profile: "first") == "first")
        #expect(try await repository.storeReferenceProfile(deploymentID: deployment.id, profile: "second") == "first")
        #expect(try await repository.referenceProfile(deploymentID: deployment.id) == "first")
        #expect(try await repository.storeReferenceProfile(deploymentID: UUID(), profile: "x") == nil)

        #expect(try await repository.monitoringSettings(modelID: deployment.modelID) == nil)
        for (index, threshold) in [0.25, 0.1].enumerated() {
            let settings = MonitoringSettings(
                modelID: deployment.modelID,
                driftThreshold: threshold,
                updatedAt: Fixtures.at(Double(index))
            )
            try await repository.setMonitoringSettings(
                settings,
                event: Fixtures.event(deployment.modelID, .monitoringUpdated, at: Fixtures.at(Double(index)))
            )
            #expect(try await repository.monitoringSettings(modelID: deployment.modelID) == settings)
        }
        let events = try await repository.listActivity(
            modelID: deployment.modelID,
            filter: ActivityFilter(actions: [.monitoringUpdated]),
            page: try PageRequest()
        )
        #expect(events.items.count == 2)
        await expectRegistryError(.notFound) {
            try await repository.setMonitoringSettings(
                MonitoringSettings(modelID: UUID(), driftThreshold: 0.2, updatedAt: Fixtures.start),
                event: Fixtures.event(UUID(), .monitoringUpdated)
            )
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct SQLiteStatisticsTests {
    @Test func mergesBucketsAddingCountersAndPayloads() async throws {
        try await Backend.sqlite.withRepository(StatisticsRepositoryContract.mergesBucketsAddingCountersAndPayloads)
    }
    @Test func mergesConcurrentWritersWithoutLosingCounts() async throws {
        try await Backend.sqlite.withDatabase(StatisticsRepositoryContract.mergesConcurrentWritersWithoutLosingCounts)
    }
    @Test func prunesBySizeAndAge() async throws {
        try await Backend.sqlite.withRepository(StatisticsRepositoryContract.prunesBySizeAndAge)
    }
    @Test func keepsTheFirstReferenceProfileAndTheSettings() async throws {
        try await Backend.sqlite.withRepository(
            StatisticsRepositoryContract.keepsTheFirstReferenceProfileAndTheSettings
        )
    }
}

@Suite(.enabled(if: Backend.postgresURL != nil, Backend.postgresSkipReason), .timeLimit(.minutes(2)))
struct PostgresStatisticsTests {
    @Test func mergesBucketsAddingCountersAndPayloads() async throws {
        try await Backend.postgres.withRepository(StatisticsRepositoryContract.mergesBucketsAddingCountersAndPayloads)
    }
    @Test func mergesConcurrentWritersWithoutLosingCounts() async throws {
        try await Backend.postgres.withDatabase(StatisticsRepositoryContract.mergesConcurrentWritersWithoutLosingCounts)
    }
    @Test func prunesBySizeAndAge() async throws {
        try await Backend.postgres.withRepository(StatisticsRepositoryContract.prunesBySizeAndAge)
    }
    @Test func keepsTheFirstReferenceProfileAndTheSettings() async throws {
        try await Backend.postgres.withRepository(
            StatisticsRepositoryContract.keepsTheFirstReferenceProfileAndTheSettings
        )
    }
}
