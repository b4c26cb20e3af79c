import Foundation
import Logging

/// Where a deployment is about to be created: checked before the upload starts.
public struct DeployTarget: Sendable {
    /// The model.
    public var model: Model
    /// The environment.
    public var environment: Environment
}

extension Registry {
    /// Checks that the caller may deploy to `environment` before any byte is uploaded.
    public func authorizeDeploy(
        owner: String,
        name: String,
        environment: String,
        by principal: Principal
    )
        async throws -> DeployTarget
    {
        let (model, target) = try await self.deployableEnvironment(
            owner: owner,
            name: name,
            environment: environment,
            by: principal
        )
        return DeployTarget(model: model, environment: target)
    }

    /// Records a new deployment of an artifact already committed to the artifact store.
    ///
    /// On any failure the artifact is removed again if it was new and no deployment uses it, so a failed deploy
    /// leaves no row and no orphan artifact.
    public func createDeployment(
        in target: DeployTarget,
        input: DeploymentInput,
        artifact: StoredArtifact,
        by principal: Principal
    ) async throws -> Deployment {
        do {
            let validated = try input.validated()
            let summary = validated.summary
            let deployment = Deployment(
                modelID: target.model.id,
                environmentID: target.environment.id,
                environmentName: target.environment.name,
                artifactDigest: artifact.digest,
                artifactSize: artifact.size,
                format: input.format,
                summary: summary,
                description: input.description,
                schema: input.schema,
                samples: input.samples,
                classes: input.classes,
                context: input.context,
                params: input.params,
                referenceRows: validated.referenceRows,
                activateOnVerify: input.activate,
                createdBy: principal.actor,
                createdAt: self.now()
            )
            let stored = try await self.repository.createDeployment(
                deployment,
                reference: validated.referenceRows == nil ? nil : input.reference,
                event: self.event(
                    .deploymentCreated,
                    on: target.model,
                    by: principal,
                    environment: target.environment.name,
                    detail: summary
                )
            )
            self.log.info(
                "created deployment",
                metadata: [
                    "model.name": "\(target.model.fullName)", "environment": "\(target.environment.name)",
                    "model.version": "\(stored.version)", "artifact.sha256": "\(artifact.digest)",
                ]
            )
            return stored
        } catch {
            await self.discard(artifact)
            throw error
        }
    }

    /// Removes a just-uploaded artifact that ended up unused.
    public func discard(_ artifact: StoredArtifact) async {
        guard artifact.isNew else { return }
        await self.collectArtifacts([artifact.digest])
    }

    /// A model's deployments, optionally filtered by environment name, version and status.
    public func listDeployments(
        owner: String,
        name: String,
        environment: String? = nil,
        version: Int? = nil,
        status: DeploymentStatus? = nil,
        page: PageRequest,
        by principal: Principal
    ) async throws -> Page<Deployment> {
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        var filter = DeploymentFilter(version: version, status: status)
        if let environment {
            guard let found = try await self.repository.environment(modelID: model.id, name: environment) else {
                throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
            }
            filter.environmentID = found.id
        }
        return try await self.repository.listDeployments(modelID: model.id, filter: filter, page: page)
    }

    /// One deployment by environment and version, with its environment.
    public func deployment(
        owner: String,
        name: String,
        environment: String,
        version: Int,
        by principal: Principal
    )
        async throws -> (Deployment, Environment)
    {
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        return try await self.deployment(in: model, environment: environment, version: version)
    }

    func deployment(in model: Model, environment: String, version: Int) async throws -> (Deployment, Environment) {
        guard let found = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        guard let deployment = try await self.repository.deployment(environmentID: found.id, version: version) else {
            throw RegistryError.notFound("\(model.fullName) has no version \(version) in environment '\(environment)'")
        }
        return (deployment, found)
    }

    /// The artifact bytes of a deployment, checked against their digest.
    public func artifact(of deployment: Deployment) throws -> Data {
        try self.artifacts.read(digest: deployment.artifactDigest)
    }

    /// Changes a deployment's description (whoever may deploy to its environment).
    public func updateDescription(
        owner: String,
        name: String,
        environment: String,
        version: Int,
        description: String,
        by principal: Principal
    ) async throws -> Deployment {
        let (model, _) = try await self.deployableEnvironment(
            owner: owner,
            name: name,
            environment: environment,
            by: principal
        )
        guard description.count <= Self.maximumTextLength else {
            throw RegistryError.invalid(
                "description",
                "description must be at most \(Self.maximumTextLength) characters"
            )
        }
        let (deployment, _) = try await self.deployment(in: model, environment: environment, version: version)
        return try await self.repository.updateDeploymentDescription(
            id: deployment.id,
            description: description,
            event: self.event(
                .deploymentUpdated,
                on: model,
                by: principal,
                environment: environment,
                to: version,
                detail: "description"
            )
        )
    }

    /// Records a verification result (administrators; the runtime's verifier calls ``recordVerification(of:status:reason:verification:actor:)``).
    public func setStatus(
        owner: String,
        name: String,
        environment: String,
        version: Int,
        status: DeploymentStatus,
        reason: String?,
        by principal: Principal
    ) async throws -> Deployment {
        try self.requireAdministrator(principal)
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        let (deployment, _) = try await self.deployment(in: model, environment: environment, version: version)
        return try await self.recordVerification(of: deployment, status: status, reason: reason, actor: principal.actor)
            .0
    }

