import SlipwayRegistry
import SlipwayStorage
import Testing

/// The repository contract against SQLite (a fresh file in a temporary folder per test).
@Suite(.timeLimit(.minutes(2))) struct SQLiteRepositoryTests {
    @Test func migratesTwiceAndConcurrently() async throws {
        try await RepositoryContract.migratesTwiceAndConcurrently(.sqlite)
    }
    @Test func storesUsersAndTokens() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesUsersAndTokens)
    }
    @Test func storesOrganizations() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesOrganizations)
    }
    @Test func storesModelsAndEnvironments() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesModelsAndEnvironments)
    }
    @Test func listsModelsByVisibilitySearchAndTopic() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.listsModelsByVisibilitySearchAndTopic)
    }
    @Test func storesDeployments() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesDeployments)
    }
    @Test func storesReferenceRowsApart() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesReferenceRowsApart)
    }
    @Test func numbersConcurrentDeploymentsWithoutGaps() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.numbersConcurrentDeploymentsWithoutGaps)
    }
    @Test func activatesOnlyVerifiedDeployments() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.activatesOnlyVerifiedDeployments)
    }
    @Test func movesDeploymentStatusOnce() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.movesDeploymentStatusOnce)
    }
    @Test func feedsTheRuntime() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.feedsTheRuntime)
    }
    @Test func deletesEnvironmentsAndModels() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.deletesEnvironmentsAndModels)
    }
    @Test func storesKeys() async throws { try await Backend.sqlite.withRepository(RepositoryContract.storesKeys) }
    @Test func answersWhichVersionWasLive() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.answersWhichVersionWasLive)
    }
    @Test func roundTripsTimestampsToTheMicrosecond() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.roundTripsTimestampsToTheMicrosecond)
    }
    @Test func servesConcurrentReadsAndWrites() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.servesConcurrentReadsAndWrites)
    }
    @Test func storesOutcomesAndFeedback() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesOutcomesAndFeedback)
    }
    @Test("background writes run their statements on a thread at nice +10")
    func runsBackgroundWritesAtLowerPriority() async throws {
        #if os(Linux)
        try await Backend.sqlite.withRepository { repository in
            let niceness = try await repository.backgroundWriteNiceness()
            #expect(niceness == ThreadPriority.backgroundNiceness)
        }
        #endif
    }

    @Test func storesOutcomeBatchesAcrossStatements() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesOutcomeBatchesAcrossStatements)
    }
    @Test func storesTrafficPoliciesAtomically() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesTrafficPoliciesAtomically)
    }
    @Test func runsRolloutsWithRevisions() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.runsRolloutsWithRevisions)
    }
    @Test func boundsThePredictionLog() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.boundsThePredictionLog)
    }
    @Test func storesAlertRulesAndWebhooks() async throws {
        try await Backend.sqlite.withRepository(RepositoryContract.storesAlertRulesAndWebhooks)
    }
}
