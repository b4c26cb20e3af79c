import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository: BatchJobRepository {
    static func decodeBatchJob(_ row: any SQLRow) throws -> BatchJob {
        BatchJob(
            id: try row.uuid("id"),
            modelID: try row.uuid("model_id"),
            environment: try row.string("environment"),
            version: try row.int("version"),
            format: try row.enumeration("format", as: BatchJob.Format.self),
            state: try row.enumeration("state", as: BatchJob.State.self),
            reason: try row.optionalString("reason"),
            descending: try row.bool("descending"),
            limit: try row.int("class_limit"),
            threshold: try row.decode(column: "threshold", as: Double.self),
            inputBytes: try row.int64("input_bytes"),
            rowsDone: try row.int("rows_done"),
            rowsTotal: try row.optionalInt("rows_total"),
            errorCount: try row.int("error_count"),
            submittedBy: try row.string("submitted_by"),
            createdAt: try row.date("created_at"),
            startedAt: try row.optionalDate("started_at"),
            finishedAt: try row.optionalDate("finished_at")
        )
    }

    public func insertBatchJob(_ job: BatchJob) async throws {
        try await self.write("recording a batch job") { database in
            try await database.change(
                """
                INSERT INTO batch_jobs (id, model_id, environment, version, format, state, reason, descending,
                    class_limit, threshold, input_bytes, rows_done, rows_total, error_count, submitted_by, created_at,
                    started_at, finished_at)
                VALUES (\(bind: SQLValues.text(job.id)), \(bind: SQLValues.text(job.modelID)),
                    \(bind: job.environment), \(bind: Int64(job.version)), \(bind: job.format.rawValue),
                    \(bind: job.state.rawValue), \(bind: job.reason), \(bind: SQLValues.flag(job.descending)),
                    \(bind: Int64(job.limit)), \(bind: job.threshold), \(bind: job.inputBytes),
                    \(bind: Int64(job.rowsDone)), \(bind: job.rowsTotal.map(Int64.init)),
                    \(bind: Int64(job.errorCount)), \(bind: job.submittedBy),
                    \(bind: SQLValues.microseconds(job.createdAt)),
                    \(bind: job.startedAt.map(SQLValues.microseconds)),
                    \(bind: job.finishedAt.map(SQLValues.microseconds)))
                """,
                missing: RegistryError(.notFound, "the model of this batch job no longer exists")
            )
        }
    }

    public func updateBatchJob(_ job: BatchJob) async throws {
        try await self.write("updating a batch job") { database in
            try await database.change(
                """
                UPDATE batch_jobs SET state = \(bind: job.state.rawValue), reason = \(bind: job.reason),
                    rows_done = \(bind: Int64(job.rowsDone)), rows_total = \(bind: job.rowsTotal.map(Int64.init)),
                    error_count = \(bind: Int64(job.errorCount)),
                    started_at = \(bind: job.startedAt.map(SQLValues.microseconds)),
                    finished_at = \(bind: job.finishedAt.map(SQLValues.microseconds))
                WHERE id = \(bind: SQLValues.text(job.id))
                """
            )
        }
    }

    public func batchJob(id: UUID) async throws -> BatchJob? {
        try await self.read("reading a batch job") { database in
            try await database.row("SELECT * FROM batch_jobs WHERE id = \(bind: SQLValues.text(id))")
                .map(Self.decodeBatchJob)
        }
    }

    public func batchJobs(modelID: UUID, environment: String) async throws -> [BatchJob] {
        try await self.read("listing batch jobs") { database in
            try await database.rows(
                """
                SELECT * FROM batch_jobs
                WHERE model_id = \(bind: SQLValues.text(modelID)) AND environment = \(bind: environment)
                ORDER BY created_at DESC, id DESC
                """
            ).map(Self.decodeBatchJob)
        }
    }

    public func batchJobs(in states: [BatchJob.State]) async throws -> [BatchJob] {
        guard !states.isEmpty else { return [] }
        let names: [any Encodable & Sendable] = states.map(\.rawValue)
        return try await self.read("listing batch jobs") { database in
            try await database.rows(
                "SELECT * FROM batch_jobs WHERE state IN (\(binds: names)) ORDER BY created_at, id"
            ).map(Self.decodeBatchJob)
        }
    }

    public func finishedBatchJobs(before date: Date) async throws -> [BatchJob] {
        let names: [any Encodable & Sendable] = BatchJob.State.allCases.filter(\.isFinished).map(\.rawValue)
        return try await self.read("listing finished batch jobs") { database in
            try await database.rows(
                """
                SELECT * FROM batch_jobs
                WHERE state IN (\(binds: names)) AND finished_at < \(bind: SQLValues.microseconds(date))
                ORDER BY finished_at
                """
            ).map(Self.decodeBatchJob)
        }
    }

    public func deleteBatchJob(id: UUID) async throws {
        try await self.write("deleting a batch job") { database in
            try await database.change("DELETE FROM batch_jobs WHERE id = \(bind: SQLValues.text(id))")
        }
    }
}
