import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import SlipwayRegistry

/// The registry's SQL storage: one implementation of ``RegistryRepository`` over SQLite (the embedded default) and
/// PostgreSQL (several nodes sharing one database).
///
/// Every change runs in one transaction together with its activity event. Deployment versions come from a
/// per-environment counter bumped inside the insert's transaction, so concurrent deploys never share or skip a
/// number. SQLite runs in WAL mode with a small connection pool; this process's writers queue for SQLite's single
/// write lock, and other processes wait on `busy_timeout`.
///
/// ```swift
/// let repository = try await SQLRegistryRepository.makeSQLite(path: "slipway-data/slipway.sqlite", logger: logger)
/// try await repository.migrate()
/// let model = try await repository.model(owner: "acme", name: "churn")
/// try await repository.shutdown()
/// ```
public final class SQLRegistryRepository: RegistryRepository {
    let database: any SQLDatabaseAccess
    let logger: Logger
    /// The PostgreSQL schema the repository lives in, when not the default one (tests).
    let schema: String?

    var dialect: SQLDialect { self.database.dialect }

    init(database: any SQLDatabaseAccess, schema: String?, logger: Logger) {
        self.database = database
        self.schema = schema
        self.logger = logger
    }

    /// Opens (creating if needed) an SQLite database file. Call ``migrate()`` before using it.
    ///
    /// - Parameters:
    ///   - path: The database file; its folder is created if missing. WAL mode adds `-wal` and `-shm` files
    ///     next to it.
    ///   - logger: Receives connection and query logs (queries at trace level).
    public static func makeSQLite(path: String, logger: Logger) async throws -> SQLRegistryRepository {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RegistryError(
                .storageFailure,
                "cannot create the database folder \(folder.path): \(error)",
                cause: error
            )
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoops = Array(group.makeIterator()).count
        let connectionsPerEventLoop = max(2, 8 / max(1, eventLoops))
        // One thread per connection: a query never waits for a thread that another connection's query holds.
        let threadPool = NIOThreadPool(numberOfThreads: connectionsPerEventLoop * eventLoops)
        threadPool.start()
        // Background writes (the per-request records, while the server has cores to spare) run their statements on a
        // thread of their own at lower priority, which the network threads preempt (``WritePriority/background``).
        let backgroundThreads = NIOThreadPool(numberOfThreads: 1)
        backgroundThreads.start()
        do {
            try await backgroundThreads.runIfActive {
                ThreadPriority.makeCurrentThreadBackground(named: "slipway-sql-bg")
            }
        } catch {
            try? await threadPool.shutdownGracefully()
            try? await backgroundThreads.shutdownGracefully()
            throw RegistryError(
                .storageFailure,
                "cannot start the database's background thread: \(error)",
                cause: error
            )
        }
        let pool = SQLConnectionPool(
            dialect: .sqlite,
            source: SQLiteFileSource(path: path, threadPool: threadPool),
            connectionsPerEventLoop: connectionsPerEventLoop,
            eventLoopGroup: group,
            serializeWrites: true,
            threadPool: threadPool,
            background: (SQLiteFileSource(path: path, threadPool: backgroundThreads), backgroundThreads),
            logger: logger
        ) { connection in
            connection.sql(queryLogLevel: .trace)
        }
        let repository = SQLRegistryRepository(database: pool, schema: nil, logger: logger)
        do {
            try await repository.ping()
        } catch {
            try? await pool.shutdown()
            throw error
        }
        return repository
    }

