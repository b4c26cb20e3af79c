import Foundation

/// A signed-in web console session as stored: under the SHA-256 of its random id (the cookie holds the id), so a
/// copy of the table signs nobody in. Stored in the database so that every server of a cluster knows it.
public struct StoredConsoleSession: Sendable, Equatable {
    /// The hex SHA-256 of the session id.
    public var idHash: String
    /// The id of the API token the person signed in with (checked again on every request).
    public var tokenID: String
    /// The token every form of the session carries.
    public var csrfToken: String
    /// When the session ends.
    public var expiresAt: Date
    /// A message for the session's next page.
    public var flash: String?

    /// Creates a session record.
    public init(idHash: String, tokenID: String, csrfToken: String, expiresAt: Date, flash: String? = nil) {
        self.idHash = idHash
        self.tokenID = tokenID
        self.csrfToken = csrfToken
        self.expiresAt = expiresAt
        self.flash = flash
    }
}

/// Where the web console keeps its sessions.
public protocol ConsoleSessionRepository: Sendable {
    /// Stores a new session and deletes every session that expired before `now`.
    func insertConsoleSession(_ session: StoredConsoleSession, now: Date) async throws
    /// The session stored under `idHash`, expired or not.
    func consoleSession(idHash: String) async throws -> StoredConsoleSession?
    /// Sets (or, with `nil`, clears) the message for the session's next page.
    func setConsoleSessionFlash(idHash: String, _ flash: String?) async throws
    /// Ends a session.
    func deleteConsoleSession(idHash: String) async throws
}
