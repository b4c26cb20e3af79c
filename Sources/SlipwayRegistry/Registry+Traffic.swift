import Foundation
import Logging

/// A traffic policy as a caller writes it: versions, not deployment ids.
public struct TrafficPolicyInput: Hashable, Sendable, Codable {
    /// An arm: a version and its percent.
    public struct Arm: Hashable, Sendable, Codable {
        public var version: Int
        public var weight: Int

        /// Creates an arm.
        public init(version: Int, weight: Int) {
            self.version = version
            self.weight = weight
        }
    }

    /// A shadow: a version and the percent of requests copied to it.
    public struct Shadow: Hashable, Sendable, Codable {
        public var version: Int
        public var percent: Int?

        /// Creates a shadow (100% by default).
        public init(version: Int, percent: Int? = nil) {
            self.version = version
            self.percent = percent
        }
    }

    /// The arms, the active version among them, weights summing to 100. Empty: all traffic to the active version.
    public var arms: [Arm]
    /// The shadows.
    public var shadows: [Shadow]
    /// The feature whose value keeps a caller on one arm when the request has no `X-Slipway-Route-Key` header.
    public var stickyFeature: String?

    /// Creates an input.
    public init(arms: [Arm] = [], shadows: [Shadow] = [], stickyFeature: String? = nil) {
        self.arms = arms
        self.shadows = shadows
        self.stickyFeature = stickyFeature
    }

    enum CodingKeys: String, CodingKey {
        case arms, shadows
        case stickyFeature = "sticky_feature"
    }

    /// Decodes an input; absent `arms` and `shadows` are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.arms = try container.decodeIfPresent([Arm].self, forKey: .arms) ?? []
        self.shadows = try container.decodeIfPresent([Shadow].self, forKey: .shadows) ?? []
        self.stickyFeature = try container.decodeIfPresent(String.self, forKey: .stickyFeature)
    }
}

/// What starts a rollout.
public struct RolloutInput: Hashable, Sendable {
    /// The candidate version (verified, not the active one).
    public var version: Int
    /// The candidate's percent at each step: increasing, 1 to 100, ending at 100. Default 5, 25, 50, 100.
    public var steps: [Int]
    /// Seconds each step lasts (1 s to 7 days).
    public var interval: Double
    /// The guardrails' text, already checked by the caller (the traffic module parses it).
    public var guardrails: String

    /// Creates an input.
    public init(version: Int, steps: [Int] = [5, 25, 50, 100], interval: Double, guardrails: String) {
        self.version = version
        self.steps = steps
        self.interval = interval
        self.guardrails = guardrails
    }
}

extension Registry {
    /// The most arms or shadows a policy may have.
    public static let maximumPolicyDeployments = 10

    /// An environment's traffic: its active version, the policy and the live rollout (readers of the model).
    public func traffic(
        owner: String,
        name: String,
        environment: String,
        by principal: Principal
    ) async throws
        -> TrafficView
    {
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        guard let found = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        return try await self.trafficView(found)
    }

    /// The traffic view of an environment already found.
    func trafficView(_ environment: Environment) async throws -> TrafficView {
        let stored = try await self.repository.trafficPolicy(environmentID: environment.id)
        let rollout = try await self.repository.rollouts(environmentID: environment.id, limit: 1).first
        return TrafficView(
            environment: environment,
            activeVersion: environment.activeVersion,
            policy: stored?.policy ?? TrafficPolicy(),
            rollout: rollout?.state.isLive == true ? rollout : nil,
            updatedBy: stored?.by,
            updatedAt: stored?.at
        )
    }

    /// Replaces an environment's traffic policy atomically (whoever may activate there), recording it in the
    /// activity log.
    ///
    /// - Throws: `.invalidInput` naming the arm or shadow at fault; `.notVerified` for an unverified version;
    ///   `.conflict` when the environment has no active version or a rollout controls it.
    public func setTraffic(
        owner: String,
        name: String,
        environment: String,
        _ input: TrafficPolicyInput,
        by principal: Principal
    ) async throws -> TrafficView {
        let checked = try await self.checkedTraffic(
            owner: owner,
            name: name,
            environment: environment,
            input,
            by: principal
        )
        let (model, target, policy) = (checked.model, checked.environment, checked.policy)
        let activeVersion = checked.active.version
        try await self.repository.setTrafficPolicy(
            environmentID: target.id,
            policy,
            expectedActive: checked.active.id,
            event: self.event(
                .trafficUpdated,
                on: model,
                by: principal,
                environment: environment,
                detail: policy.summary(activeVersion: activeVersion)
            )
        )
        self.log.info(
            "traffic policy changed",
            metadata: [
                "model.name": "\(model.fullName)", "environment": "\(environment)",
                "traffic": "\(policy.summary(activeVersion: activeVersion))",
            ]
        )
        guard let reread = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        return try await self.trafficView(reread)
    }