    /// Connects to PostgreSQL. Call ``migrate()`` before using it.
    ///
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`.
    ///   - logger: Receives connection and query logs (queries at trace level).
    public static func makePostgres(url: String, logger: Logger) async throws -> SQLRegistryRepository {
        try await self.makePostgres(url: url, schema: nil, logger: logger)
    }

    /// Connects to PostgreSQL with every connection's `search_path` set to `schema`, which ``migrate()`` creates
    /// if missing (used by tests to isolate each case).
    package static func makePostgres(
        url: String,
        schema: String?,
        connectionsPerEventLoop: Int = 4,
        logger: Logger
    ) async throws -> SQLRegistryRepository {
        let configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw RegistryError.invalid(
                "database_url",
                "database URL is not a valid postgres://user@host:port/database URL"
            )
        }
        var sqlConfiguration = configuration
        if let schema { sqlConfiguration.searchPath = [schema] }
        let pool = SQLConnectionPool(
            dialect: .postgres,
            source: PostgresConnectionSource(sqlConfiguration: sqlConfiguration),
            connectionsPerEventLoop: connectionsPerEventLoop,
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            serializeWrites: false,
            threadPool: nil,
            logger: logger
        ) { connection in
            connection.sql(queryLogLevel: .trace)
        }
        let repository = SQLRegistryRepository(database: pool, schema: schema, logger: logger)
        do {
            try await repository.ping()
        } catch {
            try? await pool.shutdown()
            throw error
        }
        return repository
    }

    /// A logger that only reports warnings and errors (tests).
    package static var quietLogger: Logger {
        var logger = Logger(label: "slipway.storage")
        logger.logLevel = .warning
        return logger
    }

    /// The nice value of the thread that background writes run on (Linux), for tests; `nil` without one.
    package func backgroundWriteNiceness() async throws -> Int32? {
        try await self.database.backgroundNiceness()
    }

    /// Closes the connections. The repository cannot be used afterwards.
    public func shutdown() async throws {
        try await self.database.shutdown()
    }

    // MARK: Running statements

    /// Runs `body` on a pooled connection, mapping driver errors to ``RegistryError``s.
    func read<R: Sendable>(
        _ doing: String,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws -> R {
        do {
            return try await self.database.read(body)
        } catch {
            throw DatabaseErrors.registryError(error, while: doing)
        }
    }

    /// Runs `body` in one write transaction at `priority`, mapping driver errors to ``RegistryError``s.
    func write<R: Sendable>(
        _ doing: String,
        priority: WritePriority = .normal,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws -> R {
        do {
            return try await self.database.write(priority: priority, body)
        } catch {
            throw DatabaseErrors.registryError(error, while: doing)
        }
    }

    // MARK: Migrations and health

    public func migrate() async throws {
        // Several processes starting on one SQLite file migrate one after the other: each waits for the write lock
        // (the busy timeout, 5 s), and a migration that outlasts it on a loaded machine is waited for again, for
        // up to a minute, rather than failing the start.
        let started = ContinuousClock.now
        while true {
            do {
                return try await self.migrateOnce()
            } catch let error as RegistryError
                where error.cause.map(DatabaseErrors.isBusy) == true && ContinuousClock.now - started < .seconds(60)
            {
                self.logger.info("another process is migrating the database; waiting for it")
            }
        }
    }

    private func migrateOnce() async throws {
        let dialect = self.dialect
        let schema = self.schema
        let applied = try await self.write("migrating the schema") { database in
            if let lock = dialect.migrationLock { try await database.raw(lock).run() }
            if let schema { try await database.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run() }
            try await database.raw(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """
            ).run()
            let done = Set(
                try await database.raw("SELECT version FROM schema_migrations").all().map { try $0.int64("version") }
            )
            var applied: [Int64] = []
            for migration in Migration.all where !done.contains(migration.version) {
                for statement in migration.statements(dialect) {
                    try await database.raw(SQLQueryString(statement)).run()
                }
                try await database.raw(
                    """
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: SQLValues.microseconds(Date())))
                    """
                ).run()
                applied.append(migration.version)
            }
            return applied
        }
        if !applied.isEmpty {
            self.logger.info(
                "applied database migrations",
                metadata: ["database.backend": "\(dialect.backend.rawValue)", "migrations": "\(applied)"]
            )
        }
    }

    public func ping() async throws {
        _ = try await self.read("checking the database connection") { database in
            try await database.raw("SELECT 1 AS one").all()
        }
    }

    /// Runs one statement outside any transaction (tests: creating and dropping schemas).
    package func execute(unsafeSQL sql: String) async throws {
        _ = try await self.read("running a statement") { database in
            try await database.raw(SQLQueryString(sql)).run()
        }
    }
}

/// Opens SQLite connections to one file with the pragmas the repository relies on.
struct SQLiteFileSource: ConnectionPoolSource {
    /// The database file.
    var path: String
    /// Where libsqlite3 calls run.
    var threadPool: NIOThreadPool

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        eventLoop.makeFutureWithTask { [path, threadPool] in
            let connection = try await SQLiteConnection.open(
                storage: .file(path: path),
                threadPool: threadPool,
                logger: logger,
                on: eventLoop
            )
            do {
                // busy_timeout replaces sqlite-nio's busy handler, which retries forever without sleeping.
                for pragma in [
                    "PRAGMA busy_timeout = 5000",
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = NORMAL",
                    // 8 MiB of page cache (SQLite's default is 2 MiB), filled only as used: the outcome writes
                    // touch three indexes and read their pages back from the file once the cache is full.
                    "PRAGMA cache_size = -8192",
                ] {
                    _ = try await connection.query(pragma)
                }
            } catch {
                try? await connection.close()
                throw error
            }
            return connection
        }
    }
}
