import Foundation
import SQLKit
import SlipwayRegistry

/// The web console's sessions (migration 9).
extension SQLRegistryRepository {
    public func insertConsoleSession(_ session: StoredConsoleSession, now: Date) async throws {
        try await self.write("starting a console session") { database in
            try await database.raw(
                "DELETE FROM console_sessions WHERE expires_at < \(bind: SQLValues.microseconds(now))"
            ).run()
            try await database.raw(
                """
                INSERT INTO console_sessions (id_hash, token_id, csrf_token, expires_at, flash)
                VALUES (\(bind: session.idHash), \(bind: session.tokenID), \(bind: session.csrfToken),
                    \(bind: SQLValues.microseconds(session.expiresAt)), \(bind: session.flash))
                """
            ).run()
        }
    }

    public func consoleSession(idHash: String) async throws -> StoredConsoleSession? {
        try await self.read("reading a console session") { database in
            try await database.row("SELECT * FROM console_sessions WHERE id_hash = \(bind: idHash)").map { row in
                StoredConsoleSession(
                    idHash: try row.string("id_hash"),
                    tokenID: try row.string("token_id"),
                    csrfToken: try row.string("csrf_token"),
                    expiresAt: try row.date("expires_at"),
                    flash: try row.optionalString("flash")
                )
            }
        }
    }

    public func setConsoleSessionFlash(idHash: String, _ flash: String?) async throws {
        try await self.write("keeping a console message") { database in
            try await database.raw(
                "UPDATE console_sessions SET flash = \(bind: flash) WHERE id_hash = \(bind: idHash)"
            ).run()
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        try await self.write("ending a console session") { database in
            try await database.raw("DELETE FROM console_sessions WHERE id_hash = \(bind: idHash)").run()
        }
    }
}