    /// Moves a pending deployment to verified or failed with its verification report (JSON text), activating it
    /// when it asked to be.
    public func recordVerification(
        of deployment: Deployment,
        status: DeploymentStatus,
        reason: String?,
        verification: String? = nil,
        actor: ActivityActor = .system
    ) async throws -> (Deployment, Activation?) {
        guard status != .pending else {
            throw RegistryError.invalid("state", "state must be verified or failed")
        }
        if status == .failed, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw RegistryError.invalid("reason", "a failed verification needs a reason")
        }
        guard deployment.status.canTransition(to: status) else {
            throw RegistryError.conflict(
                "version \(deployment.version) in '\(deployment.environmentName)' is already \(deployment.status.rawValue)"
            )
        }
        let now = self.now()
        let event = ActivityEvent(
            modelID: deployment.modelID,
            at: now,
            actor: actor,
            action: status == .verified ? .deploymentVerified : .deploymentFailed,
            environment: deployment.environmentName,
            toVersion: deployment.version,
            detail: reason ?? ""
        )
        return try await self.repository.setDeploymentStatus(
            id: deployment.id,
            status: status,
            reason: reason,
            verification: verification,
            at: now,
            event: event
        )
    }

    /// Makes a verified version the active one of its environment.
    ///
    /// - Parameters:
    ///   - isRollback: records the change as a rollback rather than an activation.
    public func activate(
        owner: String,
        name: String,
        environment: String,
        version: Int,
        isRollback: Bool = false,
        by principal: Principal
    ) async throws -> Activation {
        let (model, target) = try await self.deployableEnvironment(
            owner: owner,
            name: name,
            environment: environment,
            by: principal
        )
        let (deployment, _) = try await self.deployment(in: model, environment: environment, version: version)
        guard deployment.status == .verified else {
            throw RegistryError(
                .notVerified,
                "version \(version) in '\(environment)' is \(deployment.status.rawValue); only verified deployments can be activated"
                    + (deployment.statusReason.map { " (\($0))" } ?? "")
            )
        }
        let activation = try await self.repository.activate(
            environmentID: target.id,
            deploymentID: deployment.id,
            event: self.event(
                isRollback ? .deploymentRolledBack : .deploymentActivated,
                on: model,
                by: principal,
                environment: environment,
                from: target.activeVersion,
                to: version
            )
        )
        self.log.info(
            isRollback ? "rolled back" : "activated",
            metadata: [
                "model.name": "\(model.fullName)", "environment": "\(environment)", "model.version": "\(version)",
            ]
        )
        return activation
    }

    /// Copies a deployment into another environment as its next version, reusing the artifact.
    ///
    /// A verified deployment stays verified (same bytes, same samples); a pending or failed one arrives pending.
    /// The reference rows are copied too.
    public func promote(
        owner: String,
        name: String,
        from source: String,
        version: Int,
        to destination: String,
        summary: String? = nil,
        by principal: Principal
    ) async throws -> Deployment {
        guard source != destination else {
            throw RegistryError.invalid("to_environment", "to_environment must differ from the source environment")
        }
        let (model, target) = try await self.deployableEnvironment(
            owner: owner,
            name: name,
            environment: destination,
            by: principal
        )
        let access = try await self.access(to: model, for: principal)
        if case .deployKey(let environments) = access, !environments.contains(source) {
            throw RegistryError.forbidden("this deploy key is not valid for environment '\(source)'")
        }
        let (original, _) = try await self.deployment(in: model, environment: source, version: version)
        if let summary {
            _ = try DeploymentInput(summary: summary).validate()
        }
        let now = self.now()
        var copy = original
        copy.id = UUID()
        copy.environmentID = target.id
        copy.environmentName = destination
        copy.version = 0
        copy.summary = summary?.trimmingCharacters(in: .whitespacesAndNewlines) ?? original.summary
        copy.activateOnVerify = false
        copy.promotedFromID = original.id
        copy.createdBy = principal.actor
        copy.createdAt = now
        if original.status == .verified {
            copy.statusReason = nil
            copy.verifiedAt = now
        } else {
            copy.status = .pending
            copy.statusReason = nil
            copy.verifiedAt = nil
            copy.verification = nil
        }
        // The reference rows travel with the copy (read only when there are some).
        var reference: String?
        if original.referenceRows != nil {
            reference = try await self.repository.deploymentReference(id: original.id)
        }
        return try await self.repository.createDeployment(
            copy,
            reference: reference,
            event: self.event(
                .deploymentPromoted,
                on: model,
                by: principal,
                environment: destination,
                from: version,
                detail: "from \(source) version \(version)"
            )
        )
    }

    /// The version live in an environment at `date`, with its deployment.
    public func liveVersion(
        owner: String,
        name: String,
        environment: String,
        at date: Date,
        by principal: Principal
    )
        async throws -> (Int?, Deployment?)
    {
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        guard let found = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        guard let version = try await self.repository.liveVersion(modelID: model.id, environment: environment, at: date)
        else { return (nil, nil) }
        return (version, try await self.repository.deployment(environmentID: found.id, version: version))
    }

    /// A model's activity log, newest first.
    public func activity(
        owner: String,
        name: String,
        filter: ActivityFilter,
        page: PageRequest,
        by principal: Principal
    )
        async throws -> Page<ActivityEvent>
    {
        let (model, _) = try await self.readableModel(owner: owner, name: name, by: principal)
        return try await self.repository.listActivity(modelID: model.id, filter: filter, page: page)
    }

    /// The deployment a promoted deployment came from, for display.
    public func promotedFrom(_ deployment: Deployment) async throws -> Deployment? {
        guard let id = deployment.promotedFromID else { return nil }
        return try await self.repository.deployment(id: id)
    }
}
