import Foundation
import ServiceLifecycle
import SlipwayInference
import SlipwayRegistry
import SlipwayStorage
import Synchronization
import Testing

@testable import SlipwayRuntime

@Suite(.timeLimit(.minutes(2))) struct ModelHostTests {
    static let row = try! Tensor(shape: [1, 4], floats: [5.1, 3.5, 1.4, 0.2])

    @Test func servesTheActiveDeployment() async throws {
        try await RuntimeWorld.with { world, host in
            let deployment = try await world.deployVerified(classes: #"["setosa", "versicolor", "virginica"]"#)
            try await world.activate(deployment)
            try await host.refresh()
            #expect(host.isLoaded(deployment.id))
            let prepared = try await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
            #expect(prepared.deployment.id == deployment.id)
            #expect(prepared.classes == ["setosa", "versicolor", "virginica"])
            #expect(prepared.environment == "production")
            let outputs = try await host.infer(prepared, inputs: ["X": Self.row], outputs: nil)
            #expect(outputs.map(\.0) == ["label", "probabilities"])
            #expect(outputs[0].1.tensor?.int64s == [0])
            let again = try await host.prepare(owner: "acme", name: "iris", environment: "production", version: 0)
            #expect(again.deployment.id == deployment.id)
        }
    }

    @Test func namesWhatIsMissingOrInactive() async throws {
        try await RuntimeWorld.with { world, host in
            try await host.refresh()
            await #expect {
                try await host.prepare(owner: "acme", name: "nope", environment: "production", version: nil)
            } throws: { error in
                RuntimeError.Code.notFound.matches(error) && "\(error)".contains("acme/nope")
            }
            // The miss is remembered: the second call does not read the database, and says the same.
            await #expect {
                try await host.prepare(owner: "acme", name: "nope", environment: "production", version: nil)
            } throws: { error in "\(error)" == "not_found: model acme/nope does not exist" }
            await #expect {
                try await host.prepare(owner: "acme", name: "iris", environment: "qa", version: nil)
            } throws: { error in RuntimeError.Code.notFound.matches(error) && "\(error)".contains("'qa'") }
            await #expect {
                try await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
            } throws: { error in RuntimeError.Code.notActive.matches(error) }
            await #expect {
                try await host.prepare(owner: "acme", name: "iris", environment: "production", version: 9)
            } throws: { error in RuntimeError.Code.notFound.matches(error) && "\(error)".contains("version 9") }
        }
    }

    @Test func refusesAPinnedUnverifiedVersion() async throws {
        try await RuntimeWorld.with { world, host in
            let active = try await world.deployVerified()
            try await world.activate(active)
            let pending = try await world.deploy()
            try await host.refresh()
            await #expect {
                try await host.prepare(owner: "acme", name: "iris", environment: "production", version: pending.version)
            } throws: { error in
                RuntimeError.Code.notVerified.matches(error) && "\(error)".contains("pending")
            }
            let pinned = try await host.prepare(
                owner: "acme",
                name: "iris",
                environment: "production",
                version: active.version
            )
            #expect(pinned.deployment.id == active.id)
        }
    }

    @Test func loadsOnceUnderConcurrentPrepares() async throws {
        try await RuntimeWorld.with { world, host in
            let deployment = try await world.deployVerified(
                "Tests/Fixtures/zoo/diabetes_random_forest_regressor/model.onnx"
            )
            try await world.activate(deployment)
            let ids = try await withThrowingTaskGroup(of: UUID.self) { group in
                for _ in 0..<32 {
                    group.addTask {
                        try await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
                            .deployment.id
                    }
                }
                return try await group.reduce(into: Set<UUID>()) { $0.insert($1) }
            }
            #expect(ids == [deployment.id])
            #expect(host.state.withLock { $0.loads } == 1)
        }
    }

    @Test func evictsPinnedVersionsByBudgetButNeverTheActiveOne() async throws {
        // iris is 518 bytes: with 1,000 bytes of overhead each session counts 1,518; the budget holds two.
        let configuration = ModelHost.Configuration(memoryBudget: 3_100, threads: 2, sessionOverhead: 1_000)
        try await RuntimeWorld.with(configuration) { world, host in
            let active = try await world.deployVerified()
            try await world.activate(active)
            var pinned: [Deployment] = []
            for _ in 0..<3 { pinned.append(try await world.deployVerified()) }
            try await host.refresh()
            for deployment in pinned {
                _ = try await host.prepare(
                    owner: "acme",
                    name: "iris",
                    environment: "production",
                    version: deployment.version
                )
            }
            #expect(host.isLoaded(active.id))
            #expect(!host.isLoaded(pinned[0].id))
            #expect(!host.isLoaded(pinned[1].id))
            #expect(host.isLoaded(pinned[2].id))
            // Using an evicted version loads it again, evicting the least recently used other one.
            _ = try await host.prepare(
                owner: "acme",
                name: "iris",
                environment: "production",
                version: pinned[0].version
            )
            #expect(host.isLoaded(active.id))
            #expect(host.isLoaded(pinned[0].id))
            #expect(!host.isLoaded(pinned[2].id))
        }
    }

    @Test func shedsLoadWhenTheQueueIsFull() async throws {
        let configuration = ModelHost.Configuration(threads: 1, concurrencyPerDeployment: 1, queueLimit: 1)
        try await RuntimeWorld.with(configuration) { world, host in
            let deployment = try await world.deployVerified()
            try await world.activate(deployment)
            let prepared = try await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
            let gate = try #require(prepared.admission)
            try await gate.acquire(describing: "holder")  // the one slot is busy
            let queued = Task { try await host.infer(prepared, inputs: ["X": Self.row], outputs: nil) }
            while gate.waiting == 0 { try await Task.sleep(for: .milliseconds(1)) }
            await #expect { try await host.infer(prepared, inputs: ["X": Self.row], outputs: nil) } throws: { error in
                guard let error = error as? RuntimeError else { return false }
                return error.code == .overloaded && error.retryAfter == 1 && error.message.contains("acme/iris")
            }
            gate.release()
            #expect(try await queued.value.count == 2)
        }
    }

    @Test func switchesAtOnceOnLocalActivationWhileHeldModelsFinish() async throws {
        try await RuntimeWorld.with { world, host in
            let first = try await world.deployVerified()
            try await world.activate(first)
            try await host.refresh()
            let held = try await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
            let second = try await world.deployVerified(
                "Tests/Fixtures/zoo/iris_logistic_regression_no_zipmap/model.onnx"
            )
            try await host.warm(second)
            #expect(host.isLoaded(second.id))
            let activation = try await world.activate(second)
            try await host.didActivate(activation)
            let now = try await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
            #expect(now.deployment.id == second.id)
            #expect(held.deployment.id == first.id)
            let outputs = try await host.infer(held, inputs: ["X": Self.row], outputs: ["label"])
            #expect(outputs.map(\.0) == ["label"])
            // A reload that read the database before the activation does not switch back.
            host.install(
                [ServingRoute(model: world.model, environment: world.production, active: first)],
                marker: activation.event.id - 1
            )
            let still = try await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
            #expect(still.deployment.id == second.id)
        }
    }

    static let quickPolling = ModelHost.Configuration(threads: 2, refreshInterval: .milliseconds(100))

    @Test func followsAnActivationMadeByAnotherNode() async throws {
        // The poll runs every 100 ms here (250 ms by default) so a loaded test machine keeps well inside the second.
        try await RuntimeWorld.with(Self.quickPolling) { world, host in
            let first = try await world.deployVerified()
            let second = try await world.deployVerified()
            try await world.activate(first)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await host.run() }
                try await Self.eventually { await Self.activeID(host) == first.id }
                // Measured from the moment the other node's switch is committed.
                try await world.activate(second)
                let started = ContinuousClock.now
                try await Self.eventually { await Self.activeID(host) == second.id }
                let elapsed = ContinuousClock.now - started
                // The one-second bound between servers is asserted end to end in ZeroDowntimeTests; here, with every
                // suite running in parallel on two cores, only that the poll picks the switch up at all, promptly.
                #expect(elapsed < .seconds(5), "took \(elapsed)")
                group.cancelAll()
            }
        }
    }

    @Test(.enabled(if: RuntimeWorld.postgresURL != nil, "SLIPWAY_TEST_POSTGRES_URL is not set"))
    func followsAnotherNodeSharingPostgreSQL() async throws {
        let world = try await RuntimeWorld.make(postgresURL: RuntimeWorld.postgresURL)
        let host = world.host(Self.quickPolling)
        let other = try await world.otherNode()
        do {
            let first = try await world.deployVerified()
            let second = try await world.deployVerified()
            try await world.activate(first)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await host.run() }
                try await Self.eventually { await Self.activeID(host) == first.id }
                for (deployment, action) in [
                    (second, ActivityEvent.Action.deploymentActivated), (first, .deploymentRolledBack),
                ] {
                    let started = ContinuousClock.now
                    _ = try await other.activate(
                        environmentID: deployment.environmentID,
                        deploymentID: deployment.id,
                        event: ActivityEvent(
                            modelID: world.model.id,
                            at: Date(),
                            actor: RuntimeWorld.owner,
                            action: action
                        )
                    )
                    try await Self.eventually { await Self.activeID(host) == deployment.id }
                    let elapsed = ContinuousClock.now - started
                    #expect(elapsed < .seconds(5), "took \(elapsed)")
                }
                group.cancelAll()
            }
        } catch {
            Issue.record(error)
        }
        try? await other.shutdown()
        await host.shutdown()
        await world.close()
    }

    static func activeID(_ host: ModelHost) async -> UUID? {
        try? await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil).deployment.id
    }

    /// Polls `condition` every 10 ms for up to 30 seconds: long enough for a loaded CI machine running
    /// every suite at once. Tests that promise a delay measure it themselves.
    static func eventually(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition not met within 30 seconds")
    }
}
