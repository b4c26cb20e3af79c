import Foundation
import SlipwayExperiments
import SlipwayRegistry

/// `GET …/traffic`: the arms (the active version first), shadows and the live rollout.
struct TrafficDTO: Encodable {
    struct Arm: Encodable {
        var version: Int
        var weight: Int
        var active: Bool
    }

    struct Shadow: Encodable {
        var version: Int
        var percent: Int
    }

    struct ActorDTO: Encodable {
        var kind: String
        var name: String
    }

    var environment: String
    var activeVersion: Int?
    var arms: [Arm]
    var shadows: [Shadow]
    var stickyFeature: String?
    var rollout: RolloutDTO?
    var updatedBy: ActorDTO?
    var updatedAt: Date?

    enum CodingKeys: String, CodingKey {
        case environment, arms, shadows, rollout
        case activeVersion = "active_version"
        case stickyFeature = "sticky_feature"
        case updatedBy = "updated_by"
        case updatedAt = "updated_at"
    }

    init(_ view: TrafficView) {
        self.environment = view.environment.name
        self.activeVersion = view.activeVersion
        var arms: [Arm] = []
        if let active = view.activeVersion {
            arms.append(Arm(version: active, weight: view.policy.activeWeight, active: true))
        }
        arms += view.policy.splits.map { Arm(version: $0.version, weight: $0.weight, active: false) }
        self.arms = arms
        self.shadows = view.policy.shadows.map { Shadow(version: $0.version, percent: $0.percent) }
        self.stickyFeature = view.policy.stickyFeature
        self.rollout = view.rollout.map { RolloutDTO($0, evaluation: nil) }
        self.updatedBy = view.updatedBy.map { ActorDTO(kind: $0.kind.rawValue, name: $0.name) }
        self.updatedAt = view.updatedAt
    }
}

/// A rollout, with its guardrails judged now when it is live and was asked for alone.
struct RolloutDTO: Encodable {
    struct Measurements: Encodable {
        var requests: Int
        var errors: Int
        var errorRate: Double?
        var p50Ms: Double?
        var p95Ms: Double?
        var p99Ms: Double?
        var keyMetric: Double?

        enum CodingKeys: String, CodingKey {
            case requests, errors
            case errorRate = "error_rate"
            case p50Ms = "p50_ms"
            case p95Ms = "p95_ms"
            case p99Ms = "p99_ms"
            case keyMetric = "key_metric"
        }

        init(_ arm: ArmMeasurements) {
            self.requests = arm.requests
            self.errors = arm.errors
            self.errorRate = arm.requests > 0 ? Double(arm.errors) / Double(arm.requests) : nil
            self.p50Ms = arm.p50Ms
            self.p95Ms = arm.p95Ms
            self.p99Ms = arm.p99Ms
            self.keyMetric = arm.keyMetric
        }
    }

    struct Verdict: Encodable {
        var guardrail: String
        var verdict: String
        var observed: Double?
        var limit: Double?
        var reason: String?
    }

    struct Evaluation: Encodable {
        var candidate: Measurements
        var baseline: Measurements
        var guardrails: [Verdict]
        var stepEndsAt: Date
        var waiting: String?

        enum CodingKeys: String, CodingKey {
            case candidate, baseline, guardrails, waiting
            case stepEndsAt = "step_ends_at"
        }
    }

    var id: UUID
    var environment: String
    var candidateVersion: Int
    var baselineVersion: Int
    var steps: [Int]
    var step: Int
    var weight: Int
    var intervalSeconds: Double
    var guardrails: String
    var state: String
    var reason: String?
    var stepStartedAt: Date
    var startedBy: TrafficDTO.ActorDTO
    var createdAt: Date
    var updatedAt: Date
    var evaluation: Evaluation?

    enum CodingKeys: String, CodingKey {
        case id, environment, steps, step, weight, guardrails, state, reason, evaluation
        case candidateVersion = "candidate_version"
        case baselineVersion = "baseline_version"
        case intervalSeconds = "interval_seconds"
        case stepStartedAt = "step_started_at"
        case startedBy = "started_by"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ rollout: Rollout, evaluation: RolloutEvaluation?) {
        self.id = rollout.id
        self.environment = rollout.environment
        self.candidateVersion = rollout.candidateVersion
        self.baselineVersion = rollout.baselineVersion
        self.steps = rollout.steps
        self.step = rollout.stepIndex + 1
        self.weight = rollout.state == .rolledBack || rollout.state == .aborted ? 0 : rollout.weight
        self.intervalSeconds = rollout.interval
        self.guardrails = rollout.guardrails
        self.state = rollout.state.rawValue
        self.reason = rollout.reason
        self.stepStartedAt = rollout.stepStartedAt
        self.startedBy = .init(kind: rollout.startedBy.kind.rawValue, name: rollout.startedBy.name)
        self.createdAt = rollout.createdAt
        self.updatedAt = rollout.updatedAt
        self.evaluation = evaluation.map { evaluation in
            Evaluation(
                candidate: Measurements(evaluation.candidate),
                baseline: Measurements(evaluation.baseline),
                guardrails: evaluation.guardrails.map { item in
                    switch item.verdict {
                    case .holds(let observed, let limit):
                        Verdict(guardrail: item.guardrail, verdict: "holds", observed: observed, limit: limit)
                    case .breached(let observed, let limit, let reason):
                        Verdict(
                            guardrail: item.guardrail,
                            verdict: "breached",
                            observed: observed,
                            limit: limit,
                            reason: reason
                        )
                    case .undetermined(let reason):
                        Verdict(guardrail: item.guardrail, verdict: "undetermined", reason: reason)
                    }
                },
                stepEndsAt: evaluation.stepEndsAt,
                waiting: evaluation.waiting
            )
        }
    }
}
