import Foundation
import SlipwayRegistry
import SlipwayStorage
import Testing

/// A backend the contract suite runs against.
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// `SLIPWAY_TEST_POSTGRES_URL`, when set (start a server with `scripts/postgres.sh`).
    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["SLIPWAY_TEST_POSTGRES_URL"], !url.isEmpty else {
            return nil
        }
        return url
    }

    /// Why the PostgreSQL cases are skipped.
    static let postgresSkipReason: Comment =
        "SLIPWAY_TEST_POSTGRES_URL is not set: PostgreSQL contract tests skipped (start a server with scripts/postgres.sh start DIR PORT)"

    var testDescription: String { self.rawValue }

    /// Runs `body` with a migrated repository on a fresh, private database, then removes the database.
    func withRepository(_ body: (SQLRegistryRepository) async throws -> Void) async throws {
        try await self.withDatabase { database in
            let repository = try await database.open()
            do {
                try await repository.migrate()
                try await body(repository)
            } catch {
                try? await repository.shutdown()
                throw error
            }
            try await repository.shutdown()
        }
    }

    /// Runs `body` with a fresh, private, empty database, then removes it.
    func withDatabase(_ body: (TestDatabase) async throws -> Void) async throws {
        let database = try await TestDatabase.make(self)
        do {
            try await body(database)
        } catch {
            await database.destroy()
            throw error
        }
        await database.destroy()
    }
}

/// A private database: an SQLite file in a temporary folder, or a PostgreSQL schema with a random name.
struct TestDatabase: Sendable {
    var backend: Backend
    /// The temporary folder (SQLite).
    var folder: URL?
    /// The schema (PostgreSQL).
    var schema: String?

    static func make(_ backend: Backend) async throws -> TestDatabase {
        switch backend {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("slipway-storage-\(UUID().uuidString.lowercased())", isDirectory: true)
            return TestDatabase(backend: backend, folder: folder, schema: nil)
        case .postgres:
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            return TestDatabase(backend: backend, folder: nil, schema: schema)
        }
    }

    /// Opens a repository on the database without migrating it.
    func open() async throws -> SQLRegistryRepository {
        switch self.backend {
        case .sqlite:
            return try await SQLRegistryRepository.makeSQLite(
                path: self.folder!.appendingPathComponent("slipway.sqlite").path,
                logger: SQLRegistryRepository.quietLogger
            )
        case .postgres:
            guard let url = Backend.postgresURL else { throw TestSkip() }
            return try await SQLRegistryRepository.makePostgres(
                url: url,
                schema: self.schema,
                connectionsPerEventLoop: 4,
                logger: SQLRegistryRepository.quietLogger
            )
        }
    }

    /// Removes the folder or drops the schema.
    func destroy() async {
        switch self.backend {
        case .sqlite:
            if let folder = self.folder { try? FileManager.default.removeItem(at: folder) }
        case .postgres:
            guard let url = Backend.postgresURL, let schema = self.schema else { return }
            guard
                let admin = try? await SQLRegistryRepository.makePostgres(
                    url: url,
                    schema: nil,
                    connectionsPerEventLoop: 1,
                    logger: SQLRegistryRepository.quietLogger
                )
            else { return }
            try? await admin.execute(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE")
            try? await admin.shutdown()
        }
    }
}

/// Thrown when a PostgreSQL case runs without a server (the suite's trait normally prevents that).
struct TestSkip: Error, CustomStringConvertible {
    var description: String { "SLIPWAY_TEST_POSTGRES_URL is not set" }
}

/// Expects `body` to throw a ``RegistryError`` with `code`, and returns it.
@discardableResult
func expectRegistryError<R>(
    _ code: RegistryError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> R
) async -> RegistryError? {
    do {
        _ = try await body()
        Issue.record("expected a \(code) error, but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RegistryError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a RegistryError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
