import Foundation
import SQLKit
import SlipwayRegistry

extension SQLDatabase {
    /// Runs a change, turning a unique or foreign-key violation into the given domain errors.
    func change(
        _ sql: SQLQueryString,
        unique: @autoclosure () -> RegistryError? = nil,
        missing: @autoclosure () -> RegistryError? = nil
    ) async throws {
        do {
            try await self.raw(sql).run()
        } catch {
            switch DatabaseErrors.kind(of: error) {
            case .uniqueViolation: if let mapped = unique() { throw mapped }
            case .foreignKeyViolation: if let mapped = missing() { throw mapped }
            case .other: break
            }
            throw error
        }
    }

    /// Runs a statement and returns its rows.
    func rows(_ sql: SQLQueryString) async throws -> [any SQLRow] {
        try await self.raw(sql).all()
    }

    /// Runs a statement and returns its first row.
    func row(_ sql: SQLQueryString) async throws -> (any SQLRow)? {
        try await self.raw(sql).all().first
    }

    /// Runs a `COUNT(*) AS total` statement.
    func count(_ sql: SQLQueryString) async throws -> Int {
        guard let row = try await self.row(sql) else { return 0 }
        return try row.int("total")
    }

    /// Inserts an activity event and returns it with its assigned id.
    func insertEvent(_ event: ActivityEvent) async throws -> ActivityEvent {
        let row = try await self.row(
            """
            INSERT INTO activity (
                model_id, at, actor_kind, actor_id, actor_name, action, environment, from_version, to_version, detail
            ) VALUES (
                \(bind: SQLValues.text(event.modelID)), \(bind: SQLValues.microseconds(event.at)),
                \(bind: event.actor.kind.rawValue), \(bind: event.actor.id), \(bind: event.actor.name),
                \(bind: event.action.rawValue), \(bind: event.environment),
                \(bind: event.fromVersion.map { Int64($0) }), \(bind: event.toVersion.map { Int64($0) }),
                \(bind: event.detail)
            ) RETURNING id
            """
        )
        guard let row else { throw RegistryError(.storageFailure, "inserting an activity event returned no id") }
        var stored = event
        stored.id = try row.int64("id")
        return stored
    }
}

extension SQLQueryString {
    /// `WHERE a AND b AND …`, or nothing for no conditions.
    static func whereClause(_ conditions: [SQLQueryString]) -> SQLQueryString {
        conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
    }

    /// `LIMIT … OFFSET …` for a page.
    static func limit(_ page: PageRequest) -> SQLQueryString {
        " LIMIT \(bind: Int64(page.size)) OFFSET \(bind: Int64(page.offset))"
    }
}
