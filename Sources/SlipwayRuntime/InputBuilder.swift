import SlipwayInference
import SlipwayRegistry

/// Rows as a prediction request sends them.
public enum PredictionRows: Sendable {
    /// Positional rows (`{"ndarray": [[…], …]}`).
    case ndarray([[JSONTree]])
    /// Named rows (`{"features": [{…}, …]}`); needs a schema.
    case features([[String: JSONTree]])

    /// How many rows.
    public var count: Int {
        switch self {
        case .ndarray(let rows): rows.count
        case .features(let rows): rows.count
        }
    }
}

/// One schema rule a value broke.
public struct SchemaViolation: Sendable, Hashable, Codable {
    /// 0-based row index.
    public var row: Int
    /// The feature.
    public var feature: String
    /// The rule (`type`, `allowed`, `min`, `max`, `minlength`, `maxlength`, `required`, `unknown`).
    public var rule: String
    /// What the rule expects.
    public var expected: String
    /// What was sent.
    public var got: String
}

/// Why rows could not become model inputs.
public struct PredictionInputError: Error, Sendable, CustomStringConvertible {
    /// The rows break the schema (answered as 409 with every violation).
    public var violations: [SchemaViolation]
    /// The request is malformed for this model (answered as 400), naming the field.
    public var field: String?
    /// A sentence saying what was wrong and what was expected.
    public var message: String

    /// A malformed request.
    public static func invalid(_ field: String, _ message: String) -> PredictionInputError {
        PredictionInputError(violations: [], field: field, message: message)
    }

    public var description: String { self.message }
}

/// Turns request rows into engine inputs, validating them against the schema and the model's declared inputs.
///
/// Two model layouts are supported, as scikit-learn exports produce them: one 2-D input `[N, F]` whose columns
/// follow the schema's `ndarray` order, or one `[N, 1]` input per feature, named like the features (mixed numeric
/// and string columns). `features` rows are placed in positional order through the schema.
public enum InputBuilder {
    /// Validates `rows` and builds the inputs of `model`'s session.
    ///
    /// - Throws: ``PredictionInputError``: schema violations (all of them, row by row), or a shape or type problem.
    public static func inputs(for model: PreparedModel, rows: PredictionRows) throws -> [String: Tensor] {
        guard rows.count > 0 else {
            throw PredictionInputError.invalid(self.field(rows), "\(self.field(rows)) must hold at least one row")
        }
        let declared = model.session.model.inputs
        let order = self.order(schema: model.schema, inputs: declared)
        // 1. Positional rows.
        var table: [[JSONTree]]
        switch rows {
        case .ndarray(let ndarray):
            table = ndarray
            if let schema = model.schema, let order {
                try self.validate(positional: ndarray, order: order, schema: schema)
            }
        case .features(let named):
            guard let schema = model.schema else {
                throw PredictionInputError.invalid(
                    "features",
                    "this deployment has no schema, so it takes ndarray rows only"
                )
            }
            guard let order else {
                throw PredictionInputError.invalid(
                    "features",
                    "this deployment's schema has no ndarray order to place features in; send ndarray rows"
                )
            }
            try self.validate(named: named, schema: schema)
            table = named.map { row in order.map { row[$0] ?? .null } }
        }
        // 2. Tensors for the model's inputs.
        let width = table[0].count
        for (index, row) in table.enumerated() where row.count != width {
            throw PredictionInputError.invalid(
                "ndarray[\(index)]",
                "row \(index) has \(row.count) values; every row must have \(width) like the first"
            )
        }
        if declared.count == 1, let input = declared.first {
            if let expected = self.columns(of: input), expected != width {
                throw PredictionInputError.invalid(
                    self.field(rows),
                    "the model's input '\(input.name)' takes \(expected) values per row, got \(width)"
                )
            }
            let tensor = try self.tensor(for: input, columns: Array(0..<width), table: table, names: order)
            return [input.name: tensor]
        }
        guard width == declared.count else {
            throw PredictionInputError.invalid(
                self.field(rows),
                "the model takes \(declared.count) inputs (\(declared.map(\.name).joined(separator: ", "))), one value each per row; got \(width) values per row"
            )
        }
        var result: [String: Tensor] = [:]
        for (position, input) in declared.enumerated() {
            let column = order?.firstIndex(of: input.name) ?? position
            result[input.name] = try self.tensor(for: input, columns: [column], table: table, names: order)
        }
        return result
    }