    /// Checks a traffic policy exactly as ``setTraffic(owner:name:environment:_:by:)`` does (the caller's rights,
    /// an active version, every arm and shadow) without storing it: the policy that would be stored.
    ///
    /// - Parameters:
    ///   - owner: the model's owner.
    ///   - name: the model's name.
    ///   - environment: the environment.
    ///   - input: the policy as written.
    ///   - principal: the caller.
    /// - Throws: what ``setTraffic(owner:name:environment:_:by:)`` throws before it stores anything.
    public func checkTraffic(
        owner: String,
        name: String,
        environment: String,
        _ input: TrafficPolicyInput,
        by principal: Principal
    ) async throws -> TrafficPolicy {
        try await self.checkedTraffic(owner: owner, name: name, environment: environment, input, by: principal).policy
    }

    /// The model, environment, active deployment and checked policy of a traffic change.
    func checkedTraffic(
        owner: String,
        name: String,
        environment: String,
        _ input: TrafficPolicyInput,
        by principal: Principal
    ) async throws -> (model: Model, environment: Environment, active: Deployment, policy: TrafficPolicy) {
        let (model, target) = try await self.deployableEnvironment(
            owner: owner,
            name: name,
            environment: environment,
            by: principal
        )
        guard let activeID = target.activeDeploymentID, let active = try await self.repository.deployment(id: activeID)
        else {
            throw RegistryError.conflict(
                "'\(environment)' has no active version; activate one before splitting traffic"
            )
        }
        let policy = try await self.policy(from: input, model: model, environment: target, active: active)
        return (model, target, active, policy)
    }

    /// Checks an input against the environment's deployments and turns it into a policy.
    func policy(
        from input: TrafficPolicyInput,
        model: Model,
        environment: Environment,
        active: Deployment
    ) async throws -> TrafficPolicy {
        guard input.arms.count + input.shadows.count <= Self.maximumPolicyDeployments + 1 else {
            throw RegistryError.invalid(
                "arms",
                "a policy may name at most \(Self.maximumPolicyDeployments) versions besides the active one"
            )
        }
        var seen: Set<Int> = []
        var splits: [TrafficPolicy.Split] = []
        if !input.arms.isEmpty {
            var total = 0
            for (index, arm) in input.arms.enumerated() {
                let field = "arms[\(index)]"
                guard (0...100).contains(arm.weight) else {
                    throw RegistryError.invalid(
                        "\(field).weight",
                        "weight must be an integer from 0 to 100, got \(arm.weight)"
                    )
                }
                guard seen.insert(arm.version).inserted else {
                    throw RegistryError.invalid("\(field).version", "version \(arm.version) is named twice")
                }
                total += arm.weight
                if arm.version == active.version { continue }
                let deployment = try await self.verifiedDeployment(
                    arm.version,
                    field: "\(field).version",
                    model,
                    environment
                )
                if arm.weight > 0 {
                    splits.append(.init(deploymentID: deployment.id, version: deployment.version, weight: arm.weight))
                }
            }
            guard let own = input.arms.first(where: { $0.version == active.version }) else {
                throw RegistryError.invalid(
                    "arms",
                    "the active version \(active.version) must be one of the arms (it keeps what the others leave)"
                )
            }
            guard total == 100 else {
                throw RegistryError.invalid("arms", "the arms' weights must sum to 100, got \(total)")
            }
            guard own.weight > 0 else {
                throw RegistryError.invalid(
                    "arms",
                    "the active version \(active.version) needs a weight above 0; to send all traffic to another "
                        + "version, activate it"
                )
            }
        }
        var shadows: [TrafficPolicy.Shadow] = []
        for (index, shadow) in input.shadows.enumerated() {
            let field = "shadows[\(index)]"
            let percent = shadow.percent ?? 100
            guard (1...100).contains(percent) else {
                throw RegistryError.invalid(
                    "\(field).percent",
                    "percent must be an integer from 1 to 100, got \(percent)"
                )
            }
            guard shadow.version != active.version else {
                throw RegistryError.invalid(
                    "\(field).version",
                    "version \(shadow.version) is active; it cannot shadow itself"
                )
            }
            guard seen.insert(shadow.version).inserted else {
                throw RegistryError.invalid(
                    "\(field).version",
                    "version \(shadow.version) is already an arm or a shadow; a version is one or the other"
                )
            }
            let deployment = try await self.verifiedDeployment(
                shadow.version,
                field: "\(field).version",
                model,
                environment
            )
            shadows.append(.init(deploymentID: deployment.id, version: deployment.version, percent: percent))
        }
        var sticky: String?
        if let feature = input.stickyFeature, !feature.isEmpty {
            guard feature.utf8.count <= 200 else {
                throw RegistryError.invalid(
                    "sticky_feature",
                    "sticky_feature must be a feature name of at most 200 bytes"
                )
            }
            if let schema = active.schema,
                let object = try? JSONSerialization.jsonObject(with: Data(schema.utf8)) as? [String: Any],
                let features = object["features"] as? [String: Any], features[feature] == nil
            {
                throw RegistryError.invalid(
                    "sticky_feature",
                    "'\(feature)' is not a feature of version \(active.version)'s schema"
                )
            }
            sticky = feature
        }
        return TrafficPolicy(splits: splits, shadows: shadows, stickyFeature: sticky)
    }

