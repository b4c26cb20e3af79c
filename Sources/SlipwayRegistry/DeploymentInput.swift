import Foundation

/// The metadata sent with a new deployment, with the JSON fields as text.
public struct DeploymentInput: Sendable {
    /// The formats the platform accepts.
    public static let formats: Set<String> = ["onnx"]
    /// The longest summary accepted, in characters.
    public static let maximumSummaryLength = 500
    /// The largest JSON field accepted (schema, samples…), in bytes.
    public static let maximumJSONFieldSize = 4 << 20
    /// The most rows `reference` may hold.
    public static let maximumReferenceRows = 10_000
    /// The largest `reference` field accepted, in bytes.
    public static let maximumReferenceSize = 12 << 20

    public var summary: String?
    public var description: String
    public var format: String
    public var schema: String?
    public var samples: String?
    public var classes: String?
    public var context: String?
    public var params: String?
    /// The reference (training) distribution: a JSON array of rows, each an `ndarray` row or a feature object.
    public var reference: String?
    public var activate: Bool

    /// What ``validated()`` found.
    public struct Validated: Sendable, Equatable {
        /// The trimmed summary.
        public var summary: String
        /// The number of reference rows, or `nil` when no reference was sent.
        public var referenceRows: Int?
    }

    /// Creates the input.
    public init(
        summary: String? = nil,
        description: String = "",
        format: String = "onnx",
        schema: String? = nil,
        samples: String? = nil,
        classes: String? = nil,
        context: String? = nil,
        params: String? = nil,
        reference: String? = nil,
        activate: Bool = false
    ) {
        self.summary = summary
        self.description = description
        self.format = format
        self.schema = schema
        self.samples = samples
        self.classes = classes
        self.context = context
        self.params = params
        self.reference = reference
        self.activate = activate
    }

    /// Checks every field and returns the summary; throws invalidInput naming the first bad field.
    public func validate() throws -> String {
        try self.validated().summary
    }

    /// Checks every field and returns the summary and the number of reference rows; throws invalidInput naming
    /// the first bad field.
    public func validated() throws -> Validated {
        guard let summary = self.summary?.trimmingCharacters(in: .whitespacesAndNewlines), !summary.isEmpty else {
            throw RegistryError.invalid("summary", "summary is required: a one-line description of the deployment")
        }
        guard summary.count <= Self.maximumSummaryLength else {
            throw RegistryError.invalid("summary", "summary must be at most \(Self.maximumSummaryLength) characters")
        }
        guard !summary.contains(where: \.isNewline) else {
            throw RegistryError.invalid("summary", "summary must be one line; put details in description")
        }
        guard self.description.count <= Registry.maximumTextLength else {
            throw RegistryError.invalid(
                "description",
                "description must be at most \(Registry.maximumTextLength) characters"
            )
        }
        guard Self.formats.contains(self.format) else {
            throw RegistryError.invalid(
                "format",
                "format '\(self.format)' is not supported; expected one of: \(Self.formats.sorted().joined(separator: ", "))"
            )
        }
        let schema = try Self.parseObject(self.schema, field: "schema")
        if let schema { try Self.validateSchema(schema) }
        if let samples = try Self.parseObject(self.samples, field: "samples") {
            try Self.validateSamples(samples, schema: schema)
        }
        if let classes = self.classes { try Self.validateClasses(classes) }
        _ = try Self.parseObject(self.context, field: "context")
        _ = try Self.parseObject(self.params, field: "params")
        let referenceRows = try self.reference.flatMap { try Self.validateReference($0, schema: schema) }
        return Validated(summary: summary, referenceRows: referenceRows)
    }

    static func parseObject(_ text: String?, field: String) throws -> [String: JSONTree]? {
        guard let text else { return nil }
        let value = try JSONTree.parse(text, field: field, limit: Self.maximumJSONFieldSize)
        if value.isNull { return nil }
        guard let object = value.object else {
            throw RegistryError.invalid(field, "\(field) must be a JSON object")
        }
        return object
    }

    static let featureTypes: Set<String> = ["float", "integer", "number", "string", "boolean"]
    static let ruleKeys: Set<String> = [
        "type", "allowed", "min", "max", "minlength", "maxlength", "help", "pii", "required",
    ]

