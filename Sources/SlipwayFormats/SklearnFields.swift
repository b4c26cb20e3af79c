import SlipwayInference

/// Reads the fitted attributes of one th-sklearn-json object, with errors that name the field and what was expected.
struct SklearnFields {
    /// The largest number of values one array field may hold.
    static let maximumElements = 1 << 22
    /// The largest feature count accepted.
    static let maximumFeatures = 100_000

    var members: JSONValue
    /// Prefix for field names in errors (`params.` for the hyper-parameters).
    var path: String

    init(_ value: JSONValue, path: String = "") throws {
        guard case .object = value else {
            throw FormatError("\(path.isEmpty ? "model.json" : "field '\(path.dropLast())'") must be an object")
        }
        self.members = value
        self.path = path
    }

    /// The field's path, quoted for messages: `'params.kernel'`.
    func name(_ key: String) -> String { "'\(self.path)\(key)'" }

    func value(_ key: String) throws -> JSONValue {
        guard let value = self.members[key] else { throw FormatError("field \(self.name(key)) is missing") }
        return value
    }

    func has(_ key: String) -> Bool { self.members[key] != nil }

    func object(_ key: String) throws -> SklearnFields {
        let value = try self.value(key)
        guard case .object = value else {
            throw FormatError("field \(self.name(key)) must be an object, found \(value.kind)")
        }
        return try SklearnFields(value, path: "\(self.path)\(key).")
    }

    func string(_ key: String) throws -> String {
        let value = try self.value(key)
        guard case .string(let s) = value else {
            throw FormatError("field \(self.name(key)) must be a string, found \(value.kind)")
        }
        return s
    }

    func bool(_ key: String) throws -> Bool {
        let value = try self.value(key)
        guard case .bool(let b) = value else {
            throw FormatError("field \(self.name(key)) must be true or false, found \(value.kind)")
        }
        return b
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let i): Double(i)
        case .double(let d): d
        case .float(let f): Double(f)
        default: nil
        }
    }

    /// A finite number.
    func number(_ key: String) throws -> Double {
        let value = try self.value(key)
        guard let d = Self.number(value) else {
            throw FormatError("field \(self.name(key)) must be a number, found \(value.kind)")
        }
        guard d.isFinite else { throw FormatError("field \(self.name(key)) must be finite, found \(d)") }
        return d
    }

    /// A whole number in `range`.
    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
        let d = try self.number(key)
        guard d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw FormatError(
                "field \(self.name(key)) is \(d), expected a whole number from \(range.lowerBound) to "
                    + "\(range.upperBound)"
            )
        }
        return Int(d)
    }

    /// An array of finite numbers.
    func vector(_ key: String) throws -> [Double] {
        try Self.vector(try self.value(key), name: self.name(key))
    }

    static func vector(_ value: JSONValue, name: String) throws -> [Double] {
        guard case .array(let items) = value else {
            throw FormatError("field \(name) must be an array of numbers, found \(value.kind)")
        }
        guard items.count <= Self.maximumElements else {
            throw FormatError("field \(name) has \(items.count) values, more than the \(Self.maximumElements) accepted")
        }
        var out: [Double] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let d = Self.number(item) else {
                throw FormatError("field \(Self.element(name, i)) must be a number, found \(item.kind)")
            }
            guard d.isFinite else { throw FormatError("field \(Self.element(name, i)) must be finite, found \(d)") }
            out.append(d)
        }
        return out
    }

    /// `'coef_'` and 1 give `'coef_[1]'`.
    static func element(_ name: String, _ index: Int) -> String { "\(name.dropLast())[\(index)]'" }

    /// A rectangular array of arrays of finite numbers, row by row.
    func matrix(_ key: String) throws -> Matrix {
        try Self.matrix(try self.value(key), name: self.name(key))
    }

    static func matrix(_ value: JSONValue, name: String) throws -> Matrix {
        guard case .array(let rows) = value else {
            throw FormatError("field \(name) must be an array of arrays of numbers, found \(value.kind)")
        }
        guard !rows.isEmpty else { throw FormatError("field \(name) is empty, expected at least one row") }
        var values: [Double] = []
        var columns = -1
        for (r, row) in rows.enumerated() {
            let numbers = try Self.vector(row, name: Self.element(name, r))
            if columns < 0 {
                columns = numbers.count
            } else if numbers.count != columns {
                throw FormatError(
                    "field \(Self.element(name, r)) has \(numbers.count) values, expected \(columns) like row 0"
                )
            }
            guard values.count + numbers.count <= Self.maximumElements else {
                throw FormatError("field \(name) has more than the \(Self.maximumElements) values accepted")
            }
            values += numbers
        }
        return Matrix(rows: rows.count, columns: columns, values: values)
    }

    /// A number or an array of numbers (sklearn writes a scalar intercept for one target and an array for several).
    func numberOrVector(_ key: String) throws -> [Double] {
        let value = try self.value(key)
        if Self.number(value) != nil { return [try self.number(key)] }
        return try self.vector(key)
    }

    /// `classes_`: whole numbers or strings, at least two, all different.
    func classes(_ key: String = "classes_", maximum: Int) throws -> ClassLabels {
        let value = try self.value(key)
        guard case .array(let items) = value else {
            throw FormatError("field \(self.name(key)) must be an array of class labels, found \(value.kind)")
        }
        guard items.count >= 2, items.count <= maximum else {
            throw FormatError("field \(self.name(key)) lists \(items.count) classes, expected 2 to \(maximum)")
        }
        if case .string = items[0] {
            let names = try items.enumerated().map { i, item in
                guard case .string(let s) = item else {
                    throw FormatError(
                        "field \(Self.element(self.name(key), i)) must be a string like the first label, "
                            + "found \(item.kind)"
                    )
                }
                return s
            }
            guard Set(names).count == names.count else {
                throw FormatError("field \(self.name(key)) lists a class twice")
            }
            return .strings(names)
        }
        let numbers = try items.enumerated().map { i, item in
            guard let d = Self.number(item), d == d.rounded(), abs(d) < 9.0e15 else {
                throw FormatError(
                    "field \(Self.element(self.name(key), i)) must be a whole number or a string, found "
                        + "\(item.kind == "a number" ? "a fractional number" : item.kind)"
                )
            }
            return Int64(d)
        }
        guard Set(numbers).count == numbers.count else {
            throw FormatError("field \(self.name(key)) lists a class twice")
        }
        return .ints(numbers)
    }
}

/// A dense row-major matrix of doubles.
struct Matrix {
    var rows: Int
    var columns: Int
    var values: [Double]

    subscript(_ r: Int, _ c: Int) -> Double { self.values[r * self.columns + c] }

    /// The transpose, `[columns, rows]`.
    func transposed() -> Matrix {
        var out = [Double](repeating: 0, count: self.values.count)
        for r in 0..<self.rows {
            for c in 0..<self.columns { out[c * self.rows + r] = self.values[r * self.columns + c] }
        }
        return Matrix(rows: self.columns, columns: self.rows, values: out)
    }
}

/// sklearn's `classes_`, which become the `label` output.
enum ClassLabels {
    case ints([Int64])
    case strings([String])

    var count: Int {
        switch self {
        case .ints(let v): v.count
        case .strings(let v): v.count
        }
    }

    var elementType: ElementType {
        switch self {
        case .ints: .int64
        case .strings: .string
        }
    }

    func tensor() throws -> Tensor {
        switch self {
        case .ints(let v): try Tensor(shape: [v.count], int64s: v)
        case .strings(let v): try Tensor(shape: [v.count], strings: v)
        }
    }
}