    /// A version of the environment that exists and is verified.
    func verifiedDeployment(
        _ version: Int,
        field: String,
        _ model: Model,
        _ environment: Environment
    ) async throws
        -> Deployment
    {
        guard let deployment = try await self.repository.deployment(environmentID: environment.id, version: version)
        else {
            throw RegistryError.invalid(
                field,
                "\(model.fullName) has no version \(version) in environment '\(environment.name)'"
            )
        }
        guard deployment.status == .verified else {
            throw RegistryError(
                .notVerified,
                "version \(version) in '\(environment.name)' is \(deployment.status.rawValue); only verified versions "
                    + "receive traffic",
                field: field
            )
        }
        return deployment
    }

    // MARK: Rollouts

    /// Starts a progressive rollout of a verified version (whoever may activate there); its first step's share
    /// goes to the candidate at once.
    public func startRollout(
        owner: String,
        name: String,
        environment: String,
        _ input: RolloutInput,
        by principal: Principal
    ) async throws -> Rollout {
        let (model, target) = try await self.deployableEnvironment(
            owner: owner,
            name: name,
            environment: environment,
            by: principal
        )
        guard let activeID = target.activeDeploymentID, let active = try await self.repository.deployment(id: activeID)
        else {
            throw RegistryError.conflict("'\(environment)' has no active version to roll out from; activate one first")
        }
        guard !input.steps.isEmpty, input.steps.count <= 20 else {
            throw RegistryError.invalid("steps", "steps must list 1 to 20 percents, e.g. 5,25,50,100")
        }
        for (index, step) in input.steps.enumerated() {
            guard (1...100).contains(step) else {
                throw RegistryError.invalid("steps", "every step must be a percent from 1 to 100, got \(step)")
            }
            if index > 0, step <= input.steps[index - 1] {
                throw RegistryError.invalid("steps", "steps must increase, got \(input.steps[index - 1]) then \(step)")
            }
        }
        guard input.steps.last == 100 else {
            throw RegistryError.invalid("steps", "the last step must be 100 (the candidate takes all traffic)")
        }
        guard input.steps.count >= 2 else {
            throw RegistryError.invalid(
                "steps",
                "a rollout needs a step below 100 before the last; to switch all traffic at once, activate the version"
            )
        }
        guard input.interval >= 1, input.interval <= 7 * 86_400 else {
            throw RegistryError.invalid("interval", "interval must be from 1 second to 7 days")
        }
        guard input.version != active.version else {
            throw RegistryError.invalid("version", "version \(input.version) is already active in '\(environment)'")
        }
        let candidate = try await self.verifiedDeployment(input.version, field: "version", model, target)
        let now = self.now()
        let rollout = Rollout(
            modelID: model.id,
            environmentID: target.id,
            environment: environment,
            candidateID: candidate.id,
            candidateVersion: candidate.version,
            baselineID: active.id,
            baselineVersion: active.version,
            steps: input.steps,
            interval: input.interval,
            guardrails: input.guardrails,
            stepStartedAt: now,
            startedBy: principal.actor,
            createdAt: now,
            updatedAt: now
        )
        try await self.repository.startRollout(
            rollout,
            event: self.event(
                .rolloutStarted,
                on: model,
                by: principal,
                environment: environment,
                from: active.version,
                to: candidate.version,
                detail:
                    "steps \(input.steps.map(String.init).joined(separator: ",")), every \(Self.duration(input.interval))"
                    + (input.guardrails.isEmpty ? "" : ", guardrails \(input.guardrails)")
                    + "; now \(rollout.weight)%"
            )
        )
        self.log.info(
            "rollout started",
            metadata: [
                "model.name": "\(model.fullName)", "environment": "\(environment)",
                "model.version": "\(candidate.version)",
            ]
        )
        return rollout
    }

