import Foundation
import HTTPTypes
import SlipwayAPI
import SlipwayRegistry
import Synchronization
import Testing

@Suite("Serving access decisions")
struct ServingAccessTests {
    /// A clock moved by hand, in nanoseconds.
    final class Clock: Sendable {
        let nanoseconds = Mutex<UInt64>(1_000_000_000)
        func set(milliseconds: UInt64) { self.nanoseconds.withLock { $0 = 1_000_000_000 + milliseconds * 1_000_000 } }
        var now: UInt64 { self.nanoseconds.withLock { $0 } }
    }

    /// Runs `body` on a server with `admin/iris`, a serving key for production, and an access cache on a clock moved
    /// by hand.
    static func withAccess(
        _ body: @Sendable (TestAPI, (id: String, secret: String), Model, Clock, ServingAccess) async throws -> Void
    ) async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            let key = try await api.createKey("serving", in: "admin/iris", environments: ["production"])
            let model = try await api.registry.model(
                owner: "admin",
                name: "iris",
                by: try await api.registry.authenticate(secret: api.server.adminToken)
            )
            let clock = Clock()
            let access = ServingAccess(registry: api.registry, now: { clock.now })
            try await body(api, key, model, clock, access)
        }
    }

    @Test func refreshesADecisionInUseBeforeItExpires() async throws {
        try await Self.withAccess { api, key, model, clock, access in
            let allowed = try await access.decide(secret: key.secret, model: model, environment: "production")
            #expect(allowed.refusal == nil && allowed.key?.id == key.id)
            #expect(
                try await api.delete("/api/v1/models/admin/iris/keys/\(key.id)", as: api.admin).status == .noContent
            )

            // Half a second old: served from the cache as it was.
            clock.set(milliseconds: 500)
            #expect(access.cachedDecision(secret: key.secret, model: model, environment: "production")?.refusal == nil)
            // Older than three quarters of a second: still served, and evaluated again in the background, which
            // finds the key revoked.
            clock.set(milliseconds: 800)
            #expect(access.cachedDecision(secret: key.secret, model: model, environment: "production")?.refusal == nil)
            let started = ContinuousClock.now
            var refreshed: ServingAccess.Decision?
            while ContinuousClock.now - started < .seconds(10) {
                refreshed = access.cachedDecision(secret: key.secret, model: model, environment: "production")
                if refreshed?.refusal != nil { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(refreshed?.refusal?.status == .unauthorized)
            // Past the first decision's second: the refreshed one answers, with no gap in between.
            clock.set(milliseconds: 1_700)
            #expect(
                access.cachedDecision(secret: key.secret, model: model, environment: "production")?.refusal?.status
                    == .unauthorized
            )
        }
    }

    @Test func anUnusedDecisionExpiresAfterOneSecond() async throws {
        try await Self.withAccess { _, key, model, clock, access in
            _ = try await access.decide(secret: key.secret, model: model, environment: "production")
            clock.set(milliseconds: 1_000)
            #expect(access.cachedDecision(secret: key.secret, model: model, environment: "production") == nil)
            // The next request evaluates it again itself.
            let again = try await access.decide(secret: key.secret, model: model, environment: "production")
            #expect(again.key?.id == key.id)
            #expect(access.cachedDecision(secret: key.secret, model: model, environment: "production")?.key != nil)
        }
    }
}
