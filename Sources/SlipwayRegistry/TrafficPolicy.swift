import Foundation

/// How an environment's unpinned prediction traffic is shared: the active deployment keeps what the splits leave,
/// each split sends a share to another verified deployment (an A/B arm or a canary), and shadows receive an
/// asynchronous copy of requests whose answers are recorded and discarded.
///
/// Stored per environment (migration 8) and changed atomically with an activity event. Activating a version by hand
/// clears the splits (the activated version takes all traffic) and drops it from the shadows.
///
/// ```swift
/// let policy = TrafficPolicy(splits: [.init(deploymentID: canary.id, version: 4, weight: 10)])
/// policy.activeWeight  // 90
/// ```
public struct TrafficPolicy: Hashable, Sendable, Codable {
    /// A share of the traffic sent to a deployment other than the active one.
    public struct Split: Hashable, Sendable, Codable {
        /// The deployment (verified, in the same environment).
        public var deploymentID: UUID
        /// Its version, for display.
        public var version: Int
        /// Percent of the traffic, 1 to 99.
        public var weight: Int

        /// Creates a split.
        public init(deploymentID: UUID, version: Int, weight: Int) {
            self.deploymentID = deploymentID
            self.version = version
            self.weight = weight
        }

        enum CodingKeys: String, CodingKey {
            case deploymentID = "deployment_id"
            case version, weight
        }
    }

    /// A deployment that receives a copy of the traffic.
    public struct Shadow: Hashable, Sendable, Codable {
        /// The deployment (verified, in the same environment, neither active nor a split).
        public var deploymentID: UUID
        /// Its version, for display.
        public var version: Int
        /// Percent of the requests copied to it, 1 to 100.
        public var percent: Int

        /// Creates a shadow.
        public init(deploymentID: UUID, version: Int, percent: Int = 100) {
            self.deploymentID = deploymentID
            self.version = version
            self.percent = percent
        }

        enum CodingKeys: String, CodingKey {
            case deploymentID = "deployment_id"
            case version, percent
        }
    }

    /// Shares sent to deployments other than the active one.
    public var splits: [Split]
    /// Deployments receiving copies.
    public var shadows: [Shadow]
    /// The feature whose value makes assignment sticky when a request has no `X-Slipway-Route-Key` header.
    public var stickyFeature: String?

    /// Creates a policy; the default is all traffic on the active deployment.
    public init(splits: [Split] = [], shadows: [Shadow] = [], stickyFeature: String? = nil) {
        self.splits = splits
        self.shadows = shadows
        self.stickyFeature = stickyFeature
    }

    /// The active deployment's percent: what the splits leave.
    public var activeWeight: Int { 100 - self.splits.reduce(0) { $0 + $1.weight } }

    /// Whether the policy sends everything to the active deployment and copies nothing.
    public var isDefault: Bool { self.splits.isEmpty && self.shadows.isEmpty }

    /// Every deployment the policy names besides the active one.
    public var deploymentIDs: [UUID] { self.splits.map(\.deploymentID) + self.shadows.map(\.deploymentID) }

    /// The policy after `deploymentID` was activated by hand: no splits, and not a shadow of itself.
    public func afterActivating(_ deploymentID: UUID) -> TrafficPolicy {
        TrafficPolicy(
            splits: [],
            shadows: self.shadows.filter { $0.deploymentID != deploymentID },
            stickyFeature: self.stickyFeature
        )
    }

    enum CodingKeys: String, CodingKey {
        case splits, shadows
        case stickyFeature = "sticky_feature"
    }

    /// A one-line description for the activity log: `v3 90%, v4 10%; shadow v5 100%`.
    public func summary(activeVersion: Int?) -> String {
        var parts: [String] = []
        if let activeVersion { parts.append("v\(activeVersion) \(self.activeWeight)%") }
        parts += self.splits.map { "v\($0.version) \($0.weight)%" }
        var text = parts.joined(separator: ", ")
        if !self.shadows.isEmpty {
            text += "; shadow " + self.shadows.map { "v\($0.version) \($0.percent)%" }.joined(separator: ", ")
        }
        if let stickyFeature { text += "; sticky on feature '\(stickyFeature)'" }
        return text
    }
}

/// A progressive rollout: a candidate deployment's share of an environment's traffic grows step by step while its
/// guardrails hold against the baseline (the version active when it started), and falls back to zero by itself
/// when one fails.
public struct Rollout: Hashable, Sendable, Identifiable {
    /// Where a rollout is.
    public enum State: String, Hashable, Sendable, Codable, CaseIterable {
        /// Advancing: the controller evaluates the guardrails.
        case running
        /// Held at its current step by a user; the guardrails are not evaluated.
        case paused
        /// Reached 100%: the candidate is the active deployment.
        case completed
        /// A guardrail failed: the candidate gets no traffic any more.
        case rolledBack = "rolled_back"
        /// Stopped by a user (or by a version activated by hand): the candidate gets no traffic any more.
        case aborted

        /// Whether the rollout still controls the environment's traffic.
        public var isLive: Bool { self == .running || self == .paused }
    }