    static func field(_ rows: PredictionRows) -> String {
        if case .features = rows { return "features" }
        return "ndarray"
    }

    /// The positional order: the schema's, else the model's input names when there is one input per feature.
    static func order(schema: FeatureSchema?, inputs: [ValueInfo]) -> [String]? {
        if let order = schema?.order { return order }
        if inputs.count > 1, let schema, Set(inputs.map(\.name)).isSubset(of: Set(schema.features.keys)) {
            return inputs.map(\.name)
        }
        return nil
    }

    /// The fixed column count of a 2-D input, if declared.
    static func columns(of input: ValueInfo) -> Int? {
        guard let shape = input.shape, shape.count == 2, case .fixed(let count) = shape[1] else { return nil }
        return count
    }

    static func tensor(for input: ValueInfo, columns: [Int], table: [[JSONTree]], names: [String]?) throws -> Tensor {
        let rows = table.count
        let width = columns.count
        let shape = [rows, width]
        func describe(_ row: Int, _ column: Int) -> String {
            let name = names.flatMap { column < $0.count ? $0[column] : nil }
            return name.map { "feature '\($0)' of row \(row)" } ?? "ndarray[\(row)][\(column)]"
        }
        func fail(_ row: Int, _ column: Int, _ expected: String) -> PredictionInputError {
            .invalid(
                names.flatMap { column < $0.count ? $0[column] : nil } ?? "ndarray[\(row)][\(column)]",
                "\(describe(row, column)) must be \(expected) for the model's input '\(input.name)', got \(self.render(table[row][column]))"
            )
        }
        guard let elementType = input.type.elementType else {
            throw PredictionInputError.invalid(
                self.field(.ndarray([])),
                "the model's input '\(input.name)' is not a tensor"
            )
        }
        do {
            switch elementType {
            case .float, .double:
                var values: [Double] = []
                values.reserveCapacity(rows * width)
                for row in 0..<rows {
                    for column in columns {
                        switch table[row][column] {
                        case .integer(let value): values.append(Double(value))
                        case .number(let value): values.append(value)
                        case .null: values.append(.nan)
                        default: throw fail(row, column, "a number")
                        }
                    }
                }
                return elementType == .float
                    ? try Tensor(shape: shape, floats: values.map { Float($0) })
                    : try Tensor(shape: shape, doubles: values)
            case .int64, .int32:
                var values: [Int64] = []
                values.reserveCapacity(rows * width)
                for row in 0..<rows {
                    for column in columns {
                        switch table[row][column] {
                        case .integer(let value): values.append(value)
                        case .number(let value) where value == value.rounded() && abs(value) < 9e15:
                            values.append(Int64(value))
                        default: throw fail(row, column, "an integer")
                        }
                    }
                }
                if elementType == .int64 { return try Tensor(shape: shape, int64s: values) }
                guard values.allSatisfy({ Int64(Int32.min)...Int64(Int32.max) ~= $0 }) else {
                    throw PredictionInputError.invalid(
                        self.field(.ndarray([])),
                        "a value does not fit the model's 32-bit integer input '\(input.name)'"
                    )
                }
                return try Tensor(shape: shape, int32s: values.map { Int32($0) })
            case .bool:
                var values: [Bool] = []
                for row in 0..<rows {
                    for column in columns {
                        guard case .bool(let value) = table[row][column] else {
                            throw fail(row, column, "true or false")
                        }
                        values.append(value)
                    }
                }
                return try Tensor(shape: shape, bools: values)
            case .string:
                var values: [String] = []
                for row in 0..<rows {
                    for column in columns {
                        guard case .string(let value) = table[row][column] else { throw fail(row, column, "a string") }
                        values.append(value)
                    }
                }
                return try Tensor(shape: shape, strings: values)
            }
        } catch let error as PredictionInputError {
            throw error
        } catch {
            throw PredictionInputError.invalid(
                self.field(.ndarray([])),
                "the rows do not fit the model's input '\(input.name)': \(error)"
            )
        }
    }

    // MARK: Schema validation

