import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository {
    static func decodeRollout(_ row: any SQLRow) throws -> Rollout {
        let stepsText = try row.string("steps")
        let steps = stepsText.split(separator: ",").compactMap { Int($0) }
        guard !steps.isEmpty else {
            throw RegistryError(.storageFailure, "rollout steps '\(stepsText)' are not a list of percents")
        }
        return Rollout(
            id: try row.uuid("id"),
            modelID: try row.uuid("model_id"),
            environmentID: try row.uuid("environment_id"),
            environment: try row.string("environment_name"),
            candidateID: try row.uuid("candidate_id"),
            candidateVersion: try row.int("candidate_version"),
            baselineID: try row.uuid("baseline_id"),
            baselineVersion: try row.int("baseline_version"),
            steps: steps,
            stepIndex: try row.int("step_index"),
            interval: try row.decode(column: "interval_seconds", as: Double.self),
            guardrails: try row.string("guardrails"),
            state: try row.enumeration("state", as: Rollout.State.self),
            reason: try row.optionalString("reason"),
            stepStartedAt: try row.date("step_started_at"),
            startedBy: try row.actor("started_by"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"),
            revision: try row.int64("revision")
        )
    }

    static let rolloutSelect: SQLQueryString =
        "SELECT r.*, e.name AS environment_name FROM rollouts r JOIN environments e ON e.id = r.environment_id"

    static let liveStates: [any Encodable & Sendable] = [Rollout.State.running.rawValue, Rollout.State.paused.rawValue]

    /// The stored policy of an environment, inside a transaction.
    static func policy(environmentID: UUID, in database: any SQLDatabase) async throws -> TrafficPolicy? {
        try await database.row(
            "SELECT policy FROM traffic_policies WHERE environment_id = \(bind: SQLValues.text(environmentID))"
        ).map { try $0.json("policy", as: TrafficPolicy.self) }
    }

    /// Writes (or, for the default policy, removes) an environment's policy row.
    static func storePolicy(
        _ policy: TrafficPolicy,
        environmentID: UUID,
        by actor: ActivityActor,
        at date: Date,
        in database: any SQLDatabase
    ) async throws {
        let id = SQLValues.text(environmentID)
        try await database.change("DELETE FROM traffic_policies WHERE environment_id = \(bind: id)")
        guard !policy.isDefault || policy.stickyFeature != nil else { return }
        try await database.change(
            """
            INSERT INTO traffic_policies (environment_id, policy, updated_by_kind, updated_by_id, updated_by_name,
                updated_at)
            VALUES (\(bind: id), \(bind: try SQLValues.json(policy)), \(bind: actor.kind.rawValue),
                \(bind: actor.id), \(bind: actor.name), \(bind: SQLValues.microseconds(date)))
            """
        )
    }

    /// The live rollout of an environment, inside a transaction.
    static func liveRollout(environmentID: UUID, in database: any SQLDatabase) async throws -> Rollout? {
        try await database.row(
            """
            \(Self.rolloutSelect) WHERE r.environment_id = \(bind: SQLValues.text(environmentID))
                AND r.state IN (\(binds: Self.liveStates))
            ORDER BY r.created_at DESC LIMIT 1
            """
        ).map(Self.decodeRollout)
    }

    /// After a version was activated by hand: the splits go (the activated version takes all traffic), the
    /// version stops shadowing itself, and a live rollout is aborted with the reason.
    static func afterManualActivation(
        environmentID: UUID,
        deployment: Deployment,
        event: ActivityEvent,
        in database: any SQLDatabase
    ) async throws {
        if let policy = try await Self.policy(environmentID: environmentID, in: database) {
            try await Self.storePolicy(
                policy.afterActivating(deployment.id),
                environmentID: environmentID,
                by: event.actor,
                at: event.at,
                in: database
            )
        }
        try await database.change(
            """
            UPDATE rollouts SET state = \(bind: Rollout.State.aborted.rawValue),
                reason = \(bind: "aborted: version \(deployment.version) was activated by \(event.actor.name)"),
                updated_at = \(bind: SQLValues.microseconds(event.at)), revision = revision + 1
            WHERE environment_id = \(bind: SQLValues.text(environmentID)) AND state IN (\(binds: Self.liveStates))
            """
        )
    }

    public func trafficPolicy(
        environmentID: UUID
    ) async throws -> (
        policy: TrafficPolicy, by: ActivityActor, at: Date
    )? {
        try await self.read("reading a traffic policy") { database -> TrafficPolicyRow? in
            guard
                let row = try await database.row(
                    "SELECT * FROM traffic_policies WHERE environment_id = \(bind: SQLValues.text(environmentID))"
                )
            else { return nil }
            return TrafficPolicyRow(
                policy: try row.json("policy", as: TrafficPolicy.self),
                by: try row.actor("updated_by"),
                at: try row.date("updated_at")
            )
        }.map { ($0.policy, $0.by, $0.at) }
    }

    public func setTrafficPolicy(
        environmentID: UUID,
        _ policy: TrafficPolicy,
        expectedActive: UUID?,
        event: ActivityEvent
    ) async throws {
        let dialect = self.dialect
        try await self.write("changing a traffic policy") { database in
            guard let locked = try await Self.lockEnvironment(id: environmentID, dialect: dialect, in: database) else {
                throw RegistryError.notFound("environment \(environmentID) does not exist")
            }
            guard locked.activeDeploymentID == expectedActive else {
                throw RegistryError.conflict(
                    "the active deployment of '\(locked.name)' changed meanwhile; read the traffic again and retry"
                )
            }
            if let live = try await Self.liveRollout(environmentID: environmentID, in: database) {
                throw RegistryError.conflict(
                    "a rollout of version \(live.candidateVersion) controls the traffic of '\(locked.name)'; "
                        + "abort it first"
                )
            }
            try await Self.storePolicy(
                policy,
                environmentID: environmentID,
                by: event.actor,
                at: event.at,
                in: database
            )
            _ = try await database.insertEvent(event)
        }
    }

    public func startRollout(_ rollout: Rollout, event: ActivityEvent) async throws {
        let dialect = self.dialect
        try await self.write("starting a rollout") { database in
            guard
                let locked = try await Self.lockEnvironment(
                    id: rollout.environmentID,
                    dialect: dialect,
                    in: database
                )
            else { throw RegistryError.notFound("environment \(rollout.environmentID) does not exist") }
            guard locked.activeDeploymentID == rollout.baselineID else {
                throw RegistryError.conflict(
                    "the active deployment of '\(locked.name)' changed meanwhile; start the rollout again"
                )
            }
            if let live = try await Self.liveRollout(environmentID: rollout.environmentID, in: database) {
                throw RegistryError.conflict(
                    "a rollout of version \(live.candidateVersion) is already \(live.state.rawValue) in "
                        + "'\(locked.name)'; abort it first"
                )
            }
            let existing = try await Self.policy(environmentID: rollout.environmentID, in: database)
            try await database.change(
                """
                INSERT INTO rollouts (id, model_id, environment_id, candidate_id, candidate_version, baseline_id,
                    baseline_version, steps, step_index, interval_seconds, guardrails, state, reason, step_started_at,
                    started_by_kind, started_by_id, started_by_name, created_at, updated_at, revision)
                VALUES (\(bind: SQLValues.text(rollout.id)), \(bind: SQLValues.text(rollout.modelID)),
                    \(bind: SQLValues.text(rollout.environmentID)), \(bind: SQLValues.text(rollout.candidateID)),
                    \(bind: Int64(rollout.candidateVersion)), \(bind: SQLValues.text(rollout.baselineID)),
                    \(bind: Int64(rollout.baselineVersion)),
                    \(bind: rollout.steps.map(String.init).joined(separator: ",")), \(bind: Int64(rollout.stepIndex)),
                    \(bind: rollout.interval), \(bind: rollout.guardrails), \(bind: rollout.state.rawValue),
                    \(bind: rollout.reason), \(bind: SQLValues.microseconds(rollout.stepStartedAt)),
                    \(bind: rollout.startedBy.kind.rawValue), \(bind: rollout.startedBy.id),
                    \(bind: rollout.startedBy.name), \(bind: SQLValues.microseconds(rollout.createdAt)),
                    \(bind: SQLValues.microseconds(rollout.updatedAt)), \(bind: rollout.revision))
                """
            )
            try await Self.storePolicy(
                rollout.policy(keeping: existing),
                environmentID: rollout.environmentID,
                by: event.actor,
                at: event.at,
                in: database
            )
            _ = try await database.insertEvent(event)
        }
    }

    public func updateRollout(
        _ rollout: Rollout,
        expected revision: Int64,
        activating: Bool,
        event: ActivityEvent
    ) async throws -> Bool {
        let dialect = self.dialect
        return try await self.write("updating a rollout") { database in
            guard
                try await Self.lockEnvironment(id: rollout.environmentID, dialect: dialect, in: database) != nil
            else { return false }
            guard
                let stored = try await database.row(
                    "SELECT revision, state FROM rollouts WHERE id = \(bind: SQLValues.text(rollout.id))"
                ),
                try stored.int64("revision") == revision,
                try stored.enumeration("state", as: Rollout.State.self).isLive
            else { return false }
            try await database.change(
                """
                UPDATE rollouts SET step_index = \(bind: Int64(rollout.stepIndex)), state = \(bind: rollout.state.rawValue),
                    reason = \(bind: rollout.reason), step_started_at = \(bind: SQLValues.microseconds(rollout.stepStartedAt)),
                    updated_at = \(bind: SQLValues.microseconds(rollout.updatedAt)), revision = \(bind: revision + 1)
                WHERE id = \(bind: SQLValues.text(rollout.id))
                """
            )
            let existing = try await Self.policy(environmentID: rollout.environmentID, in: database)
            var policy = rollout.policy(keeping: existing)
            if !rollout.state.isLive && rollout.state != .completed {
                // Rolled back or aborted: the candidate gets nothing any more.
                policy.splits.removeAll { $0.deploymentID == rollout.candidateID }
            }
            try await Self.storePolicy(
                policy,
                environmentID: rollout.environmentID,
                by: event.actor,
                at: event.at,
                in: database
            )
            var recorded = event
            if activating {
                var activation = event
                activation.action = .rolloutCompleted
                _ = try await Self.activate(
                    environmentID: rollout.environmentID,
                    deploymentID: rollout.candidateID,
                    event: activation,
                    dialect: dialect,
                    in: database,
                    isManual: false
                )
            } else {
                recorded = try await database.insertEvent(recorded)
            }
            return true
        }
    }

    public func rollout(id: UUID) async throws -> Rollout? {
        try await self.read("reading a rollout") { database in
            try await database.row("\(Self.rolloutSelect) WHERE r.id = \(bind: SQLValues.text(id))")
                .map(Self.decodeRollout)
        }
    }

    public func rollouts(environmentID: UUID, limit: Int) async throws -> [Rollout] {
        try await self.read("listing rollouts") { database in
            try await database.rows(
                """
                \(Self.rolloutSelect) WHERE r.environment_id = \(bind: SQLValues.text(environmentID))
                ORDER BY r.created_at DESC, r.id DESC LIMIT \(bind: Int64(max(1, limit)))
                """
            ).map(Self.decodeRollout)
        }
    }

    public func liveRollouts() async throws -> [Rollout] {
        try await self.read("listing live rollouts") { database in
            try await database.rows(
                "\(Self.rolloutSelect) WHERE r.state IN (\(binds: Self.liveStates)) ORDER BY r.created_at"
            ).map(Self.decodeRollout)
        }
    }
}

/// A policy row carried out of a read.
private struct TrafficPolicyRow: Sendable {
    var policy: TrafficPolicy
    var by: ActivityActor
    var at: Date
}
