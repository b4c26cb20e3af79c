import Foundation
import HTTPTypes
import SlipwayRegistry
import SlipwayRuntime
import Synchronization

/// Decides, fast, whether a credential may predict with a model in an environment.
///
/// Decisions are cached for one second per (credential, model, environment), so the prediction path reads the
/// database about once a second per caller; a revoked or expired key stops working within that second.
///
/// A decision in use is evaluated again in the background once it is three quarters of a second old, one evaluation
/// at a time, and the cached one keeps answering meanwhile: a busy caller's decision never expires under its
/// requests. Without this, every request of the moment a decision expired missed the cache and read the database
/// itself (the fast path's requests fell back to the router), a burst every second that showed in p99.
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
    /// A decision older than this is evaluated again in the background when next used.
    private let refreshAge: UInt64 = 750_000_000
    /// Nanoseconds of a monotonic clock.
    private let now: @Sendable () -> UInt64
    /// The decisions being evaluated again in the background.
    private let refreshing = Mutex<Set<CacheKey>>([])
    private let maximumEntries = 10_000
    /// One copy of the cache per thread that reads it (a decision is written to every copy): the network threads
    /// read it for every prediction and must not wait on each other's lookups.
    private let entries = ThreadShards { [CacheKey: Entry]() }

    /// Creates the cache over `registry`.
    ///
    /// - Parameter now: nanoseconds of a monotonic clock (tests move it by hand).
    package init(
        registry: Registry,
        now: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    ) {
        self.registry = registry
        self.now = now
    }

    /// The decision for `secret` on `model`/`environment`.
    package func decide(secret: String?, model: Model, environment: String) async throws -> Decision {
        if let decision = self.cachedDecision(secret: secret, model: model, environment: environment) {
            return decision
        }
        let cacheKey = CacheKey(secret: secret, modelID: model.id, environment: environment)
        let evaluated = self.now()
        let decision = try await self.evaluate(secret: secret, model: model, environment: environment)
        self.store(decision, for: cacheKey, evaluatedAt: evaluated)
        return decision
    }

    /// The cached decision for `secret` on `model`/`environment`, if one is still fresh (no database read). A decision
    /// old enough is evaluated again in the background.
    package func cachedDecision(secret: String?, model: Model, environment: String) -> Decision? {
        let cacheKey = CacheKey(secret: secret, modelID: model.id, environment: environment)
        let now = self.now()
        guard let entry = self.entries.withCurrent({ $0[cacheKey] }), entry.expires > now else { return nil }
        if entry.expires - now <= self.lifetime - self.refreshAge { self.refresh(cacheKey, model: model) }
        return entry.decision
    }

    /// Evaluates a cached decision again in a task of its own, unless that is already under way.
    private func refresh(_ cacheKey: CacheKey, model: Model) {
        guard self.refreshing.withLock({ $0.insert(cacheKey).inserted }) else { return }
        Task {
            defer { _ = self.refreshing.withLock { $0.remove(cacheKey) } }
            let evaluated = self.now()
            // A failed read leaves the cached decision to expire: the next request reads the database itself and
            // answers its error.
            guard
                let decision = try? await self.evaluate(
                    secret: cacheKey.secret,
                    model: model,
                    environment: cacheKey.environment
                )
            else { return }
            self.store(decision, for: cacheKey, evaluatedAt: evaluated)
        }
    }

    /// Caches `decision` until one lifetime after `evaluated` (when its evaluation began), in every thread's copy.
    private func store(_ decision: Decision, for cacheKey: CacheKey, evaluatedAt evaluated: UInt64) {
        let entry = Entry(decision: decision, expires: evaluated + self.lifetime)
        self.entries.withEach { entries in
            if entries.count >= self.maximumEntries { entries.removeAll(keepingCapacity: true) }
            entries[cacheKey] = entry
        }
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
