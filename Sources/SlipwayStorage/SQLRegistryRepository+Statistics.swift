import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository: StatisticsRepository {
    public func mergeStatistics(
        _ records: [StatisticsBucketRecord],
        combine: @escaping @Sendable (_ stored: String, _ added: String) throws -> String
    ) async throws {
        guard !records.isEmpty else { return }
        // One lock order for every writer (PostgreSQL): two processes flushing the same buckets wait for each
        // other instead of deadlocking.
        let ordered = records.sorted {
            ($0.deploymentID.uuidString, $0.size.rawValue, $0.start) < (
                $1.deploymentID.uuidString, $1.size.rawValue, $1.start
            )
        }
        let forUpdate = SQLQueryString(self.dialect.forUpdate)
        try await self.write("storing deployment statistics") { database in
            let now = SQLValues.microseconds(Date())
            for record in ordered {
                let deployment = SQLValues.text(record.deploymentID)
                let start = SQLValues.microseconds(record.start)
                let size = record.size.rawValue
                // An empty row first (kept only while the deployment exists), then the row locked and merged.
                try await database.raw(
                    """
                    INSERT INTO deployment_statistics (
                        deployment_id, bucket_size, bucket_start, model_id, environment_id, requests, errors, payload,
                        updated_at
                    )
                    SELECT \(bind: deployment), \(bind: size), \(bind: start), \(bind: SQLValues.text(record.modelID)),
                        \(bind: SQLValues.text(record.environmentID)), 0, 0, '', \(bind: now)
                    WHERE EXISTS (SELECT 1 FROM deployments WHERE id = \(bind: deployment))
                    ON CONFLICT (deployment_id, bucket_size, bucket_start) DO NOTHING
                    """
                ).run()
                let key: SQLQueryString =
                    "deployment_id = \(bind: deployment) AND bucket_size = \(bind: size) AND bucket_start = \(bind: start)"
                guard
                    let row = try await database.row(
                        "SELECT payload FROM deployment_statistics WHERE \(key)\(forUpdate)"
                    )
                else { continue }
                let stored = try row.string("payload")
                let merged = stored.isEmpty ? record.payload : try combine(stored, record.payload)
                try await database.raw(
                    """
                    UPDATE deployment_statistics SET
                        requests = requests + \(bind: record.requests),
                        errors = errors + \(bind: record.errors),
                        payload = \(bind: merged),
                        updated_at = \(bind: now)
                    WHERE \(key)
                    """
                ).run()
            }
        }
    }

    public func statistics(
        deploymentIDs: [UUID],
        size: StatisticsBucketSize,
        from: Date,
        to: Date
    ) async throws -> [StatisticsBucketRecord] {
        guard !deploymentIDs.isEmpty else { return [] }
        let ids: [any Encodable & Sendable] = deploymentIDs.map { SQLValues.text($0) }
        return try await self.read("reading deployment statistics") { database in
            try await database.rows(
                """
                SELECT * FROM deployment_statistics
                WHERE deployment_id IN (\(binds: ids)) AND bucket_size = \(bind: size.rawValue)
                    AND bucket_start >= \(bind: SQLValues.microseconds(from))
                    AND bucket_start < \(bind: SQLValues.microseconds(to)) AND payload <> ''
                ORDER BY deployment_id, bucket_start
                """
            ).map(Self.decodeStatistics)
        }
    }

    public func statistics(
        environmentID: UUID,
        size: StatisticsBucketSize,
        from: Date,
        to: Date
    ) async throws -> [StatisticsBucketRecord] {
        try await self.read("reading environment statistics") { database in
            try await database.rows(
                """
                SELECT * FROM deployment_statistics
                WHERE environment_id = \(bind: SQLValues.text(environmentID)) AND bucket_size = \(bind: size.rawValue)
                    AND bucket_start >= \(bind: SQLValues.microseconds(from))
                    AND bucket_start < \(bind: SQLValues.microseconds(to)) AND payload <> ''
                ORDER BY deployment_id, bucket_start
                """
            ).map(Self.decodeStatistics)
        }
    }

    public func pruneStatistics(size: StatisticsBucketSize, before date: Date) async throws -> Int {
        try await self.write("pruning deployment statistics") { database in
            try await database.rows(
                """
                DELETE FROM deployment_statistics
                WHERE bucket_size = \(bind: size.rawValue) AND bucket_start < \(bind: SQLValues.microseconds(date))
                RETURNING deployment_id
                """
            ).count
        }
    }

    public func storeReferenceProfile(deploymentID: UUID, profile: String) async throws -> String? {
        let deployment = SQLValues.text(deploymentID)
        return try await self.write("storing a reference profile") { database in
            try await database.raw(
                """
                INSERT INTO deployment_reference_profiles (deployment_id, profile, created_at)
                SELECT \(bind: deployment), \(bind: profile), \(bind: SQLValues.microseconds(Date()))
                WHERE EXISTS (SELECT 1 FROM deployments WHERE id = \(bind: deployment))
                ON CONFLICT (deployment_id) DO NOTHING
                """
            ).run()
            return try await database.row(
                "SELECT profile FROM deployment_reference_profiles WHERE deployment_id = \(bind: deployment)"
            ).map { try $0.string("profile") }
        }
    }

    public func referenceProfile(deploymentID: UUID) async throws -> String? {
        try await self.read("reading a reference profile") { database in
            try await database.row(
                """
                SELECT profile FROM deployment_reference_profiles
                WHERE deployment_id = \(bind: SQLValues.text(deploymentID))
                """
            ).map { try $0.string("profile") }
        }
    }

    public func monitoringSettings(modelID: UUID) async throws -> MonitoringSettings? {
        try await self.read("reading monitoring settings") { database in
            try await database.row(
                "SELECT * FROM monitoring_settings WHERE model_id = \(bind: SQLValues.text(modelID))"
            ).map { row in
                MonitoringSettings(
                    modelID: try row.uuid("model_id"),
                    driftThreshold: try row.decode(column: "drift_threshold", as: Double.self),
                    updatedAt: try row.date("updated_at")
                )
            }
        }
    }

    public func setMonitoringSettings(_ settings: MonitoringSettings, event: ActivityEvent) async throws {
        try await self.write("storing monitoring settings") { database in
            try await database.change(
                """
                INSERT INTO monitoring_settings (model_id, drift_threshold, updated_at)
                VALUES (
                    \(bind: SQLValues.text(settings.modelID)), \(bind: settings.driftThreshold),
                    \(bind: SQLValues.microseconds(settings.updatedAt))
                )
                ON CONFLICT (model_id) DO UPDATE SET
                    drift_threshold = excluded.drift_threshold, updated_at = excluded.updated_at
                """,
                missing: RegistryError.notFound("model \(settings.modelID) does not exist")
            )
            _ = try await database.insertEvent(event)
        }
    }

    static func decodeStatistics(_ row: any SQLRow) throws -> StatisticsBucketRecord {
        StatisticsBucketRecord(
            deploymentID: try row.uuid("deployment_id"),
            modelID: try row.uuid("model_id"),
            environmentID: try row.uuid("environment_id"),
            size: try row.enumeration("bucket_size", as: StatisticsBucketSize.self),
            start: try row.date("bucket_start"),
            requests: try row.int64("requests"),
            errors: try row.int64("errors"),
            payload: try row.string("payload")
        )
    }
}
