import Crypto
import Foundation
import SlipwayRegistry

/// One signed-in browser: whose API token it signed in with, and its CSRF token.
struct ConsoleSession: Sendable {
    /// The API token's id (`slw_u_<id>_…`); the token is checked again on every request, so a revoked or
    /// expired token ends the session.
    var tokenID: String
    /// The token every form of this session must carry.
    var csrfToken: String
    /// When the session ends.
    var expiresAt: Date
    /// The message kept for this request's page (what the last action did), read with the session.
    var flash: String?
}

/// The console's sessions, kept in the database under the SHA-256 of their random ids.
///
/// The cookie holds the id; the table holds only its hash, so a copy of the table does not sign anyone in. Sessions
/// last ``lifetime`` from sign-in. Every server of a cluster reads the same table, so a browser may reach any of
/// them, and signing out on one ends the session on all.
final class ConsoleSessions: Sendable {
    /// How long a session lasts.
    let lifetime: TimeInterval
    private let store: any ConsoleSessionRepository

    init(store: any ConsoleSessionRepository, lifetime: TimeInterval = 8 * 3600) {
        self.store = store
        self.lifetime = lifetime
    }

    /// Starts a session and returns its id (for the cookie) and the session; sessions that expired are deleted.
    func start(tokenID: String, now: Date = Date()) async throws -> (id: String, session: ConsoleSession) {
        let id = Self.randomToken()
        let session = ConsoleSession(
            tokenID: tokenID,
            csrfToken: Self.randomToken(),
            expiresAt: now.addingTimeInterval(self.lifetime)
        )
        try await self.store.insertConsoleSession(
            StoredConsoleSession(
                idHash: Self.hash(id),
                tokenID: session.tokenID,
                csrfToken: session.csrfToken,
                expiresAt: session.expiresAt
            ),
            now: now
        )
        return (id, session)
    }

    /// The live session for a cookie's id, if any (an expired one is deleted), with the message kept for its next
    /// page; that message is cleared as it is read.
    func session(id: String, now: Date = Date()) async throws -> ConsoleSession? {
        let key = Self.hash(id)
        guard let stored = try await self.store.consoleSession(idHash: key) else { return nil }
        guard stored.expiresAt > now else {
            try await self.store.deleteConsoleSession(idHash: key)
            return nil
        }
        if stored.flash != nil { try await self.store.setConsoleSessionFlash(idHash: key, nil) }
        return ConsoleSession(
            tokenID: stored.tokenID,
            csrfToken: stored.csrfToken,
            expiresAt: stored.expiresAt,
            flash: stored.flash
        )
    }

    /// Keeps a message for the session's next page.
    func setFlash(id: String, _ message: String) async throws {
        try await self.store.setConsoleSessionFlash(idHash: Self.hash(id), message)
    }

    /// Ends a session.
    func end(id: String) async throws {
        try await self.store.deleteConsoleSession(idHash: Self.hash(id))
    }

    /// 32 random bytes as URL-safe base64 (43 characters).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The hex SHA-256 of a text.
    static func hash(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two secrets in time that depends on their lengths only.
    static func constantTimeEquals(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<a.count { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
