import SlipwayStorage
import Testing

/// The repository contract against PostgreSQL (a fresh schema per test in `SLIPWAY_TEST_POSTGRES_URL`); skipped,
/// with the reason recorded, when the variable is unset.
@Suite(.enabled(if: Backend.postgresURL != nil, Backend.postgresSkipReason), .timeLimit(.minutes(2)))
struct PostgresRepositoryTests {
    @Test func migratesTwiceAndConcurrently() async throws {
        try await RepositoryContract.migratesTwiceAndConcurrently(.postgres)
    }
    @Test func storesUsersAndTokens() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesUsersAndTokens)
    }
    @Test func storesOrganizations() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesOrganizations)
    }
    @Test func storesModelsAndEnvironments() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesModelsAndEnvironments)
    }
    @Test func listsModelsByVisibilitySearchAndTopic() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.listsModelsByVisibilitySearchAndTopic)
    }
    @Test func storesDeployments() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesDeployments)
    }
    @Test func storesReferenceRowsApart() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesReferenceRowsApart)
    }
    @Test func numbersConcurrentDeploymentsWithoutGaps() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.numbersConcurrentDeploymentsWithoutGaps)
    }
    @Test func activatesOnlyVerifiedDeployments() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.activatesOnlyVerifiedDeployments)
    }
    @Test func movesDeploymentStatusOnce() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.movesDeploymentStatusOnce)
    }
    @Test func feedsTheRuntime() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.feedsTheRuntime)
    }
    @Test func deletesEnvironmentsAndModels() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.deletesEnvironmentsAndModels)
    }
    @Test func storesKeys() async throws { try await Backend.postgres.withRepository(RepositoryContract.storesKeys) }
    @Test func answersWhichVersionWasLive() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.answersWhichVersionWasLive)
    }
    @Test func roundTripsTimestampsToTheMicrosecond() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.roundTripsTimestampsToTheMicrosecond)
    }
    @Test func servesConcurrentReadsAndWrites() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.servesConcurrentReadsAndWrites)
    }
    @Test func storesOutcomesAndFeedback() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesOutcomesAndFeedback)
    }
    @Test("background writes run as other writes (the database server schedules its own work)")
    func runsBackgroundWritesAsOthers() async throws {
        try await Backend.postgres.withRepository { repository in
            let niceness = try await repository.backgroundWriteNiceness()
            #expect(niceness == nil)
        }
    }

    @Test func storesOutcomeBatchesAcrossStatements() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesOutcomeBatchesAcrossStatements)
    }
    @Test func storesTrafficPoliciesAtomically() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesTrafficPoliciesAtomically)
    }
    @Test func runsRolloutsWithRevisions() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.runsRolloutsWithRevisions)
    }
    @Test func boundsThePredictionLog() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.boundsThePredictionLog)
    }
    @Test func storesAlertRulesAndWebhooks() async throws {
        try await Backend.postgres.withRepository(RepositoryContract.storesAlertRulesAndWebhooks)
    }
}
