import Foundation
import Logging
import SlipwayRegistry
import SlipwayStorage
import Synchronization
import Testing

@testable import SlipwayTraffic

/// The rollout controller's decisions against a real SQLite repository, with request records and feedback written
/// straight into it and the registry's clock moved by hand.
@Suite struct RolloutControllerTests {
    /// The time the registry reads, moved by the test.
    final class TestClock: Sendable {
        let date: Mutex<Date>
        init(_ date: Date) { self.date = Mutex(date) }
        var now: Date { self.date.withLock { $0 } }
        func set(_ date: Date) { self.date.withLock { $0 = date } }
    }

    /// A repository with one model (key metric: accuracy), a baseline active in production and a candidate, both
    /// verified, and a controller whose clock the test moves.
    final class World: Sendable {
        let folder: URL
        let repository: SQLRegistryRepository
        let registry: Registry
        let controller: RolloutController
        let model: Model
        let baseline: Deployment
        let candidate: Deployment
        let clock: TestClock
        static let start = Date(timeIntervalSince1970: 1_800_000_000)

        init(
            folder: URL,
            repository: SQLRegistryRepository,
            registry: Registry,
            controller: RolloutController,
            model: Model,
            baseline: Deployment,
            candidate: Deployment,
            clock: TestClock
        ) {
            self.folder = folder
            self.repository = repository
            self.registry = registry
            self.controller = controller
            self.model = model
            self.baseline = baseline
            self.candidate = candidate
            self.clock = clock
        }

        static func make() async throws -> World {
            let folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("slipway-rollouts-\(UUID().uuidString.lowercased())", isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let repository = try await SQLRegistryRepository.makeSQLite(
                path: folder.appendingPathComponent("db.sqlite").path,
                logger: logger
            )
            try await repository.migrate()
            let clock = TestClock(Self.start)
            let registry = Registry(
                repository: repository,
                artifacts: try FileArtifactStore(root: folder.appendingPathComponent("artifacts")),
                logger: logger,
                clock: { clock.now }
            )
            let owner = User(username: "acme", displayName: "Acme", email: nil, isAdmin: true, createdAt: Self.start)
            try await repository.createUser(owner)
            let model = Model(
                owner: "acme",
                name: "churn",
                keyMetric: KeyMetric(name: "accuracy", direction: .maximize),
                createdAt: Self.start
            )
            let environments = Environment.defaultNames.map {
                Environment(modelID: model.id, name: $0, createdAt: Self.start)
            }
            let event = ActivityEvent(modelID: model.id, at: Self.start, actor: .system, action: .modelCreated)
            try await repository.createModel(model, environments: environments, event: event)
            var deployments: [Deployment] = []
            for digest in ["a", "b"] {
                let created = try await repository.createDeployment(
                    Deployment(
                        modelID: model.id,
                        environmentID: environments[0].id,
                        environmentName: "production",
                        artifactDigest: String(repeating: digest, count: 64),
                        artifactSize: 1,
                        summary: digest,
                        createdBy: .system,
                        createdAt: Self.start
                    ),
                    event: event
                )
                let (verified, _) = try await repository.setDeploymentStatus(
                    id: created.id,
                    status: .verified,
                    reason: nil,
                    verification: nil,
                    at: Self.start,
                    event: event
                )
                deployments.append(verified)
            }
            _ = try await repository.activate(
                environmentID: environments[0].id,
                deploymentID: deployments[0].id,
                event: ActivityEvent(modelID: model.id, at: Self.start, actor: .system, action: .deploymentActivated)
            )
            let controller = RolloutController(
                evaluator: RolloutEvaluator(registry: registry, feedback: repository, minimumRequests: 20),
                logger: logger
            )
            return World(
                folder: folder,
                repository: repository,
                registry: registry,
                controller: controller,
                model: model,
                baseline: deployments[0],
                candidate: deployments[1],
                clock: clock
            )
        }

        func close() async {
            try? await self.repository.shutdown()
            try? FileManager.default.removeItem(at: self.folder)
        }

        /// Moves the clock to `seconds` after the start.
        func at(_ seconds: Double) { self.clock.set(Self.start.addingTimeInterval(seconds)) }

        func start(guardrails: String, steps: [Int] = [10, 50, 100], interval: Double = 60) async throws -> Rollout {
            try await self.registry.startRollout(
                owner: "acme",
                name: "churn",
                environment: "production",
                RolloutInput(version: self.candidate.version, steps: steps, interval: interval, guardrails: guardrails),
                by: .user(User(username: "acme", displayName: "Acme", email: nil, isAdmin: true, createdAt: Self.start))
            )
        }

        /// Records `count` requests answered by `deployment` between `from` and `from + 1` s: `errors` of them 500s,
        /// the rest 200s taking `latency` seconds and predicting "yes", with feedback "yes" on `correct` of them.
        func traffic(
            _ deployment: Deployment,
            count: Int,
            errors: Int = 0,
            latency: Double = 0.005,
            correct: Int? = nil,
            from: Double
        ) async throws {
            var outcomes: [PredictionOutcome] = []
            for index in 0..<count {
                let failed = index < errors
                outcomes.append(
                    PredictionOutcome(
                        requestID: "\(deployment.version)-\(from)-\(index)",
                        modelID: self.model.id,
                        environment: "production",
                        version: deployment.version,
                        at: Self.start.addingTimeInterval(from + Double(index) / Double(count)),
                        status: failed ? 500 : 200,
                        latency: latency,
                        classes: ["no", "yes"],
                        predictions: failed ? nil : [OutcomePrediction(label: "yes", probabilities: [0.2, 0.8])]
                    )
                )
            }
            try await self.repository.insertOutcomes(outcomes)
            if let correct {
                let answered = outcomes.filter { $0.status == 200 }
                try await self.repository.insertFeedback(
                    answered.enumerated().map { index, outcome in
                        FeedbackEntry(
                            requestID: outcome.requestID,
                            row: 0,
                            modelID: self.model.id,
                            at: outcome.at,
                            label: index < correct ? "yes" : "no"
                        )
                    }
                )
            }
        }

        func current() async throws -> Rollout {
            try #require(
                try await self.repository.rollouts(environmentID: self.candidate.environmentID, limit: 1).first
            )
        }

