import Foundation
import SlipwayRegistry
import SlipwayStorage
import Testing

extension RepositoryContract {
    // MARK: Traffic policies and rollouts

    static func activate(
        _ repository: SQLRegistryRepository,
        _ deployment: Deployment,
        at seconds: Double = 1
    ) async throws {
        _ = try await repository.activate(
            environmentID: deployment.environmentID,
            deploymentID: deployment.id,
            event: Fixtures.event(deployment.modelID, .deploymentActivated, at: Fixtures.at(seconds))
        )
    }

    static func rollout(_ candidate: Deployment, baseline: Deployment, at seconds: Double = 2) -> Rollout {
        Rollout(
            modelID: candidate.modelID,
            environmentID: candidate.environmentID,
            environment: "production",
            candidateID: candidate.id,
            candidateVersion: candidate.version,
            baselineID: baseline.id,
            baselineVersion: baseline.version,
            steps: [10, 50, 100],
            interval: 600,
            guardrails: "error_rate<0.01",
            stepStartedAt: Fixtures.at(seconds),
            startedBy: Fixtures.alice,
            createdAt: Fixtures.at(seconds),
            updatedAt: Fixtures.at(seconds)
        )
    }

    static func storesTrafficPoliciesAtomically(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        let first = try await Fixtures.verifiedDeployment(repository, production, digest: Fixtures.digest("a"))
        let second = try await Fixtures.verifiedDeployment(repository, production, digest: Fixtures.digest("b"))
        let third = try await Fixtures.verifiedDeployment(repository, production, digest: Fixtures.digest("c"))
        try await Self.activate(repository, first)
        #expect(try await repository.trafficPolicy(environmentID: production.id) == nil)

        let policy = TrafficPolicy(
            splits: [.init(deploymentID: second.id, version: second.version, weight: 25)],
            shadows: [.init(deploymentID: third.id, version: third.version, percent: 50)]
        )
        let marker = try await repository.latestActivityID()
        try await repository.setTrafficPolicy(
            environmentID: production.id,
            policy,
            expectedActive: first.id,
            event: Fixtures.event(model.id, .trafficUpdated, at: Fixtures.at(3), environment: "production")
        )
        let stored = try await repository.trafficPolicy(environmentID: production.id)
        #expect(stored?.policy == policy && stored?.by == Fixtures.alice && stored?.at == Fixtures.at(3))
        // The change moved the activity marker (every server's route poll reloads) and the routes carry the policy
        // with the deployments it names.
        #expect(try await repository.latestActivityID() > marker)
        let route = try await repository.servingRoutes().first { $0.environment.id == production.id }
        #expect(route?.policy == policy && route?.active?.id == first.id)
        #expect(Set(route?.policyDeployments.map(\.id) ?? []) == [second.id, third.id])

        // A policy written against an active deployment that changed meanwhile is refused, and nothing changes.
        await expectRegistryError(.conflict) {
            try await repository.setTrafficPolicy(
                environmentID: production.id,
                TrafficPolicy(),
                expectedActive: second.id,
                event: Fixtures.event(model.id, .trafficUpdated, environment: "production")
            )
        }
        #expect(try await repository.trafficPolicy(environmentID: production.id)?.policy == policy)

        // Activating by hand clears the splits and stops the activated version shadowing itself.
        try await Self.activate(repository, third, at: 4)
        #expect(try await repository.trafficPolicy(environmentID: production.id) == nil)

        // The default policy removes the row.
        try await repository.setTrafficPolicy(
            environmentID: production.id,
            TrafficPolicy(shadows: [.init(deploymentID: first.id, version: first.version)]),
            expectedActive: third.id,
            event: Fixtures.event(model.id, .trafficUpdated, environment: "production")
        )
        try await repository.setTrafficPolicy(
            environmentID: production.id,
            TrafficPolicy(),
            expectedActive: third.id,
            event: Fixtures.event(model.id, .trafficUpdated, environment: "production")
        )
        #expect(try await repository.trafficPolicy(environmentID: production.id) == nil)
    }

    static func runsRolloutsWithRevisions(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        let baseline = try await Fixtures.verifiedDeployment(repository, production, digest: Fixtures.digest("a"))
        let candidate = try await Fixtures.verifiedDeployment(repository, production, digest: Fixtures.digest("b"))
        try await Self.activate(repository, baseline)
        let rollout = Self.rollout(candidate, baseline: baseline)
        try await repository.startRollout(
            rollout,
            event: Fixtures.event(model.id, .rolloutStarted, at: Fixtures.at(2), environment: "production")
        )
        #expect(try await repository.rollout(id: rollout.id) == rollout)
        #expect(try await repository.liveRollouts().map(\.id) == [rollout.id])
        #expect(try await repository.trafficPolicy(environmentID: production.id)?.policy.splits.first?.weight == 10)

        // One live rollout per environment; no hand-written policy while it runs.
        await expectRegistryError(.conflict) {
            try await repository.startRollout(
                Self.rollout(candidate, baseline: baseline),
                event: Fixtures.event(model.id, .rolloutStarted, environment: "production")
            )
        }
        await expectRegistryError(.conflict) {
            try await repository.setTrafficPolicy(
                environmentID: production.id,
                TrafficPolicy(),
                expectedActive: baseline.id,
                event: Fixtures.event(model.id, .trafficUpdated, environment: "production")
            )
        }

        // Advancing names the revision read: a second server applying the same decision changes nothing.
        var advanced = rollout
        advanced.stepIndex = 1
        advanced.stepStartedAt = Fixtures.at(10)
        advanced.updatedAt = Fixtures.at(10)
        let event = Fixtures.event(model.id, .rolloutAdvanced, at: Fixtures.at(10), environment: "production")
        #expect(try await repository.updateRollout(advanced, expected: 0, activating: false, event: event))
        #expect(try await !repository.updateRollout(advanced, expected: 0, activating: false, event: event))
        #expect(try await repository.rollout(id: rollout.id)?.revision == 1)
        #expect(try await repository.trafficPolicy(environmentID: production.id)?.policy.splits.first?.weight == 50)

        // Completing activates the candidate in the same transaction and leaves no split.
        var completed = advanced
        completed.stepIndex = 2
        completed.state = .completed
        #expect(try await repository.updateRollout(completed, expected: 1, activating: true, event: event))
        #expect(
            try await repository.environment(modelID: model.id, name: "production")?.activeDeploymentID == candidate.id
        )
        #expect(try await repository.trafficPolicy(environmentID: production.id) == nil)
        #expect(try await repository.liveRollouts().isEmpty)
        #expect(
            try await repository.liveVersion(modelID: model.id, environment: "production", at: Fixtures.at(11))
                == candidate.version
        )

        // A manual activation aborts a live rollout and names who did it.
        let another = Self.rollout(baseline, baseline: candidate, at: 20)
        try await repository.startRollout(
            another,
            event: Fixtures.event(model.id, .rolloutStarted, at: Fixtures.at(20), environment: "production")
        )
        try await Self.activate(repository, baseline, at: 21)
        let aborted = try await repository.rollout(id: another.id)
        #expect(aborted?.state == .aborted && aborted?.reason?.contains("activated by alice") == true)
        #expect(
            try await repository.rollouts(environmentID: production.id, limit: 10).map(\.id) == [
                another.id, rollout.id,
            ]
        )
    }
}
