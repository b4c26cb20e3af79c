import Foundation
import Logging
import ServiceLifecycle
import SlipwayExperiments
import SlipwayFeedback
import SlipwayRegistry

/// One guardrail judged now.
public struct GuardrailEvaluation: Sendable, Hashable {
    /// The guardrail, canonical (`error_rate<0.01`).
    public var guardrail: String
    /// The verdict.
    public var verdict: GuardrailVerdict
}

/// Where a live rollout stands now: its arms' measurements since the step began and each guardrail's verdict.
public struct RolloutEvaluation: Sendable {
    /// The candidate's requests, errors and latencies since the current step began.
    public var candidate: ArmMeasurements
    /// The baseline's, over the same time.
    public var baseline: ArmMeasurements
    /// Each guardrail's verdict.
    public var guardrails: [GuardrailEvaluation]
    /// When the current step's interval ends.
    public var stepEndsAt: Date

    /// The first breached guardrail's reason, if any.
    public var breach: String? {
        for evaluation in self.guardrails {
            if case .breached(_, _, let reason) = evaluation.verdict { return reason }
        }
        return nil
    }

    /// Why the rollout cannot advance yet (undetermined guardrails), if it cannot.
    public var waiting: String? {
        let reasons = self.guardrails.compactMap { evaluation -> String? in
            if case .undetermined(let reason) = evaluation.verdict { return reason }
            return nil
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}

/// Measures a rollout's candidate and baseline from the request records (`prediction_outcomes`) and the feedback
/// joined with them, and judges its guardrails.
public struct RolloutEvaluator: Sendable {
    /// The registry (models, for the key metric's definition).
    public let registry: Registry
    /// Request records and feedback.
    public let feedback: any FeedbackRepository
    /// Requests the candidate (and, for baseline-relative guardrails, the baseline) needs in a step before a
    /// guardrail is judged.
    public let minimumRequests: Int

    /// Creates an evaluator.
    public init(registry: Registry, feedback: any FeedbackRepository, minimumRequests: Int = 20) {
        self.registry = registry
        self.feedback = feedback
        self.minimumRequests = max(1, minimumRequests)
    }

    /// Measures both arms since the rollout's current step began and judges every guardrail.
    public func evaluate(_ rollout: Rollout, at now: Date) async throws -> RolloutEvaluation {
        let guardrails = (try? Guardrail.parseList(rollout.guardrails)) ?? []
        let needsKeyMetric = guardrails.contains { $0.metric == .keyMetric }
        let model = needsKeyMetric ? try await self.registry.repository.model(id: rollout.modelID) : nil
        let from = rollout.stepStartedAt
        let end = now.addingTimeInterval(0.001)
        let candidate = try await self.measure(rollout, version: rollout.candidateVersion, from: from, to: end, model)
        let baseline = try await self.measure(rollout, version: rollout.baselineVersion, from: from, to: end, model)
        return RolloutEvaluation(
            candidate: candidate,
            baseline: baseline,
            guardrails: guardrails.map {
                GuardrailEvaluation(
                    guardrail: $0.description,
                    verdict: $0.evaluate(
                        candidate: candidate,
                        baseline: baseline,
                        minimumRequests: self.minimumRequests
                    )
                )
            },
            stepEndsAt: from.addingTimeInterval(rollout.interval)
        )
    }

    /// One version's measurements in `[from, to)`.
    func measure(
        _ rollout: Rollout,
        version: Int,
        from: Date,
        to: Date,
        _ model: Model?
    ) async throws
        -> ArmMeasurements
    {
        let window = try await self.feedback.versionWindow(
            modelID: rollout.modelID,
            environment: rollout.environment,
            version: version,
            from: from,
            to: to
        )
        let percentiles = window.latencyPercentiles(0.50, 0.95, 0.99).map { $0.map { $0 * 1_000 } }
        var keyMetric: Double?
        if let definition = model?.keyMetric {
            let joined = try await self.feedback.joinedFeedback(
                modelID: rollout.modelID,
                environment: rollout.environment,
                from: from,
                to: to,
                version: version
            )
            keyMetric = FeedbackMetrics.compute(joined.map(FeedbackMetrics.JoinedRow.init)).value(
                named: definition.name
            )
        }
        return ArmMeasurements(
            requests: window.requests,
            errors: window.errors,
            p50Ms: percentiles[0],
            p95Ms: percentiles[1],
            p99Ms: percentiles[2],
            keyMetric: keyMetric
        )
    }
}

/// The background controller of progressive rollouts: every ``checkInterval`` it judges each running rollout's
/// guardrails, rolls the candidate back as soon as one is breached, and advances a step when the step's interval
/// has passed with every guardrail holding.
///
/// Its state is the database's: every server runs a controller, each decision names the rollout revision it read,
/// so exactly one server applies it; a restarted server resumes every rollout where it was.
public struct RolloutController: Service, CustomStringConvertible {
    /// The service's name, as the service group logs it (without it, the group's start described every stored
    /// property by reflection: about a tenth of a start's CPU time).
    public var description: String { "RolloutController" }

    /// Measures and judges.
    public let evaluator: RolloutEvaluator
    /// How often running rollouts are checked.
    public let checkInterval: Duration
    /// Told after each decision so this server's routes follow at once.
    let trafficChanged: @Sendable () async -> Void
    let logger: Logger

    /// Creates a controller.
    public init(
        evaluator: RolloutEvaluator,
        checkInterval: Duration = .seconds(1),
        logger: Logger = Logger(label: "slipway.rollouts"),
        trafficChanged: @escaping @Sendable () async -> Void = {}
    ) {
        self.evaluator = evaluator
        self.checkInterval = checkInterval
        self.logger = logger
        self.trafficChanged = trafficChanged
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                do {
                    try await self.check()
                    failing = false
                } catch is CancellationError {
                    return
                } catch {
                    if !failing { self.logger.info("rollout check failed", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                try? await Task.sleep(for: self.checkInterval)
            }
        }
    }

    /// Judges every running rollout once and applies what follows.
    public func check() async throws {
        let registry = self.evaluator.registry
        for rollout in try await registry.repository.liveRollouts() where rollout.state == .running {
            let now = registry.now()
            let evaluation = try await self.evaluator.evaluate(rollout, at: now)
            var next = rollout
            next.updatedAt = now
            let action: ActivityEvent.Action
            let detail: String
            if let breach = evaluation.breach {
                next.state = .rolledBack
                next.reason = breach
                action = .rolloutRolledBack
                detail = "rolled back at \(rollout.weight)%: \(breach)"
            } else if now >= evaluation.stepEndsAt, evaluation.waiting == nil {
                let held = evaluation.guardrails.map { $0.guardrail }.joined(separator: ", ")
                // The last step (100%) is the candidate taking all traffic: it becomes the active version.
                if rollout.stepIndex + 1 >= rollout.steps.count || rollout.steps[rollout.stepIndex + 1] >= 100 {
                    next.state = .completed
                    next.stepIndex = rollout.steps.count - 1
                    next.reason = nil
                    action = .rolloutCompleted
                    detail =
                        "version \(rollout.candidateVersion) takes all traffic" + (held.isEmpty ? "" : "; held \(held)")
                } else {
                    next.stepIndex += 1
                    next.stepStartedAt = now
                    next.reason = nil
                    action = .rolloutAdvanced
                    detail = "\(rollout.weight)% → \(next.weight)%" + (held.isEmpty ? "" : "; held \(held)")
                }
            } else {
                continue
            }
            if try await registry.applyRolloutDecision(next, from: rollout, action: action, detail: detail) {
                self.logger.info(
                    "rollout \(action == .rolloutRolledBack ? "rolled back" : action == .rolloutCompleted ? "completed" : "advanced")",
                    metadata: [
                        "rollout.id": "\(rollout.id)", "environment": "\(rollout.environment)",
                        "model.version": "\(rollout.candidateVersion)", "detail": "\(detail)",
                    ]
                )
                await self.trafficChanged()
            }
        }
    }
}
