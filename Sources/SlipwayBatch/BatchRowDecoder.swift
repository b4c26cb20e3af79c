import Foundation
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime

/// A problem with a batch file as a whole (its header, its first line): the job cannot run.
public struct BatchInputError: Error, Sendable, CustomStringConvertible {
    /// The place: `file`, `columns`, `format`, ….
    public var field: String
    /// What was wrong and what was expected.
    public var message: String

    /// Creates an error.
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { self.message }
}

/// One input row, decoded.
public enum BatchRow: Sendable, Equatable {
    /// Named features (a CSV row under a header of schema features, a JSONL object).
    case named([String: JSONTree])
    /// Values in the model's positional order.
    case positional([JSONTree])
    /// A row that cannot be scored: the field and the problem, for the error report.
    case bad(field: String, problem: String)
}

/// Turns file records into prediction rows for one deployment.
///
/// CSV: when the deployment has a schema the header must name schema features (every required one, nothing
/// else) and rows are named; without a schema the columns are positional and the header only fixes their count.
/// Cells are typed by the schema (`string` features stay text; others are parsed as numbers or booleans); an empty
/// cell is a missing value. JSONL: each line is `{"features": {…}}`, `{"ndarray": […]}`, a bare object (named) or a
/// bare array (positional).
public struct BatchRowDecoder: Sendable {
    let schema: FeatureSchema?
    let format: BatchJob.Format
    /// The CSV header's column names, when rows are named.
    let names: [String]?
    /// The CSV column count.
    let columnCount: Int?

    /// Checks the CSV `header` (nil for JSONL) against `schema`.
    public init(schema: FeatureSchema?, format: BatchJob.Format, header: [String]?) throws {
        self.schema = schema
        self.format = format
        guard format == .csv else {
            self.names = nil
            self.columnCount = nil
            return
        }
        guard let header, !header.isEmpty else {
            throw BatchInputError("file", "the CSV file needs a header row naming its columns")
        }
        let trimmed = header.map { $0.trimmingCharacters(in: .whitespaces) }
        self.columnCount = trimmed.count
        guard let schema else {
            self.names = nil
            return
        }
        var seen: Set<String> = []
        for name in trimmed {
            guard schema.features[name] != nil else {
                throw BatchInputError(
                    "columns",
                    "column '\(name)' is not a feature of the schema; expected columns named after the features: \(schema.features.keys.sorted().joined(separator: ", "))"
                )
            }
            guard seen.insert(name).inserted else {
                throw BatchInputError("columns", "column '\(name)' appears twice in the header")
            }
        }
        let missing = schema.features.values.filter { $0.isRequired && !seen.contains($0.name) }.map(\.name).sorted()
        guard missing.isEmpty else {
            throw BatchInputError(
                "columns",
                "the header lacks the required feature column(s) \(missing.joined(separator: ", "))"
            )
        }
        self.names = trimmed
    }

    /// Decodes one record.
    public func decode(_ record: BatchRecordReader.Record) -> BatchRow {
        switch record {
        case .malformed(let problem):
            return .bad(field: self.format == .csv ? "row" : "line", problem: problem)
        case .fields(let cells):
            if let count = self.columnCount, cells.count != count {
                return .bad(field: "columns", problem: "expected \(count) columns as in the header, got \(cells.count)")
            }
            if let names = self.names {
                var values: [String: JSONTree] = [:]
                for (name, cell) in zip(names, cells) where !cell.isEmpty {
                    values[name] = Self.cell(cell, type: self.schema?.features[name]?.type)
                }
                return .named(values)
            }
            return .positional(cells.map { $0.isEmpty ? .null : Self.cell($0, type: nil) })
        case .line(let text):
            let value: JSONValue
            do {
                value = try JSONValue.parse(text)
            } catch {
                return .bad(field: "line", problem: "the line is not valid JSON")
            }
            switch value {
            case .object(let members):
                if members.count == 1, members[0].0 == "features" {
                    guard case .object(let features) = members[0].1 else {
                        return .bad(field: "features", problem: "features must be an object of feature values")
                    }
                    return .named(Self.object(features))
                }
                if members.count == 1, members[0].0 == "ndarray" {
                    guard case .array(var values) = members[0].1 else {
                        return .bad(field: "ndarray", problem: "ndarray must be a list of values")
                    }
                    if values.count == 1, case .array(let inner) = values[0] { values = inner }
                    return .positional(values.map(Self.tree))
                }
                return .named(Self.object(members))
            case .array(var values):
                if values.count == 1, case .array(let inner) = values[0] { values = inner }
                return .positional(values.map(Self.tree))
            default:
                return .bad(field: "line", problem: "each line must be a JSON object (features) or array (ndarray)")
            }
        }
    }

    static func object(_ members: [(String, JSONValue)]) -> [String: JSONTree] {
        Dictionary(members.map { ($0.0, Self.tree($0.1)) }, uniquingKeysWith: { $1 })
    }

    /// A CSV cell as a JSON value, typed by the feature's rule.
    static func cell(_ text: String, type: FeatureSchema.FeatureType?) -> JSONTree {
        switch type {
        case .string:
            return .string(text)
        case .boolean:
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return .string(text)
            }
        case .float, .integer, .number, nil:
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if let integer = Int64(trimmed) { return .integer(integer) }
            if let number = Double(trimmed) { return .number(number) }
            return .string(text)
        }
    }

    static func tree(_ value: JSONValue) -> JSONTree {
        switch value {
        case .null: .null
        case .bool(let value): .bool(value)
        case .int(let value): .integer(value)
        case .double(let value): .number(value)
        case .float(let value): .number(Double(value))
        case .string(let value): .string(value)
        case .array(let values): .array(values.map(Self.tree))
        case .object(let members): .object(Self.object(members))
        }
    }
}
