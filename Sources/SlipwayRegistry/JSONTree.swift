import Foundation

/// A parsed JSON value that keeps booleans, integers, other numbers and `null` apart.
///
/// The registry checks deployment metadata with it; the API re-encodes stored JSON text with it (object keys are
/// written exactly as they were sent).
public enum JSONTree: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
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

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .object(let values):
            var container = encoder.container(keyedBy: VerbatimKey.self)
            for (key, value) in values { try container.encode(value, forKey: VerbatimKey(key)) }
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let value): try container.encode(value)
            case .integer(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            case .array, .object: break
            }
        }
    }

    /// Parses `text`, throwing invalidInput naming `field` when it is not JSON or longer than `limit` bytes.
    public static func parse(_ text: String, field: String, limit: Int) throws -> JSONTree {
        guard text.utf8.count <= limit else {
            throw RegistryError.invalid(field, "\(field) must be at most \(limit) bytes of JSON")
        }
        do {
            return try JSONDecoder().decode(JSONTree.self, from: Data(text.utf8))
        } catch {
            throw RegistryError.invalid(field, "\(field) is not valid JSON")
        }
    }

    /// The members, if this is an object.
    public var object: [String: JSONTree]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var array: [JSONTree]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The text, if this is a string.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value of an integer or another number.
    public var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

/// A coding key used exactly as written (JSON object members, unknown-field checks).
public struct VerbatimKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }

    /// A key for `string`.
    public init(_ string: String) { self.stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