        func splitWeight() async throws -> Int? {
            try await self.repository.trafficPolicy(environmentID: self.candidate.environmentID)?.policy.splits.first?
                .weight
        }
    }

    static func withWorld(_ body: (World) async throws -> Void) async throws {
        let world = try await World.make()
        do {
            try await body(world)
        } catch {
            await world.close()
            throw error
        }
        await world.close()
    }

    @Test func advancesStepByStepWhileEveryGuardrailHoldsThenActivates() async throws {
        try await Self.withWorld { world in
            world.at(0)
            _ = try await world.start(guardrails: "error_rate<5%,p99_ms<50,key_metric>=baseline-0.05")
            #expect(try await world.splitWeight() == 10)
            try await world.traffic(world.candidate, count: 30, correct: 27, from: 1)
            try await world.traffic(world.baseline, count: 60, correct: 54, from: 1)
            // Holding, but the step's interval has not passed.
            world.at(30)
            try await world.controller.check()
            #expect(try await world.current().stepIndex == 0)
            world.at(61)
            try await world.controller.check()
            let advanced = try await world.current()
            #expect(
                advanced.stepIndex == 1 && advanced.state == .running
                    && advanced.stepStartedAt == World.start.addingTimeInterval(61)
            )
            #expect(try await world.splitWeight() == 50)
            // The next step is judged on its own window: without new requests it waits.
            world.at(125)
            try await world.controller.check()
            let evaluation = try await world.controller.evaluator.evaluate(
                try await world.current(),
                at: world.registry.now()
            )
            #expect(try await world.current().stepIndex == 1)
            #expect(evaluation.waiting?.contains("0 of the 20 requests") == true, "\(evaluation.waiting ?? "")")
            try await world.traffic(world.candidate, count: 30, correct: 28, from: 126)
            try await world.traffic(world.baseline, count: 30, correct: 27, from: 126)
            world.at(130)
            try await world.controller.check()
            let completed = try await world.current()
            #expect(completed.state == .completed && completed.weight == 100)
            let environment = try await world.repository.environment(modelID: world.model.id, name: "production")
            #expect(environment?.activeDeploymentID == world.candidate.id)
            #expect(try await world.splitWeight() == nil)
        }
    }

    @Test func rollsBackAsSoonAsTheErrorRateIsBreached() async throws {
        try await Self.withWorld { world in
            world.at(0)
            _ = try await world.start(guardrails: "error_rate<5%")
            try await world.traffic(world.candidate, count: 30, errors: 6, from: 1)
            try await world.traffic(world.baseline, count: 60, from: 1)
            // Long before the interval ends.
            world.at(5)
            try await world.controller.check()
            let rolledBack = try await world.current()
            #expect(rolledBack.state == .rolledBack)
            #expect(rolledBack.reason?.contains("error_rate 20%") == true, "\(rolledBack.reason ?? "")")
            #expect(try await world.splitWeight() == nil)
            let environment = try await world.repository.environment(modelID: world.model.id, name: "production")
            #expect(environment?.activeDeploymentID == world.baseline.id)
            let events = try await world.repository.listActivity(
                modelID: world.model.id,
                filter: ActivityFilter(actions: [.rolloutRolledBack]),
                page: PageRequest(page: 1, size: 10)
            )
            #expect(events.items.first?.detail.contains("error_rate") == true)
        }
    }

    @Test func rollsBackWhenTheKeyMetricFallsBelowTheBaseline() async throws {
        try await Self.withWorld { world in
            world.at(0)
            _ = try await world.start(guardrails: "key_metric>=baseline-0.05")
            try await world.traffic(world.candidate, count: 40, correct: 24, from: 1)  // accuracy 0.6
            try await world.traffic(world.baseline, count: 40, correct: 36, from: 1)  // accuracy 0.9
            world.at(10)
            try await world.controller.check()
            let rolledBack = try await world.current()
            #expect(rolledBack.state == .rolledBack)
            #expect(rolledBack.reason?.contains("key_metric") == true, "\(rolledBack.reason ?? "")")
        }
    }

    @Test func tooFewRequestsNeitherAdvanceNorRollBack() async throws {
        try await Self.withWorld { world in
            world.at(0)
            _ = try await world.start(guardrails: "error_rate<5%")
            try await world.traffic(world.candidate, count: 5, errors: 5, from: 1)
            world.at(120)
            try await world.controller.check()
            let waiting = try await world.current()
            #expect(waiting.state == .running && waiting.stepIndex == 0)
        }
    }

    @Test func pausedRolloutsAreNotJudgedAndResumeRestartsTheStep() async throws {
        try await Self.withWorld { world in
            world.at(0)
            _ = try await world.start(guardrails: "error_rate<5%")
            let admin = Principal.user(
                User(username: "acme", displayName: "Acme", email: nil, isAdmin: true, createdAt: World.start)
            )
            _ = try await world.registry.commandRollout(
                owner: "acme",
                name: "churn",
                environment: "production",
                .pause,
                by: admin
            )
            try await world.traffic(world.candidate, count: 30, errors: 30, from: 1)
            world.at(10)
            try await world.controller.check()
            #expect(try await world.current().state == .paused)
            world.at(200)
            let resumed = try await world.registry.commandRollout(
                owner: "acme",
                name: "churn",
                environment: "production",
                .resume,
                by: admin
            )
            #expect(resumed.state == .running && resumed.stepStartedAt == World.start.addingTimeInterval(200))
            // The failures happened before the step restarted: they no longer count.
            world.at(205)
            try await world.controller.check()
            #expect(try await world.current().state == .running)
        }
    }
}
