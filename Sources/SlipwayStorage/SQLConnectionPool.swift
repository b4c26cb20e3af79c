@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SlipwayRegistry

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
    /// Connections whose statements run on a thread of lower priority, for ``WritePriority/background`` writes
    /// (SQLite); `nil` where every write runs at normal priority.
    private let backgroundPool: EventLoopGroupConnectionPool<Source>?
    /// The background connections' thread (SQLite).
    private let backgroundThreads: NIOThreadPool?
    private let makeDatabase: @Sendable (Source.Connection) -> any SQLDatabase
    private let writeLock: AsyncLock?
    private let threadPool: NIOThreadPool?
    private let logger: Logger

    /// How many times a write is attempted when PostgreSQL aborts it for a deadlock or serialisation failure.
    private static var writeAttempts: Int { 3 }

    /// Creates a pool; connections open lazily.
    ///
    /// - Parameter background: where background writes' connections come from (one per event loop) and the thread
    ///   their statements run on; `nil` runs them as other writes. Shut down with the pool.
    init(
        dialect: SQLDialect,
        source: Source,
        connectionsPerEventLoop: Int,
        eventLoopGroup: any EventLoopGroup,
        serializeWrites: Bool,
        threadPool: NIOThreadPool?,
        background: (source: Source, threads: NIOThreadPool)? = nil,
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
        self.backgroundPool = background.map { background in
            EventLoopGroupConnectionPool(
                source: background.source,
                maxConnectionsPerEventLoop: 1,
                requestTimeout: .seconds(30),
                logger: logger,
                on: eventLoopGroup
            )
        }
        self.backgroundThreads = background?.threads
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

    /// Runs `body` in one write transaction at `priority`: committed if it returns, rolled back if it throws.
    func write<R: Sendable>(
        priority: WritePriority,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws -> R {
        try await self.writeConnection(priority: priority) { database, _ in try await body(database) }
    }

    /// Runs `body` in one write transaction at `priority` on the SQLite connection itself, for statements whose binds
    /// are made without SQLKit; `nil` (and nothing run) on other backends.
    func writeSQLite<R: Sendable>(
        priority: WritePriority,
        _ body: @escaping @Sendable (SQLiteConnection) async throws -> R
    ) async throws -> R? {
        guard Source.Connection.self == SQLiteConnection.self else { return nil }
        return try await self.writeConnection(priority: priority) { _, connection in
            // Always succeeds: the connection type was checked above.
            guard let connection = connection as? SQLiteConnection else { return nil }
            return try await body(connection)
        }
    }

    /// Runs `body` in one write transaction, with the connection both as an `SQLDatabase` and as itself.
    private func writeConnection<R: Sendable>(
        priority: WritePriority,
        _ body: @escaping @Sendable (any SQLDatabase, Source.Connection) async throws -> R
    ) async throws -> R {
        let pool = priority == .background ? self.backgroundPool ?? self.pool : self.pool
        if let writeLock = self.writeLock {
            return try await writeLock.withLock { try await self.transaction(on: pool, body) }
        }
        var attempt = 1
        while true {
            do {
                return try await self.transaction(on: pool, body)
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
        on pool: EventLoopGroupConnectionPool<Source>,
        _ body: @escaping @Sendable (any SQLDatabase, Source.Connection) async throws -> R
    ) async throws -> R {
        let begin = self.dialect.beginWriteTransaction
        return try await pool.withConnection(logger: self.logger) { connection in
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

    /// Closes every connection, then the thread pools the connections ran on (SQLite).
    func shutdown() async throws {
        try await self.pool.shutdownAsync()
        try await self.backgroundPool?.shutdownAsync()
        try await self.threadPool?.shutdownGracefully()
        try await self.backgroundThreads?.shutdownGracefully()
    }

    /// The nice value of the thread that background writes' statements run on (Linux), for tests; `nil` without one.
    func backgroundNiceness() async throws -> Int32? {
        guard let threads = self.backgroundThreads else { return nil }
        return try await threads.runIfActive { ThreadPriority.currentNiceness() }
    }
}

/// What the repository needs from a pool, whatever the backend's connection type.
protocol SQLDatabaseAccess: Sendable {
    /// The backend's SQL differences.
    var dialect: SQLDialect { get }
    /// Runs `body` with a pooled connection, outside any explicit transaction.
    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Runs `body` in one write transaction at `priority`: committed if it returns, rolled back if it throws.
    func write<R: Sendable>(
        priority: WritePriority,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws -> R
    /// Runs `body` in one write transaction at `priority` on the SQLite connection itself; `nil` (and nothing run) on
    /// other backends.
    func writeSQLite<R: Sendable>(
        priority: WritePriority,
        _ body: @escaping @Sendable (SQLiteConnection) async throws -> R
    ) async throws -> R?
    /// The nice value of the thread background writes run on, for tests; `nil` without one.
    func backgroundNiceness() async throws -> Int32?
    /// Closes every connection.
    func shutdown() async throws
}

extension SQLConnectionPool: SQLDatabaseAccess {}
