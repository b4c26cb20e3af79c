@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit

/// Pooled connections to one database, with the transaction discipline every repository change uses.
///
/// `read` lends a connection for plain queries; `write` wraps the body in a transaction that commits when the body
/// returns and rolls back when it throws. PostgreSQL deadlock and serialisation failures are retried a few times
/// (the rolled-back transaction changed nothing); SQLite writers of this process queue on an ``AsyncLock``.
final class SQLConnectionPool<Source: ConnectionPoolSource & SendableMetatype>: Sendable
where Source.Connection: Sendable {
    /// The backend's SQL differences.
    let dialect: SQLDialect
    // `EventLoopGroupConnectionPool` predates `Sendable` annotations; it is thread-safe (a lock plus one pool per
    // event loop that hops onto its loop), which is what `@preconcurrency` relies on here.
    private let pool: EventLoopGroupConnectionPool<Source>
    private let makeDatabase: @Sendable (Source.Connection) -> any SQLDatabase
    private let writeLock: AsyncLock?
    private let threadPool: NIOThreadPool?
    private let logger: Logger

    /// How many times a write is attempted when PostgreSQL aborts it for a deadlock or serialisation failure.
    private static var writeAttempts: Int { 3 }

    /// Creates a pool; connections open lazily.
    init(
        dialect: SQLDialect,
        source: Source,
        connectionsPerEventLoop: Int,
        eventLoopGroup: any EventLoopGroup,
        serializeWrites: Bool,
        threadPool: NIOThreadPool?,
        logger: Logger,
        makeDatabase: @escaping @Sendable (Source.Connection) -> any SQLDatabase
    ) {
        self.dialect = dialect
        self.pool = EventLoopGroupConnectionPool(
            source: source,
            maxConnectionsPerEventLoop: connectionsPerEventLoop,
            requestTimeout: .seconds(30),
            logger: logger,
            on: eventLoopGroup
        )
        self.makeDatabase = makeDatabase
        self.writeLock = serializeWrites ? AsyncLock() : nil
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Runs `body` with a pooled connection, outside any explicit transaction.
    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await self.pool.withConnection(logger: self.logger) { connection in
            connection.eventLoop.makeFutureWithTask {
                try await body(self.makeDatabase(connection))
            }
        }.get()
    }

    /// Runs `body` in one write transaction: committed if it returns, rolled back if it throws.
    func write<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await self.writeConnection { database, _ in try await body(database) }
    }

    /// Runs `body` in one write transaction on the SQLite connection itself, for statements whose binds are made
    /// without SQLKit; `nil` (and nothing run) on other backends.
    func writeSQLite<R: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) async throws -> R) async throws -> R? {
        guard Source.Connection.self == SQLiteConnection.self else { return nil }
        return try await self.writeConnection { _, connection in
            // Always succeeds: the connection type was checked above.
            guard let connection = connection as? SQLiteConnection else { return nil }
            return try await body(connection)
        }
    }

    /// Runs `body` in one write transaction, with the connection both as an `SQLDatabase` and as itself.
    private func writeConnection<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase, Source.Connection) async throws -> R
    ) async throws -> R {
        if let writeLock = self.writeLock {
            return try await writeLock.withLock { try await self.transaction(body) }
        }
        var attempt = 1
        while true {
            do {
                return try await self.transaction(body)
            } catch let error where attempt < Self.writeAttempts && DatabaseErrors.isTransient(error) {
                self.logger.debug(
                    "retrying a transaction aborted by the database",
                    metadata: ["attempt": "\(attempt)", "error": "\(DatabaseErrors.summary(of: error))"]
                )
                attempt += 1
            }
        }
    }

    private func transaction<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase, Source.Connection) async throws -> R
    ) async throws -> R {
        let begin = self.dialect.beginWriteTransaction
        return try await self.pool.withConnection(logger: self.logger) { connection in
            connection.eventLoop.makeFutureWithTask {
                let database = self.makeDatabase(connection)
                try await database.raw(begin).run()
                do {
                    let result = try await body(database, connection)
                    try await database.raw("COMMIT").run()
                    return result
                } catch {
                    do {
                        try await database.raw("ROLLBACK").run()
                    } catch {
                        // A connection left inside a transaction must not go back to the pool.
                        try? await connection.close().get()
                    }
                    throw error
                }
            }
        }.get()
    }

    /// Closes every connection, then the thread pool the connections ran on (SQLite).
    func shutdown() async throws {
        try await self.pool.shutdownAsync()
        try await self.threadPool?.shutdownGracefully()
    }
}

/// What the repository needs from a pool, whatever the backend's connection type.
protocol SQLDatabaseAccess: Sendable {
    /// The backend's SQL differences.
    var dialect: SQLDialect { get }
    /// Runs `body` with a pooled connection, outside any explicit transaction.
    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Runs `body` in one write transaction: committed if it returns, rolled back if it throws.
    func write<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Runs `body` in one write transaction on the SQLite connection itself; `nil` (and nothing run) on other
    /// backends.
    func writeSQLite<R: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) async throws -> R) async throws -> R?
    /// Closes every connection.
    func shutdown() async throws
}

extension SQLConnectionPool: SQLDatabaseAccess {}
