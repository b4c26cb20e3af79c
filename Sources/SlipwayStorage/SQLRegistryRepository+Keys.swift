import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository {
    static func decodeKey(_ row: any SQLRow) throws -> AccessKey {
        AccessKey(
            id: try row.string("id"),
            modelID: try row.uuid("model_id"),
            kind: try row.enumeration("kind", as: AccessKey.Kind.self),
            name: try row.string("name"),
            environments: try row.json("environments", as: [String].self),
            secretHash: try row.string("secret_hash"),
            rateLimit: try row.optionalInt("rate_limit"),
            expiresAt: try row.optionalDate("expires_at"),
            revokedAt: try row.optionalDate("revoked_at"),
            createdBy: try row.actor("created_by"),
            createdAt: try row.date("created_at")
        )
    }

    public func createKey(_ key: AccessKey, event: ActivityEvent) async throws {
        try await self.write("creating key \(key.name)") { database in
            try await database.change(
                """
                INSERT INTO access_keys (
                    id, model_id, kind, name, environments, secret_hash, rate_limit, expires_at, revoked_at,
                    created_by_kind, created_by_id, created_by_name, created_at
                ) VALUES (
                    \(bind: key.id), \(bind: SQLValues.text(key.modelID)), \(bind: key.kind.rawValue),
                    \(bind: key.name), \(bind: try SQLValues.json(key.environments)), \(bind: key.secretHash),
                    \(bind: key.rateLimit.map { Int64($0) }), \(bind: key.expiresAt.map(SQLValues.microseconds)),
                    \(bind: key.revokedAt.map(SQLValues.microseconds)), \(bind: key.createdBy.kind.rawValue),
                    \(bind: key.createdBy.id), \(bind: key.createdBy.name), \(bind: SQLValues.microseconds(key.createdAt))
                )
                """,
                unique: .conflict(
                    "a \(key.kind.rawValue) key named '\(key.name)' already exists for this model (or its id is taken)",
                    field: "name"
                ),
                missing: .notFound("model \(key.modelID) does not exist")
            )
            _ = try await database.insertEvent(event)
        }
    }

    public func key(id: String) async throws -> AccessKey? {
        try await self.read("reading a key") { database in
            try await database.row("SELECT * FROM access_keys WHERE id = \(bind: id)").map(Self.decodeKey)
        }
    }

    public func listKeys(modelID: UUID) async throws -> [AccessKey] {
        try await self.read("listing keys") { database in
            try await database.rows(
                """
                SELECT * FROM access_keys WHERE model_id = \(bind: SQLValues.text(modelID))
                ORDER BY created_at DESC, id DESC
                """
            ).map(Self.decodeKey)
        }
    }

    public func revokeKey(id: String, at date: Date, event: ActivityEvent) async throws {
        try await self.write("revoking a key") { database in
            let row = try await database.row(
                """
                UPDATE access_keys SET revoked_at = COALESCE(revoked_at, \(bind: SQLValues.microseconds(date)))
                WHERE id = \(bind: id) RETURNING id
                """
            )
            guard row != nil else { throw RegistryError.notFound("key \(id) does not exist") }
            _ = try await database.insertEvent(event)
        }
    }
}