    static func validateSchema(_ schema: [String: JSONTree]) throws {
        for key in schema.keys where key != "features" && key != "ndarray" {
            throw RegistryError.invalid(
                "schema.\(key)",
                "schema.\(key) is not a schema field; expected features or ndarray"
            )
        }
        var names: Set<String> = []
        if let features = schema["features"], !features.isNull {
            guard let features = features.object, !features.isEmpty else {
                throw RegistryError.invalid(
                    "schema.features",
                    "schema.features must be a non-empty object of feature rules"
                )
            }
            for (name, rules) in features {
                let path = "schema.features.\(name)"
                guard !name.isEmpty, name.count <= 256 else {
                    throw RegistryError.invalid(path, "feature names must be 1–256 characters")
                }
                names.insert(name)
                guard let rules = rules.object else {
                    throw RegistryError.invalid(path, "\(path) must be an object of rules")
                }
                for key in rules.keys where !self.ruleKeys.contains(key) {
                    throw RegistryError.invalid(
                        "\(path).\(key)",
                        "\(path).\(key) is not a rule; expected one of \(self.ruleKeys.sorted().joined(separator: ", "))"
                    )
                }
                if let type = rules["type"] {
                    guard let type = type.string, self.featureTypes.contains(type) else {
                        throw RegistryError.invalid(
                            "\(path).type",
                            "\(path).type must be one of \(self.featureTypes.sorted().joined(separator: ", "))"
                        )
                    }
                }
                if let allowed = rules["allowed"] {
                    guard let allowed = allowed.array, !allowed.isEmpty else {
                        throw RegistryError.invalid("\(path).allowed", "\(path).allowed must be a non-empty array")
                    }
                }
                for key in ["min", "max"] where rules[key] != nil && rules[key]?.number == nil {
                    throw RegistryError.invalid("\(path).\(key)", "\(path).\(key) must be a number")
                }
                if let min = rules["min"]?.number, let max = rules["max"]?.number, min > max {
                    throw RegistryError.invalid("\(path).min", "\(path).min must not exceed max")
                }
                for key in ["minlength", "maxlength"] where rules[key] != nil {
                    guard let value = rules[key]?.number, value >= 0, value == value.rounded() else {
                        throw RegistryError.invalid("\(path).\(key)", "\(path).\(key) must be a non-negative integer")
                    }
                }
                if let help = rules["help"], help.string == nil {
                    throw RegistryError.invalid("\(path).help", "\(path).help must be a string")
                }
                for key in ["pii", "required"] {
                    guard let value = rules[key] else { continue }
                    guard case .bool = value else {
                        throw RegistryError.invalid("\(path).\(key)", "\(path).\(key) must be true or false")
                    }
                }
            }
        }
        if let ndarray = schema["ndarray"], !ndarray.isNull {
            guard let rows = ndarray.array, rows.count == 1, let first = rows[0].array, !first.isEmpty else {
                throw RegistryError.invalid(
                    "schema.ndarray",
                    "schema.ndarray must be one list of feature names, e.g. [[\"age\", \"income\"]]"
                )
            }
            let order = first.compactMap(\.string)
            guard order.count == first.count else {
                throw RegistryError.invalid("schema.ndarray", "schema.ndarray must hold feature names (strings)")
            }
            if Set(order).count != order.count {
                throw RegistryError.invalid("schema.ndarray", "schema.ndarray names a feature twice")
            }
            if !names.isEmpty, let unknown = order.first(where: { !names.contains($0) }) {
                throw RegistryError.invalid(
                    "schema.ndarray",
                    "schema.ndarray names '\(unknown)', which schema.features does not define"
                )
            }
        }
    }

    static func validateSamples(_ samples: [String: JSONTree], schema: [String: JSONTree]?) throws {
        for key in samples.keys where !["features", "ndarray", "expected"].contains(key) {
            throw RegistryError.invalid(
                "samples.\(key)",
                "samples.\(key) is not a samples field; expected ndarray, features or expected"
            )
        }
        let ndarray = samples["ndarray"].flatMap { $0.isNull ? nil : $0 }
        let features = samples["features"].flatMap { $0.isNull ? nil : $0 }
        if ndarray == nil && features == nil {
            throw RegistryError.invalid("samples", "samples needs ndarray, features or both")
        }
        if let ndarray {
            guard let rows = ndarray.array, !rows.isEmpty, rows.allSatisfy({ $0.array?.isEmpty == false }) else {
                throw RegistryError.invalid(
                    "samples.ndarray",
                    "samples.ndarray must be a non-empty list of non-empty rows"
                )
            }
            if Set(rows.compactMap { $0.array?.count }).count != 1 {
                throw RegistryError.invalid("samples.ndarray", "samples.ndarray rows must all have the same length")
            }
        }
        if let features {
            let rows = features.array ?? [features]
            guard !rows.isEmpty, rows.allSatisfy({ $0.object != nil }) else {
                throw RegistryError.invalid(
                    "samples.features",
                    "samples.features must be an object or a list of objects"
                )
            }
            if schema?["features"]?.object == nil {
                throw RegistryError.invalid("samples.features", "samples.features needs a schema with features")
            }
        }
        if let expected = samples["expected"], !expected.isNull {
            try Self.validateExpected(expected, ndarray: ndarray, features: features)
        }
    }