    /// An environment's rollouts, newest first (readers of the model).
    public func rollouts(
        owner: String,
        name: String,
        environment: String,
        by principal: Principal
    ) async throws
        -> [Rollout]
    {
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        guard let found = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        return try await self.repository.rollouts(environmentID: found.id, limit: 50)
    }

    /// What a user may do to a live rollout.
    public enum RolloutCommand: String, Sendable, CaseIterable {
        case pause, resume, abort
    }

    /// Pauses, resumes or aborts an environment's live rollout (whoever may activate there).
    ///
    /// Resuming restarts the current step's interval; aborting takes the candidate's share back to the baseline.
    public func commandRollout(
        owner: String,
        name: String,
        environment: String,
        _ command: RolloutCommand,
        by principal: Principal
    ) async throws -> Rollout {
        let (model, target) = try await self.deployableEnvironment(
            owner: owner,
            name: name,
            environment: environment,
            by: principal
        )
        guard let current = try await self.repository.rollouts(environmentID: target.id, limit: 1).first,
            current.state.isLive
        else { throw RegistryError.notFound("no rollout is running or paused in '\(environment)'") }
        var next = current
        next.updatedAt = self.now()
        let action: ActivityEvent.Action
        switch command {
        case .pause:
            guard current.state == .running else { throw RegistryError.conflict("the rollout is already paused") }
            next.state = .paused
            next.reason = "paused by \(principal.actor.name)"
            action = .rolloutPaused
        case .resume:
            guard current.state == .paused else { throw RegistryError.conflict("the rollout is not paused") }
            next.state = .running
            next.reason = nil
            next.stepStartedAt = next.updatedAt
            action = .rolloutResumed
        case .abort:
            next.state = .aborted
            next.reason = "aborted by \(principal.actor.name)"
            action = .rolloutAborted
        }
        let changed = try await self.repository.updateRollout(
            next,
            expected: current.revision,
            activating: false,
            event: self.event(
                action,
                on: model,
                by: principal,
                environment: environment,
                from: current.baselineVersion,
                to: current.candidateVersion,
                detail: "at \(current.weight)%"
            )
        )
        guard changed else {
            throw RegistryError.conflict("the rollout changed meanwhile (it advanced or ended); read it again")
        }
        next.revision = current.revision + 1
        return next
    }

    /// Applies a controller's decision to a rollout (advance, complete, roll back) as the system, recording
    /// `detail`. Returns whether it was applied (false: another server or a user changed the rollout first).
    public func applyRolloutDecision(
        _ rollout: Rollout,
        from current: Rollout,
        action: ActivityEvent.Action,
        detail: String
    ) async throws -> Bool {
        let event = ActivityEvent(
            modelID: rollout.modelID,
            at: self.now(),
            actor: .system,
            action: action,
            environment: rollout.environment,
            fromVersion: rollout.baselineVersion,
            toVersion: rollout.candidateVersion,
            detail: detail
        )
        return try await self.repository.updateRollout(
            rollout,
            expected: current.revision,
            activating: rollout.state == .completed,
            event: event
        )
    }

    /// `90 s`, `10 min`, `2 h`.
    static func duration(_ seconds: Double) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600)) h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60)) min" }
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