    static func validate(named rows: [[String: JSONTree]], schema: FeatureSchema) throws {
        var violations: [SchemaViolation] = []
        for (index, row) in rows.enumerated() {
            for name in row.keys.sorted() where schema.features[name] == nil {
                violations.append(
                    SchemaViolation(
                        row: index,
                        feature: name,
                        rule: "unknown",
                        expected: "one of the schema's features",
                        got: self.render(row[name]!)
                    )
                )
            }
            for feature in schema.features.values.sorted(by: { $0.name < $1.name }) {
                guard let value = row[feature.name], !value.isNull else {
                    if feature.isRequired {
                        violations.append(
                            SchemaViolation(
                                row: index,
                                feature: feature.name,
                                rule: "required",
                                expected: "a value",
                                got: "nothing"
                            )
                        )
                    }
                    continue
                }
                violations += self.check(value, against: feature, row: index)
            }
        }
        if !violations.isEmpty {
            throw PredictionInputError(violations: violations, field: "features", message: self.summary(violations))
        }
    }

    static func validate(positional rows: [[JSONTree]], order: [String], schema: FeatureSchema) throws {
        var violations: [SchemaViolation] = []
        for (index, row) in rows.enumerated() {
            guard row.count == order.count else {
                throw PredictionInputError.invalid(
                    "ndarray[\(index)]",
                    "row \(index) has \(row.count) values; the schema's ndarray order has \(order.count): \(order.joined(separator: ", "))"
                )
            }
            for (position, name) in order.enumerated() {
                guard let feature = schema.features[name] else { continue }
                if row[position].isNull {
                    if feature.isRequired {
                        violations.append(
                            SchemaViolation(
                                row: index,
                                feature: name,
                                rule: "required",
                                expected: "a value",
                                got: "null"
                            )
                        )
                    }
                    continue
                }
                violations += self.check(row[position], against: feature, row: index)
            }
        }
        if !violations.isEmpty {
            throw PredictionInputError(violations: violations, field: "ndarray", message: self.summary(violations))
        }
    }

    static func summary(_ violations: [SchemaViolation]) -> String {
        let first = violations[0]
        let more = violations.count > 1 ? " (and \(violations.count - 1) more)" : ""
        return
            "row \(first.row), feature '\(first.feature)': \(first.rule) expects \(first.expected), got \(first.got)\(more)"
    }

    static func check(_ value: JSONTree, against feature: FeatureSchema.Feature, row: Int) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        func add(_ rule: String, _ expected: String) {
            violations.append(
                SchemaViolation(
                    row: row,
                    feature: feature.name,
                    rule: rule,
                    expected: expected,
                    got: self.render(value)
                )
            )
        }
        if case .number(let number) = value, !number.isFinite {
            add("type", "a finite number")
            return violations
        }
        if let type = feature.type {
            let matches: Bool
            switch (type, value) {
            case (.float, .integer), (.float, .number), (.number, .integer), (.number, .number): matches = true
            case (.integer, .integer): matches = true
            case (.integer, .number(let number)): matches = number == number.rounded()
            case (.string, .string), (.boolean, .bool): matches = true
            default: matches = false
            }
            if !matches {
                add("type", type.rawValue)
                return violations
            }
        }
        if let allowed = feature.allowed, !allowed.contains(where: { self.equal($0, value) }) {
            add("allowed", "one of " + allowed.map(self.render).joined(separator: ", "))
        }
        if let number = value.number {
            if let minimum = feature.minimum, number < minimum {
                add("min", "at least \(self.render(number: minimum))")
            }
            if let maximum = feature.maximum, number > maximum { add("max", "at most \(self.render(number: maximum))") }
        }
        if case .string(let text) = value {
            if let minimum = feature.minimumLength, text.count < minimum {
                add("minlength", "at least \(minimum) characters")
            }
            if let maximum = feature.maximumLength, text.count > maximum {
                add("maxlength", "at most \(maximum) characters")
            }
        }
        return violations
    }

    static func equal(_ left: JSONTree, _ right: JSONTree) -> Bool {
        if let a = left.number, let b = right.number { return a == b }
        return left == right
    }

    static func render(number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    /// A value as JSON text, shortened for messages.
    public static func render(_ value: JSONTree) -> String {
        let text: String
        switch value {
        case .null: text = "null"
        case .bool(let value): text = value ? "true" : "false"
        case .integer(let value): text = String(value)
        case .number(let value): text = self.render(number: value)
        case .string(let value): text = "\"\(value)\""
        case .array(let values): text = "[" + values.map(self.render).joined(separator: ", ") + "]"
        case .object: text = "an object"
        }
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
