import PostgresKit
import SQLiteKit
import SlipwayRegistry

/// Classifies driver errors and turns them into ``RegistryError``s without leaking SQL text.
enum DatabaseErrors {
    /// What a failed statement ran into.
    enum Kind: Equatable {
        case uniqueViolation
        case foreignKeyViolation
        case other
    }

    /// The kind of a driver error.
    static func kind(of error: any Error) -> Kind {
        if let error = error as? SQLiteError {
            switch error.reason {
            case .constraintUniqueFailed, .constraintPrimaryKeyFailed: return .uniqueViolation
            case .constraintForeignKeyFailed: return .foreignKeyViolation
            default: return .other
            }
        }
        if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] {
            switch state {
            case "23505": return .uniqueViolation
            case "23503": return .foreignKeyViolation
            default: return .other
            }
        }
        return .other
    }

    /// Whether retrying the whole transaction may succeed (PostgreSQL deadlock or serialisation failure).
    /// Whether SQLite gave up waiting for another connection's (or process's) write lock.
    static func isBusy(_ error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        switch error.reason {
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked: return true
        default: return false
        }
    }

    static func isTransient(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }

    /// A one-line description of a driver error: the database's own message, never the statement.
    static func summary(of error: any Error) -> String {
        if let error = error as? SQLiteError {
            return "SQLite: \(error.message)"
        }
        if let error = error as? PSQLError {
            if let info = error.serverInfo {
                let state = info[.sqlState].map { " (\($0))" } ?? ""
                return "PostgreSQL: \(info[.message] ?? "error")\(state)"
            }
            return "PostgreSQL: \(error.code)"
        }
        return "\(error)"
    }

    /// `error` unchanged when it is already a ``RegistryError``, else a ``RegistryError/Code/storageFailure``
    /// saying what was being done.
    static func registryError(_ error: any Error, while doing: String) -> RegistryError {
        if let error = error as? RegistryError { return error }
        return RegistryError(
            .storageFailure,
            "database failure while \(doing): \(self.summary(of: error))",
            cause: error
        )
    }
}