    /// `samples.expected`: one entry per sample row (a class label, a class index, a number or a list of numbers).
    static func validateExpected(_ expected: JSONTree, ndarray: JSONTree?, features: JSONTree?) throws {
        guard let entries = expected.array, !entries.isEmpty else {
            throw RegistryError.invalid(
                "samples.expected",
                "samples.expected must be a list with one expected output per sample row"
            )
        }
        let forms: [(String, Int?)] = [
            ("ndarray", ndarray?.array?.count),
            ("features", features.map { $0.array?.count ?? 1 }),
        ]
        for case (let form, let rows?) in forms where rows != entries.count {
            throw RegistryError.invalid(
                "samples.expected",
                "samples.expected has \(entries.count) entries but samples.\(form) has \(rows) rows; give one per row"
            )
        }
        for (index, entry) in entries.enumerated() {
            switch entry {
            case .string, .integer, .number:
                continue
            case .array(let values) where !values.isEmpty && values.allSatisfy({ $0.number != nil }):
                continue
            default:
                throw RegistryError.invalid(
                    "samples.expected.\(index)",
                    "samples.expected[\(index)] must be a class label, a class index, a number or a list of numbers"
                )
            }
        }
    }

    static func validateClasses(_ text: String) throws {
        let value = try JSONTree.parse(text, field: "classes", limit: Self.maximumJSONFieldSize)
        if value.isNull { return }
        let message = "classes must be a non-empty list of labels or an object {\"0\": label}"
        if let labels = value.array {
            guard !labels.isEmpty, labels.allSatisfy({ $0.string != nil }) else {
                throw RegistryError.invalid("classes", message)
            }
            return
        }
        guard let map = value.object, !map.isEmpty else { throw RegistryError.invalid("classes", message) }
        for (key, label) in map {
            guard let index = Int(key), index >= 0, String(index) == key else {
                throw RegistryError.invalid("classes.\(key)", "class keys must be output indices 0, 1, 2…")
            }
            guard label.string != nil else {
                throw RegistryError.invalid("classes.\(key)", "classes.\(key) must be a string label")
            }
        }
    }
}

extension DeploymentInput {
    /// `reference`: a JSON array of at most ``maximumReferenceRows`` rows, all `ndarray` rows (lists of the same
    /// length, the schema's `ndarray` order when it has one) or all feature objects (names the schema defines).
    /// Values must have the type their feature declares; `null` and non-finite numbers stand for missing values.
    ///
    /// - Returns: the number of rows, or `nil` for a JSON `null`.
    static func validateReference(_ text: String, schema: [String: JSONTree]?) throws -> Int? {
        let value = try JSONTree.parse(text, field: "reference", limit: Self.maximumReferenceSize)
        if value.isNull { return nil }
        let shape = "reference must be a non-empty JSON array of rows: lists of values or objects of features"
        guard let rows = value.array, !rows.isEmpty else { throw RegistryError.invalid("reference", shape) }
        guard rows.count <= Self.maximumReferenceRows else {
            throw RegistryError.invalid(
                "reference",
                "reference has \(rows.count) rows; at most \(Self.maximumReferenceRows) are accepted (send a sample)"
            )
        }
        let features = schema?["features"]?.object ?? [:]
        let order = schema?["ndarray"]?.array?.first?.array?.compactMap(\.string)
        let isPositional = rows[0].array != nil
        for (index, row) in rows.enumerated() {
            let path = "reference[\(index)]"
            if isPositional {
                guard let values = row.array, !values.isEmpty else {
                    throw RegistryError.invalid(path, "\(path) must be a non-empty list like reference[0]")
                }
                let width = order?.count ?? rows[0].array?.count ?? 0
                guard values.count == width else {
                    let what = order.map { "the schema's ndarray order has \($0.count)" } ?? "reference[0] has \(width)"
                    throw RegistryError.invalid(path, "\(path) has \(values.count) values; \(what)")
                }
                guard let order else { continue }
                for (position, name) in order.enumerated() {
                    try Self.checkReferenceValue(values[position], rules: features[name], path: "\(path).\(name)")
                }
            } else {
                guard let object = row.object else {
                    throw RegistryError.invalid(path, "\(path) must be an object of features like reference[0]")
                }
                guard !features.isEmpty else {
                    throw RegistryError.invalid(path, "reference rows with feature names need a schema with features")
                }
                for (name, value) in object {
                    guard let rules = features[name] else {
                        throw RegistryError.invalid(
                            "\(path).\(name)",
                            "\(path).\(name) is not a feature of the schema"
                        )
                    }
                    try Self.checkReferenceValue(value, rules: rules, path: "\(path).\(name)")
                }
            }
        }
        return rows.count
    }

    /// Checks one reference value against its feature's declared `type`; missing values pass.
    static func checkReferenceValue(_ value: JSONTree, rules: JSONTree?, path: String) throws {
        guard let type = rules?.object?["type"]?.string else { return }
        let matches: Bool
        switch (type, value) {
        case (_, .null): matches = true
        case ("float", .integer), ("float", .number), ("number", .integer), ("number", .number): matches = true
        case ("integer", .integer): matches = true
        case ("integer", .number(let number)): matches = !number.isFinite || number == number.rounded()
        case ("string", .string), ("boolean", .bool): matches = true
        default: matches = false
        }
        guard matches else {
            throw RegistryError.invalid(path, "\(path) must be of type \(type) as the schema says")
        }
    }
}
