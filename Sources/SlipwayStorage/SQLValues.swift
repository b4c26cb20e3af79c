import Foundation
import SQLKit
import SlipwayRegistry

/// How domain values are stored: timestamps as BIGINT microseconds since 1970, UUIDs as lowercase TEXT, Booleans
/// as BIGINT 0/1, structured fields as JSON TEXT.
enum SQLValues {
    /// Microseconds since 1970, rounded to the nearest microsecond.
    static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The date `microseconds` after 1970.
    static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// The lowercase text form of a UUID.
    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }

    /// A Boolean as 0 or 1.
    static func flag(_ value: Bool) -> Int64 { value ? 1 : 0 }

    /// JSON text for a value (keys sorted, so equal values store equal text).
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Escapes `%`, `_` and the escape character `!` for `LIKE … ESCAPE '!'`.
    static func likeEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "!" { escaped.append("!") }
            escaped.append(character)
        }
        return escaped
    }
}

extension SQLRow {
    /// A non-null TEXT column.
    func string(_ column: String) throws -> String {
        try self.decode(column: column, as: String.self)
    }

    /// A nullable TEXT column.
    func optionalString(_ column: String) throws -> String? {
        try self.decodeNil(column: column) ? nil : self.decode(column: column, as: String.self)
    }

    /// A non-null integer column.
    func int64(_ column: String) throws -> Int64 {
        try self.decode(column: column, as: Int64.self)
    }

    /// A nullable integer column.
    func optionalInt64(_ column: String) throws -> Int64? {
        try self.decodeNil(column: column) ? nil : self.decode(column: column, as: Int64.self)
    }

    /// A non-null integer column as `Int`.
    func int(_ column: String) throws -> Int {
        Int(try self.int64(column))
    }

    /// A nullable integer column as `Int`.
    func optionalInt(_ column: String) throws -> Int? {
        try self.optionalInt64(column).map { Int($0) }
    }

    /// A 0/1 column.
    func bool(_ column: String) throws -> Bool {
        try self.int64(column) != 0
    }

    /// A non-null microsecond timestamp column.
    func date(_ column: String) throws -> Date {
        SQLValues.date(microseconds: try self.int64(column))
    }

    /// A nullable microsecond timestamp column.
    func optionalDate(_ column: String) throws -> Date? {
        try self.optionalInt64(column).map { SQLValues.date(microseconds: $0) }
    }

    /// A non-null UUID column.
    func uuid(_ column: String) throws -> UUID {
        let text = try self.string(column)
        guard let id = UUID(uuidString: text) else {
            throw RegistryError(.storageFailure, "column \(column) holds '\(text)', which is not a UUID")
        }
        return id
    }

    /// A nullable UUID column.
    func optionalUUID(_ column: String) throws -> UUID? {
        try self.decodeNil(column: column) ? nil : self.uuid(column)
    }

    /// A JSON TEXT column decoded as `type`.
    func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        let text = try self.string(column)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw RegistryError(.storageFailure, "column \(column) holds JSON that does not decode: \(error)")
        }
    }

    /// A nullable JSON TEXT column decoded as `type`.
    func optionalJSON<T: Decodable>(_ column: String, as type: T.Type) throws -> T? {
        try self.decodeNil(column: column) ? nil : self.json(column, as: T.self)
    }

    /// An actor stored in three columns `<prefix>_kind`, `<prefix>_id`, `<prefix>_name`.
    func actor(_ prefix: String) throws -> ActivityActor {
        let kindText = try self.string("\(prefix)_kind")
        guard let kind = ActivityActor.Kind(rawValue: kindText) else {
            throw RegistryError(.storageFailure, "column \(prefix)_kind holds unknown actor kind '\(kindText)'")
        }
        return ActivityActor(kind: kind, id: try self.string("\(prefix)_id"), name: try self.string("\(prefix)_name"))
    }

    /// A TEXT column holding a raw value of `T`.
    func enumeration<T: RawRepresentable>(_ column: String, as type: T.Type) throws -> T where T.RawValue == String {
        let text = try self.string(column)
        guard let value = T(rawValue: text) else {
            throw RegistryError(.storageFailure, "column \(column) holds unknown value '\(text)'")
        }
        return value
    }
}
