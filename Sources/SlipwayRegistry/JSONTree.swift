import Foundation

/// A parsed JSON value that keeps booleans, numbers and `null` apart (used to check deployment metadata).
enum JSONTree: Decodable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONTree].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONTree].self))
        }
    }

    /// Parses `text`, throwing invalidInput naming `field` when it is not JSON.
    static func parse(_ text: String, field: String, limit: Int) throws -> JSONTree {
        guard text.utf8.count <= limit else {
            throw RegistryError.invalid(field, "\(field) must be at most \(limit) bytes of JSON")
        }
        do {
            return try JSONDecoder().decode(JSONTree.self, from: Data(text.utf8))
        } catch {
            throw RegistryError.invalid(field, "\(field) is not valid JSON")
        }
    }

    var object: [String: JSONTree]? {
        if case .object(let value) = self { return value }
        return nil
    }

    var array: [JSONTree]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
