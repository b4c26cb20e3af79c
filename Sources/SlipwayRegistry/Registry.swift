import Foundation
import Logging

/// The registry's services: every management operation, with its authorisation, validation and activity record.
///
/// The HTTP API is a thin adapter over this type; storage is behind ``RegistryRepository`` and ``ArtifactStore``.
///
/// ```swift
/// let registry = Registry(repository: repository, artifacts: store)
/// let caller = try await registry.authenticate(authorization: "Bearer slw_u_…")
/// let model = try await registry.createModel(ModelInput(owner: "acme", name: "churn"), by: caller)
/// ```
public struct Registry: Sendable {
    /// Where the registry's rows live.
    public let repository: any RegistryRepository
    /// Where artifacts live.
    public let artifacts: any ArtifactStore
    /// The current time; replaced in tests.
    public let clock: @Sendable () -> Date
    /// Logs at info level and below.
    public let logger: Logger

    /// Creates the service over a repository and an artifact store.
    public init(
        repository: any RegistryRepository,
        artifacts: any ArtifactStore,
        logger: Logger = Logger(label: "slipway.registry"),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.repository = repository
        self.artifacts = artifacts
        self.logger = logger
        self.clock = clock
    }

    /// The logger bound to the current task (the request's, with its id) when there is one, else ``logger``.
    var log: Logger {
        let current = Logger.current
        return current.label.isEmpty ? self.logger : current
    }

    /// The current time, truncated to microseconds (what the database keeps).
    public func now() -> Date {
        let seconds = self.clock().timeIntervalSince1970
        return Date(timeIntervalSince1970: (seconds * 1_000_000).rounded(.down) / 1_000_000)
    }

    // MARK: Authentication

    /// Resolves a credential to a principal.
    ///
    /// - Parameters:
    ///   - secret: the secret as sent (`slw_…`), or `nil` when the request carried none.
    /// - Throws: ``RegistryError/Code/unauthenticated`` for a malformed, unknown, expired or revoked secret.
    public func authenticate(secret: String?) async throws -> Principal {
        guard let secret else { return .anonymous }
        guard let parsed = Secret.parse(secret) else {
            throw RegistryError(.unauthenticated, "the credential is not a Slipway token or key (expected slw_…)")
        }
        let now = self.now()
        switch parsed.kind {
        case .userToken:
            guard let token = try await self.repository.token(id: parsed.id),
                Secret.matches(random: parsed.random, storedHash: token.secretHash)
            else { throw RegistryError(.unauthenticated, "unknown API token") }
            guard token.isUsable(at: now) else {
                throw RegistryError(
                    .unauthenticated,
                    token.revokedAt != nil ? "the API token was revoked" : "the API token has expired"
                )
            }
            guard let user = try await self.repository.user(id: token.userID) else {
                throw RegistryError(.unauthenticated, "the API token's user no longer exists")
            }
            return .user(user)
        case .deployKey, .servingKey:
            guard let key = try await self.repository.key(id: parsed.id),
                key.kind == (parsed.kind == .deployKey ? .deploy : .serving),
                Secret.matches(random: parsed.random, storedHash: key.secretHash)
            else {
                throw RegistryError(.unauthenticated, "unknown \(parsed.kind == .deployKey ? "deploy" : "serving") key")
            }
            guard key.isUsable(at: now) else {
                throw RegistryError(
                    .unauthenticated,
                    key.revokedAt != nil ? "the key '\(key.name)' was revoked" : "the key '\(key.name)' has expired"
                )
            }
            return key.kind == .deploy ? .deployKey(key) : .servingKey(key)
        }
    }

    // MARK: Authorisation

    /// What `principal` may do on `model`.
    public func access(to model: Model, for principal: Principal) async throws -> ModelAccess {
        switch principal {
        case .anonymous:
            return model.isPublic ? .role(.viewer) : .none
        case .servingKey:
            return .none
        case .deployKey(let key):
            if key.modelID == model.id { return .deployKey(environments: Set(key.environments)) }
            return model.isPublic ? .role(.viewer) : .none
        case .user(let user):
            if user.isAdmin || user.username == model.owner { return .role(.owner) }
            if let role = try await self.repository.role(userID: user.id, inOrganization: model.owner) {
                return .role(role)
            }
            return model.isPublic ? .role(.viewer) : .none
        }
    }

    /// Refuses serving keys on management routes.
    func requireManagementCredential(_ principal: Principal) throws {
        if case .servingKey = principal {
            throw RegistryError.forbidden("serving keys may only be used for predictions")
        }
    }

    /// Loads a model the caller may read, or throws notFound (hidden models look missing).
    func readableModel(owner: String, name: String, by principal: Principal) async throws -> (Model, ModelAccess) {
        try self.requireManagementCredential(principal)
        guard let model = try await self.repository.model(owner: owner, name: name) else {
            throw RegistryError.notFound("model \(owner)/\(name) does not exist")
        }
        let access = try await self.access(to: model, for: principal)
        guard access.canRead else { throw RegistryError.notFound("model \(owner)/\(name) does not exist") }
        return (model, access)
    }

    /// Loads a model on which the caller has at least `role`.
    func model(owner: String, name: String, requiring role: Role, by principal: Principal) async throws -> Model {
        let (model, access) = try await self.readableModel(owner: owner, name: name, by: principal)
        guard access.hasRole(role) else {
            if principal == .anonymous {
                throw RegistryError(.unauthenticated, "sign in to change \(model.fullName)")
            }
            throw RegistryError.forbidden("\(role.rawValue) rights on \(model.fullName) are required")
        }
        return model
    }

    /// Loads a model and environment where the caller may deploy, activate, roll back and promote.
    func deployableEnvironment(
        owner: String,
        name: String,
        environment: String,
        by principal: Principal
    ) async throws -> (Model, Environment) {
        let (model, access) = try await self.readableModel(owner: owner, name: name, by: principal)
        guard let target = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        guard access.canDeploy(to: environment) else {
            if principal == .anonymous {
                throw RegistryError(.unauthenticated, "sign in to deploy to \(model.fullName)")
            }
            if case .deployKey = access {
                throw RegistryError.forbidden("this deploy key is not valid for environment '\(environment)'")
            }
            throw RegistryError.forbidden("maintainer rights on \(model.fullName) are required")
        }
        return (model, target)
    }

    /// The event skeleton for a change by `principal` on `model`.
    func event(
        _ action: ActivityEvent.Action,
        on model: Model,
        by principal: Principal,
        environment: String? = nil,
        from: Int? = nil,
        to: Int? = nil,
        detail: String = ""
    ) -> ActivityEvent {
        ActivityEvent(
            modelID: model.id,
            at: self.now(),
            actor: principal.actor,
            action: action,
            environment: environment,
            fromVersion: from,
            toVersion: to,
            detail: detail
        )
    }

    /// Deletes artifacts no deployment uses any more (after a model or environment is deleted).
    func collectArtifacts(_ digests: [String]) async {
        for digest in Set(digests) {
            do {
                if try await !self.repository.isArtifactReferenced(digest: digest) {
                    try self.artifacts.delete(digest: digest)
                }
            } catch {
                self.log.info(
                    "artifact left in place",
                    metadata: ["artifact.sha256": "\(digest)", "error": "\(error)"]
                )
            }
        }
    }
}
