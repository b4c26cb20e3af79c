import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository {
    static func decodeEvent(_ row: any SQLRow) throws -> ActivityEvent {
        ActivityEvent(
            id: try row.int64("id"),
            modelID: try row.uuid("model_id"),
            at: try row.date("at"),
            actor: try row.actor("actor"),
            action: try row.enumeration("action", as: ActivityEvent.Action.self),
            environment: try row.optionalString("environment"),
            fromVersion: try row.optionalInt("from_version"),
            toVersion: try row.optionalInt("to_version"),
            detail: try row.string("detail")
        )
    }

    public func listActivity(
        modelID: UUID,
        filter: ActivityFilter,
        page: PageRequest
    ) async throws -> Page<ActivityEvent> {
        var conditions: [SQLQueryString] = ["model_id = \(bind: SQLValues.text(modelID))"]
        if let environment = filter.environment { conditions.append("environment = \(bind: environment)") }
        if let actions = filter.actions {
            if actions.isEmpty {
                conditions.append("1 = 0")
            } else {
                let names: [any Encodable & Sendable] = actions.map(\.rawValue).sorted()
                conditions.append("action IN (\(binds: names))")
            }
        }
        if let since = filter.since { conditions.append("at >= \(bind: SQLValues.microseconds(since))") }
        if let until = filter.until { conditions.append("at <= \(bind: SQLValues.microseconds(until))") }
        let whereClause = SQLQueryString.whereClause(conditions)
        return try await self.read("listing activity") { database in
            let total = try await database.count("SELECT COUNT(*) AS total FROM activity\(whereClause)")
            let events = try await database.rows(
                "SELECT * FROM activity\(whereClause) ORDER BY at DESC, id DESC\(SQLQueryString.limit(page))"
            ).map(Self.decodeEvent)
            return Page(items: events, total: total, request: page)
        }
    }

    public func liveVersion(modelID: UUID, environment: String, at date: Date) async throws -> Int? {
        let actions: [any Encodable & Sendable] = ActivityEvent.Action.activations.map(\.rawValue).sorted()
        return try await self.read("finding the live version") { database in
            try await database.row(
                """
                SELECT to_version FROM activity
                WHERE model_id = \(bind: SQLValues.text(modelID)) AND environment = \(bind: environment)
                    AND action IN (\(binds: actions)) AND at <= \(bind: SQLValues.microseconds(date))
                ORDER BY at DESC, id DESC LIMIT 1
                """
            ).flatMap { try $0.optionalInt("to_version") }
        }
    }
}