    /// Stable identifier.
    public var id: UUID
    /// The model.
    public var modelID: UUID
    /// The environment.
    public var environmentID: UUID
    /// The environment's name.
    public var environment: String
    /// The deployment rolled out.
    public var candidateID: UUID
    /// Its version.
    public var candidateVersion: Int
    /// The deployment active when the rollout started.
    public var baselineID: UUID
    /// Its version.
    public var baselineVersion: Int
    /// The candidate's percent at each step, increasing, the last one 100.
    public var steps: [Int]
    /// The current step (an index into ``steps``).
    public var stepIndex: Int
    /// How long each step lasts before the next one, in seconds.
    public var interval: Double
    /// The guardrails as given (`error_rate<1%,p99_ms<20`).
    public var guardrails: String
    /// Where it is.
    public var state: State
    /// Why it ended or what it waits for (a failed guardrail, "aborted by …").
    public var reason: String?
    /// When the current step began (reset on resume).
    public var stepStartedAt: Date
    /// Who started it.
    public var startedBy: ActivityActor
    /// When it started.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// Bumped on every change: updates name the revision they read, so two servers never both advance one step.
    public var revision: Int64

    /// Creates a rollout value.
    public init(
        id: UUID = UUID(),
        modelID: UUID,
        environmentID: UUID,
        environment: String,
        candidateID: UUID,
        candidateVersion: Int,
        baselineID: UUID,
        baselineVersion: Int,
        steps: [Int],
        stepIndex: Int = 0,
        interval: Double,
        guardrails: String,
        state: State = .running,
        reason: String? = nil,
        stepStartedAt: Date,
        startedBy: ActivityActor,
        createdAt: Date,
        updatedAt: Date,
        revision: Int64 = 0
    ) {
        self.id = id
        self.modelID = modelID
        self.environmentID = environmentID
        self.environment = environment
        self.candidateID = candidateID
        self.candidateVersion = candidateVersion
        self.baselineID = baselineID
        self.baselineVersion = baselineVersion
        self.steps = steps
        self.stepIndex = stepIndex
        self.interval = interval
        self.guardrails = guardrails
        self.state = state
        self.reason = reason
        self.stepStartedAt = stepStartedAt
        self.startedBy = startedBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.revision = revision
    }

    /// The candidate's current percent.
    public var weight: Int { self.steps[min(max(0, self.stepIndex), self.steps.count - 1)] }

    /// The traffic policy of the current step: the candidate as a split, or (at 100%) nothing left to split.
    public func policy(keeping existing: TrafficPolicy?) -> TrafficPolicy {
        var policy = existing ?? TrafficPolicy()
        policy.splits =
            self.weight >= 100
            ? [] : [.init(deploymentID: self.candidateID, version: self.candidateVersion, weight: self.weight)]
        policy.shadows.removeAll { $0.deploymentID == self.candidateID }
        return policy
    }
}

/// An environment's traffic as the API shows it: the active deployment and its policy.
public struct TrafficView: Hashable, Sendable {
    /// The environment.
    public var environment: Environment
    /// The active deployment's version, if any.
    public var activeVersion: Int?
    /// The policy (the default one when none was set).
    public var policy: TrafficPolicy
    /// The live rollout controlling the policy, if any.
    public var rollout: Rollout?
    /// Who changed the policy last, and when (`nil` when it was never set).
    public var updatedBy: ActivityActor?
    public var updatedAt: Date?

    /// Creates a view.
    public init(
        environment: Environment,
        activeVersion: Int?,
        policy: TrafficPolicy,
        rollout: Rollout?,
        updatedBy: ActivityActor?,
        updatedAt: Date?
    ) {
        self.environment = environment
        self.activeVersion = activeVersion
        self.policy = policy
        self.rollout = rollout
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }
}

/// Where traffic policies and rollouts live (the SQL repository; migration 8).
///
/// Every change that moves traffic writes an activity event in the same transaction, so every server's route poll
/// picks it up.
public protocol TrafficRepository: Sendable {
    /// An environment's stored policy with who set it and when, `nil` when none was set.
    func trafficPolicy(environmentID: UUID) async throws -> (policy: TrafficPolicy, by: ActivityActor, at: Date)?
    /// Replaces an environment's policy (a default policy removes the row) and records `event`, unless the active
    /// deployment is no longer `expectedActive` or a live rollout controls the environment (both `.conflict`).
    func setTrafficPolicy(
        environmentID: UUID,
        _ policy: TrafficPolicy,
        expectedActive: UUID?,
        event: ActivityEvent
    ) async throws
    /// Records a new rollout, sets its first step's policy and records `event`; `.conflict` when another live
    /// rollout controls the environment or the active deployment is no longer the rollout's baseline.
    func startRollout(_ rollout: Rollout, event: ActivityEvent) async throws
    /// Stores `rollout` (its revision bumped) if the stored one still has `expected` revision and is live; also
    /// sets the policy of its step, activates its candidate when `activating` is set, and records `event`.
    ///
    /// - Returns: whether the change was made (false: someone else changed the rollout first).
    func updateRollout(
        _ rollout: Rollout,
        expected revision: Int64,
        activating: Bool,
        event: ActivityEvent
    )
        async throws -> Bool
    /// A rollout by id.
    func rollout(id: UUID) async throws -> Rollout?
    /// An environment's rollouts, newest first.
    func rollouts(environmentID: UUID, limit: Int) async throws -> [Rollout]
    /// Every running or paused rollout.
    func liveRollouts() async throws -> [Rollout]
}
