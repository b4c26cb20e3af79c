import Foundation
import HTTPTypes
import SlipwayRegistry
import SlipwayRuntime

/// Decides, fast, whether a credential may predict with a model in an environment.
///
/// Decisions are cached for one second per (credential, model, environment), so the prediction path reads the
/// database at most once a second per caller; a revoked or expired key stops working within that second.
package final class ServingAccess: Sendable {
    package struct Decision: Sendable {
        /// The serving key that was used, for rate limiting.
        package var key: AccessKey?
        /// Why the caller may not predict, if they may not.
        package var refusal: APIError?
    }

    private struct Entry {
        var decision: Decision
        var expires: UInt64
    }

    /// What a decision depends on (hashed as is: formatting the model's UUID per request would cost more than the
    /// lookup).
    private struct CacheKey: Hashable {
        var secret: String?
        var modelID: UUID
        var environment: String
    }

    private let registry: Registry
    private let lifetime: UInt64 = 1_000_000_000
    private let maximumEntries = 10_000
    /// One copy of the cache per thread that reads it (a decision is written to every copy): the network threads
    /// read it for every prediction and must not wait on each other's lookups.
    private let entries = ThreadShards { [CacheKey: Entry]() }

    package init(registry: Registry) {
        self.registry = registry
    }

    /// The decision for `secret` on `model`/`environment`.
    package func decide(secret: String?, model: Model, environment: String) async throws -> Decision {
        let cacheKey = CacheKey(secret: secret, modelID: model.id, environment: environment)
        let now = DispatchTime.now().uptimeNanoseconds
        if let entry = self.entries.withCurrent({ $0[cacheKey] }), entry.expires > now {
            return entry.decision
        }
        let decision = try await self.evaluate(secret: secret, model: model, environment: environment)
        let entry = Entry(decision: decision, expires: now + self.lifetime)
        self.entries.withEach { entries in
            if entries.count >= self.maximumEntries { entries.removeAll(keepingCapacity: true) }
            entries[cacheKey] = entry
        }
        return decision
    }

    /// The cached decision for `secret` on `model`/`environment`, if one is still fresh (no database read).
    package func cachedDecision(secret: String?, model: Model, environment: String) -> Decision? {
        let cacheKey = CacheKey(secret: secret, modelID: model.id, environment: environment)
        let now = DispatchTime.now().uptimeNanoseconds
        guard let entry = self.entries.withCurrent({ $0[cacheKey] }), entry.expires > now else { return nil }
        return entry.decision
    }

    /// The decision for a principal that was authenticated elsewhere (a console session); not cached.
    func decide(principal: Principal, model: Model, environment: String) async throws -> Decision {
        try await self.evaluate(principal: principal, model: model, environment: environment)
    }

    private func evaluate(secret: String?, model: Model, environment: String) async throws -> Decision {
        let principal: Principal
        do {
            principal = try await self.registry.authenticate(secret: secret)
        } catch let error as RegistryError where error.code == .unauthenticated {
            return Decision(refusal: APIError(error))
        }
        return try await self.evaluate(principal: principal, model: model, environment: environment)
    }

    private func evaluate(principal: Principal, model: Model, environment: String) async throws -> Decision {
        switch principal {
        case .anonymous:
            if model.isPublic && model.allowsAnonymousPredictions { return Decision() }
            return Decision(
                refusal: APIError(
                    .unauthorized,
                    code: "unauthenticated",
                    detail: "a serving key is required: send it in the X-Serving-Key header"
                )
            )
        case .servingKey(let key):
            guard key.modelID == model.id else {
                return Decision(
                    refusal: APIError(
                        .forbidden,
                        code: "forbidden",
                        detail: "this serving key belongs to another model"
                    )
                )
            }
            guard key.environments.contains(environment) else {
                return Decision(
                    refusal: APIError(
                        .forbidden,
                        code: "forbidden",
                        detail:
                            "you are not authorized to access the \(environment) environment of \(model.fullName) with this serving key"
                    )
                )
            }
            return Decision(key: key)
        case .user, .deployKey:
            let access = try await self.registry.access(to: model, for: principal)
            if access.canRead { return Decision() }
            return Decision(
                refusal: APIError(.notFound, code: "not_found", detail: "model \(model.fullName) does not exist")
            )
        }
    }
}
