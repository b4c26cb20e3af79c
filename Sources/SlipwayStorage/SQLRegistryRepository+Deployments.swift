import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository {
    /// Every column but `reference` (up to 10,000 rows of JSON, read only by `deploymentReference(id:)`).
    static let deploymentSelect: SQLQueryString = """
        SELECT d.id, d.model_id, d.environment_id, d.version, d.artifact_digest, d.artifact_size, d.format,
            d.summary, d.description, d.feature_schema, d.samples, d.classes, d.context, d.params, d.reference_rows,
            d.status, d.status_reason, d.verified_at, d.verification, d.activate_on_verify, d.promoted_from_id,
            d.created_by_kind, d.created_by_id, d.created_by_name, d.created_at, e.name AS environment_name
        FROM deployments d JOIN environments e ON e.id = d.environment_id
        """

    static func decodeDeployment(_ row: any SQLRow) throws -> Deployment {
        Deployment(
            id: try row.uuid("id"),
            modelID: try row.uuid("model_id"),
            environmentID: try row.uuid("environment_id"),
            environmentName: try row.string("environment_name"),
            version: try row.int("version"),
            artifactDigest: try row.string("artifact_digest"),
            artifactSize: try row.int64("artifact_size"),
            format: try row.string("format"),
            summary: try row.string("summary"),
            description: try row.string("description"),
            schema: try row.optionalString("feature_schema"),
            samples: try row.optionalString("samples"),
            classes: try row.optionalString("classes"),
            context: try row.optionalString("context"),
            params: try row.optionalString("params"),
            referenceRows: try row.optionalInt("reference_rows"),
            status: try row.enumeration("status", as: DeploymentStatus.self),
            statusReason: try row.optionalString("status_reason"),
            verifiedAt: try row.optionalDate("verified_at"),
            verification: try row.optionalString("verification"),
            activateOnVerify: try row.bool("activate_on_verify"),
            promotedFromID: try row.optionalUUID("promoted_from_id"),
            createdBy: try row.actor("created_by"),
            createdAt: try row.date("created_at")
        )
    }

    /// A deployment read inside a transaction.
    static func deployment(id: UUID, in database: any SQLDatabase) async throws -> Deployment? {
        try await database.row("\(Self.deploymentSelect) WHERE d.id = \(bind: SQLValues.text(id))")
            .map(Self.decodeDeployment)
    }

    /// How a deployment is named in messages: `production v3`.
    static func label(_ deployment: Deployment) -> String {
        "\(deployment.environmentName) v\(deployment.version)"
    }

    // MARK: Creating and reading

    public func createDeployment(
        _ deployment: Deployment,
        reference: String?,
        event: ActivityEvent
    ) async throws -> Deployment {
        try await self.write("creating a deployment") { database in
            // The row lock taken by this UPDATE queues concurrent deploys into the environment; a rollback
            // returns the number.
            guard
                let counter = try await database.row(
                    """
                    UPDATE environments SET next_version = next_version + 1
                    WHERE id = \(bind: SQLValues.text(deployment.environmentID))
                        AND model_id = \(bind: SQLValues.text(deployment.modelID))
                    RETURNING next_version - 1 AS version, name
                    """
                )
            else {
                throw RegistryError.notFound(
                    "environment \(deployment.environmentID) does not exist in model \(deployment.modelID)"
                )
            }
            var stored = deployment
            stored.version = try counter.int("version")
            stored.environmentName = try counter.string("name")
            try await database.change(
                """
                INSERT INTO deployments (
                    id, model_id, environment_id, version, artifact_digest, artifact_size, format, summary,
                    description, feature_schema, samples, classes, context, params, reference, reference_rows,
                    status, status_reason,
                    verified_at, verification, activate_on_verify, promoted_from_id, created_by_kind,
                    created_by_id, created_by_name, created_at
                ) VALUES (
                    \(bind: SQLValues.text(stored.id)), \(bind: SQLValues.text(stored.modelID)),
                    \(bind: SQLValues.text(stored.environmentID)), \(bind: Int64(stored.version)),
                    \(bind: stored.artifactDigest), \(bind: stored.artifactSize), \(bind: stored.format),
                    \(bind: stored.summary), \(bind: stored.description), \(bind: stored.schema),
                    \(bind: stored.samples), \(bind: stored.classes), \(bind: stored.context), \(bind: stored.params),
                    \(bind: reference), \(bind: stored.referenceRows.map { Int64($0) }),
                    \(bind: stored.status.rawValue), \(bind: stored.statusReason),
                    \(bind: stored.verifiedAt.map(SQLValues.microseconds)), \(bind: stored.verification),
                    \(bind: SQLValues.flag(stored.activateOnVerify)),
                    \(bind: stored.promotedFromID.map(SQLValues.text)), \(bind: stored.createdBy.kind.rawValue),
                    \(bind: stored.createdBy.id), \(bind: stored.createdBy.name),
                    \(bind: SQLValues.microseconds(stored.createdAt))
                )
                """,
                unique: .conflict("deployment \(stored.id) already exists", field: "id")
            )
            var recorded = event
            recorded.toVersion = stored.version
            if recorded.environment == nil { recorded.environment = stored.environmentName }
            _ = try await database.insertEvent(recorded)
            return stored
        }
    }

    public func deploymentReference(id: UUID) async throws -> String? {
        try await self.read("reading the reference rows of deployment \(id)") { database in
            try await database.row("SELECT reference FROM deployments WHERE id = \(bind: SQLValues.text(id))")
                .flatMap { try $0.optionalString("reference") }
        }
    }

    public func deployment(id: UUID) async throws -> Deployment? {
        try await self.read("reading deployment \(id)") { database in
            try await Self.deployment(id: id, in: database)
        }
    }

    public func deployment(environmentID: UUID, version: Int) async throws -> Deployment? {
        try await self.read("reading a deployment") { database in
            try await database.row(
                """
                \(Self.deploymentSelect)
                WHERE d.environment_id = \(bind: SQLValues.text(environmentID)) AND d.version = \(bind: Int64(version))
                """
            ).map(Self.decodeDeployment)
        }
    }

    public func listDeployments(
        modelID: UUID,
        filter: DeploymentFilter,
        page: PageRequest
    ) async throws -> Page<Deployment> {
        var conditions: [SQLQueryString] = ["d.model_id = \(bind: SQLValues.text(modelID))"]
        if let environmentID = filter.environmentID {
            conditions.append("d.environment_id = \(bind: SQLValues.text(environmentID))")
        }
        if let version = filter.version { conditions.append("d.version = \(bind: Int64(version))") }
        if let status = filter.status { conditions.append("d.status = \(bind: status.rawValue)") }
        let whereClause = SQLQueryString.whereClause(conditions)
        return try await self.read("listing deployments") { database in
            let total = try await database.count("SELECT COUNT(*) AS total FROM deployments d\(whereClause)")
            let deployments = try await database.rows(
                """
                \(Self.deploymentSelect)\(whereClause)
                ORDER BY d.created_at DESC, d.version DESC, e.ordinal\(SQLQueryString.limit(page))
                """
            ).map(Self.decodeDeployment)
            return Page(items: deployments, total: total, request: page)
        }
    }

    // MARK: Changing

    public func updateDeploymentDescription(
        id: UUID,
        description: String,
        event: ActivityEvent
    ) async throws -> Deployment {
        try await self.write("updating deployment \(id)") { database in
            let row = try await database.row(
                """
                UPDATE deployments SET description = \(bind: description)
                WHERE id = \(bind: SQLValues.text(id)) RETURNING id
                """
            )
            guard row != nil, let deployment = try await Self.deployment(id: id, in: database) else {
                throw RegistryError.notFound("deployment \(id) does not exist")
            }
            var recorded = event
            if recorded.environment == nil { recorded.environment = deployment.environmentName }
            if recorded.toVersion == nil { recorded.toVersion = deployment.version }
            _ = try await database.insertEvent(recorded)
            return deployment
        }
    }

    public func setDeploymentStatus(
        id: UUID,
        status: DeploymentStatus,
        reason: String?,
        verification: String?,
        at date: Date,
        event: ActivityEvent
    ) async throws -> (Deployment, Activation?) {
        let dialect = self.dialect
        let result = try await self.write("changing the status of deployment \(id)") { database in
            // The `status = 'pending'` condition makes the transition atomic: of two concurrent callers, one wins.
            let row = try await database.row(
                """
                UPDATE deployments SET status = \(bind: status.rawValue), status_reason = \(bind: reason),
                    verified_at = \(bind: SQLValues.microseconds(date)), verification = \(bind: verification)
                WHERE id = \(bind: SQLValues.text(id)) AND status = \(bind: DeploymentStatus.pending.rawValue)
                RETURNING id
                """
            )
            guard let deployment = try await Self.deployment(id: id, in: database) else {
                throw RegistryError.notFound("deployment \(id) does not exist")
            }
            guard row != nil, status != .pending else {
                throw RegistryError.conflict(
                    "deployment \(Self.label(deployment)) is \(deployment.status.rawValue); only a pending deployment "
                        + "can become verified or failed",
                    field: "status"
                )
            }
            var recorded = event
            if recorded.environment == nil { recorded.environment = deployment.environmentName }
            if recorded.toVersion == nil { recorded.toVersion = deployment.version }
            _ = try await database.insertEvent(recorded)
            var activation: Activation?
            if status == .verified && deployment.activateOnVerify {
                activation = try await Self.activate(
                    environmentID: deployment.environmentID,
                    deploymentID: deployment.id,
                    event: ActivityEvent(
                        modelID: deployment.modelID,
                        at: event.at,
                        actor: event.actor,
                        action: .deploymentActivated,
                        environment: deployment.environmentName,
                        detail: "activated on verification"
                    ),
                    dialect: dialect,
                    in: database
                )
            }
            return ActivationResult(deployment: deployment, activation: activation)
        }
        return (result.deployment, result.activation)
    }

    public func activate(environmentID: UUID, deploymentID: UUID, event: ActivityEvent) async throws -> Activation {
        let dialect = self.dialect
        return try await self.write("activating deployment \(deploymentID)") { database in
            try await Self.activate(
                environmentID: environmentID,
                deploymentID: deploymentID,
                event: event,
                dialect: dialect,
                in: database
            )
        }
    }

    /// The activation steps, inside the caller's transaction.
    static func activate(
        environmentID: UUID,
        deploymentID: UUID,
        event: ActivityEvent,
        dialect: SQLDialect,
        in database: any SQLDatabase,
        isManual: Bool = true
    ) async throws -> Activation {
        guard let locked = try await Self.lockEnvironment(id: environmentID, dialect: dialect, in: database) else {
            throw RegistryError.notFound("environment \(environmentID) does not exist")
        }
        guard let current = try await Self.deployment(id: deploymentID, in: database),
            current.environmentID == environmentID
        else {
            throw RegistryError.notFound("deployment \(deploymentID) does not exist in environment '\(locked.name)'")
        }
        guard current.status == .verified else {
            throw RegistryError(
                .notVerified,
                "deployment \(Self.label(current)) is \(current.status.rawValue); only verified deployments can be "
                    + "activated"
            )
        }
        let previous = try await locked.activeDeploymentID.asyncMap { try await Self.deployment(id: $0, in: database) }
        try await database.change(
            """
            UPDATE environments SET active_deployment_id = \(bind: SQLValues.text(current.id))
            WHERE id = \(bind: SQLValues.text(environmentID))
            """
        )
        var recorded = event
        recorded.environment = locked.name
        recorded.fromVersion = previous??.version
        recorded.toVersion = current.version
        recorded = try await database.insertEvent(recorded)
        if isManual {
            try await Self.afterManualActivation(
                environmentID: environmentID,
                deployment: current,
                event: recorded,
                in: database
            )
        }
        guard let environment = try await Self.environment(id: environmentID, in: database) else {
            throw RegistryError.notFound("environment \(environmentID) does not exist")
        }
        return Activation(environment: environment, previous: previous ?? nil, current: current, event: recorded)
    }

    public func pendingDeployments(limit: Int) async throws -> [Deployment] {
        try await self.read("listing pending deployments") { database in
            try await database.rows(
                """
                \(Self.deploymentSelect) WHERE d.status = \(bind: DeploymentStatus.pending.rawValue)
                ORDER BY d.created_at, d.version LIMIT \(bind: Int64(max(0, limit)))
                """
            ).map(Self.decodeDeployment)
        }
    }

    public func isArtifactReferenced(digest: String) async throws -> Bool {
        try await self.read("looking up artifact \(digest)") { database in
            try await database.row("SELECT id FROM deployments WHERE artifact_digest = \(bind: digest) LIMIT 1") != nil
        }
    }
}

/// `(Deployment, Activation?)` as one `Sendable` value to carry out of a transaction.
private struct ActivationResult: Sendable {
    var deployment: Deployment
    var activation: Activation?
}

extension Optional {
    /// `map` for an async transform.
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
