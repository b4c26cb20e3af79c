import Crypto
import Foundation
import Synchronization

/// One signed-in browser: whose API token it signed in with, and its CSRF token.
struct ConsoleSession: Sendable {
    /// The API token's id (`slw_u_<id>_…`); the token is checked again on every request, so a revoked or
    /// expired token ends the session.
    var tokenID: String
    /// The token every form of this session must carry.
    var csrfToken: String
    /// When the session ends.
    var expiresAt: Date
    /// A message for the next page (what the last action did).
    var flash: String?
}

/// The console's sessions, kept in memory, each under the SHA-256 of its random id.
///
/// The cookie holds the id; the table holds only its hash, so a copy of the table (a heap dump) does not sign
/// anyone in. Sessions last ``lifetime`` from sign-in; a node's restart signs everyone out.
final class ConsoleSessions: Sendable {
    /// How long a session lasts.
    let lifetime: TimeInterval
    /// The most sessions kept; the oldest are dropped beyond it.
    let capacity: Int
    private let table = Mutex<[String: ConsoleSession]>([:])

    init(lifetime: TimeInterval = 8 * 3600, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// Starts a session and returns its id (for the cookie) and the session.
    func start(tokenID: String, now: Date = Date()) -> (id: String, session: ConsoleSession) {
        let id = Self.randomToken()
        let session = ConsoleSession(
            tokenID: tokenID,
            csrfToken: Self.randomToken(),
            expiresAt: now.addingTimeInterval(self.lifetime)
        )
        let key = Self.hash(id)
        self.table.withLock { table in
            table = table.filter { $0.value.expiresAt > now }
            if table.count >= self.capacity,
                let oldest = table.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key
            {
                table[oldest] = nil
            }
            table[key] = session
        }
        return (id, session)
    }

    /// The live session for a cookie's id, if any (an expired one is removed).
    func session(id: String, now: Date = Date()) -> ConsoleSession? {
        let key = Self.hash(id)
        return self.table.withLock { table in
            guard let session = table[key] else { return nil }
            guard session.expiresAt > now else {
                table[key] = nil
                return nil
            }
            return session
        }
    }

    /// Keeps a message for the session's next page.
    func setFlash(id: String, _ message: String) {
        let key = Self.hash(id)
        self.table.withLock { $0[key]?.flash = message }
    }

    /// The message kept for this page, removed as it is read.
    func takeFlash(id: String) -> String? {
        let key = Self.hash(id)
        return self.table.withLock { table in
            let message = table[key]?.flash
            table[key]?.flash = nil
            return message
        }
    }

    /// Ends a session.
    func end(id: String) {
        let key = Self.hash(id)
        _ = self.table.withLock { $0.removeValue(forKey: key) }
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
