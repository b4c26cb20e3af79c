/// `LabelEncoder` (ai.onnx.ml 1, 2 and 4): maps keys to values, with a default for unknown keys.
enum LabelEncoderOperators {
    static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxMLDomain, "LabelEncoder", opsets: 1...1) { ctx in try compileV1(ctx) },
        OperatorDefinition(onnxMLDomain, "LabelEncoder", opsets: 2...5) { ctx in try compileV2(ctx) },
    ]

    /// A hashable key: `-0.0` matches `0.0`; NaN keys match NaN inputs from opset 4 (ONNX Runtime's behaviour;
    /// before, NaN never matches).
    enum Key: Hashable {
        case string(String)
        case integer(Int64)
        case real(Double)
        case nan
        /// An input that matches no key.
        case unmatched

        static func number(_ v: Double) -> Key { v.isNaN ? .nan : .real(v == 0 ? 0 : v) }
    }

    /// Opset 1: strings to their index in `classes_strings`, or int64 indices back to strings.
    static func compileV1(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let type = try ctx.requireInputType(0, in: [.string, .int64])
        let classes = try ctx.strings("classes_strings", default: [])
        let defaultInt = Int64(try ctx.int("default_int64", default: -1))
        let defaultString = try ctx.string("default_string", default: "_Unused")
        let index = Dictionary(classes.enumerated().map { ($1, Int64($0)) }, uniquingKeysWith: { first, _ in first })
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            switch x.storage {
            case .string(let v):
                return [.tensor(Tensor(unchecked: x.shape, elements: v.map { index[$0] ?? defaultInt }))]
            case .int64(let v):
                let out = v.map { $0 >= 0 && $0 < Int64(classes.count) ? classes[Int($0)] : defaultString }
                return [.tensor(Tensor(unchecked: x.shape, elements: out))]
            default:
                throw InferenceError(.runtimeFailure, "LabelEncoder: unsupported input type \(x.elementType)")
            }
        }
        return CompiledKernel(kernel, outputs: [.tensor(type == .string ? .int64 : .string)])
    }

    /// Keys or values given as a list attribute (`<prefix>_strings`, `_int64s`, `_floats`) or, from opset 4,
    /// as `<prefix>_tensor`.
    static func list(_ ctx: NodeContext, _ prefix: String) throws -> Tensor {
        var found: [(String, Tensor)] = []
        if ctx.has(prefix + "_strings") {
            found.append((prefix + "_strings", Tensor(unchecked: [], elements: try ctx.strings(prefix + "_strings"))))
        }
        if ctx.has(prefix + "_int64s") {
            let v = try ctx.ints(prefix + "_int64s").map { Int64($0) }
            found.append((prefix + "_int64s", Tensor(unchecked: [], elements: v)))
        }
        if ctx.has(prefix + "_floats") {
            found.append((prefix + "_floats", Tensor(unchecked: [], elements: try ctx.floats(prefix + "_floats"))))
        }
        if ctx.has(prefix + "_tensor") {
            guard ctx.opset >= 4 else {
                throw ctx.attributeError(prefix + "_tensor", "is only defined from ai.onnx.ml opset 4")
            }
            guard let t = try ctx.tensor(prefix + "_tensor") else {
                throw ctx.attributeError(prefix + "_tensor", "is empty")
            }
            found.append((prefix + "_tensor", t))
        }
        guard found.count == 1 else {
            let names = found.map(\.0).joined(separator: ", ")
            throw ctx.attributeError(
                prefix + "_*",
                found.isEmpty ? "is required" : "must be given exactly once, found \(names)"
            )
        }
        return found[0].1
    }

    static func keyList(_ t: Tensor, nanMatches: Bool = true) -> [Key] {
        if !nanMatches, case .float(let v) = t.storage {
            return v.map { $0.isNaN ? .unmatched : .number(Double($0)) }
        }
        return switch t.storage {
        case .string(let v): v.map { .string($0) }
        case .int64(let v): v.map { .integer($0) }
        case .int32(let v): v.map { .integer(Int64($0)) }
        case .float(let v): v.map { .number(Double($0)) }
        case .double(let v): v.map { .number($0) }
        case .bool(let v): v.map { .integer($0 ? 1 : 0) }
        }
    }

    /// Opsets 2 and 4: `keys_*` to `values_*`.
    static func compileV2(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let allowed: Set<ElementType> =
            ctx.opset >= 4 ? [.string, .int64, .float, .int32, .double] : [.string, .int64, .float]
        let inputType = try ctx.requireInputType(0, in: allowed)
        let keys = try list(ctx, "keys")
        let values = try list(ctx, "values")
        guard keys.count == values.count else {
            throw ctx.attributeError("values_*", "has \(values.count) entries, expected \(keys.count) like keys")
        }
        guard
            keys.elementType == inputType
                || (keys.elementType.isFloatingPoint && inputType.isFloatingPoint && ctx.opset >= 4)
                || (keys.elementType == .int64 && inputType == .int32)
        else {
            throw ctx.attributeError("keys_*", "are \(keys.elementType) but input X is \(inputType)")
        }
        let outputType = values.elementType
        // The default: default_tensor (opset 4), else default_<type> of the values' type.
        var defaultValue: Tensor
        switch outputType {
        case .string:
            defaultValue = Tensor(unchecked: [], elements: [try ctx.string("default_string", default: "_Unused")])
        case .float, .double:
            defaultValue = Tensor(unchecked: [], elements: [try ctx.float("default_float", default: -0.0)])
        default: defaultValue = Tensor(unchecked: [], elements: [Int64(try ctx.int("default_int64", default: -1))])
        }
        if ctx.has("default_tensor") {
            guard ctx.opset >= 4 else {
                throw ctx.attributeError("default_tensor", "is only defined from ai.onnx.ml opset 4")
            }
            guard let t = try ctx.tensor("default_tensor"), t.count == 1 else {
                throw ctx.attributeError("default_tensor", "must hold exactly one value")
            }
            guard t.elementType == outputType else {
                throw ctx.attributeError(
                    "default_tensor",
                    "is \(t.elementType), expected \(outputType) like the values"
                )
            }
            defaultValue = t
        }
        let fallback = defaultValue
        let nanMatches = ctx.opset >= 4
        let index = Dictionary(keyList(keys).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let ks = LabelEncoderOperators.keyList(x, nanMatches: nanMatches)
            func map<T>(_ v: [T], _ d: T, _ x: Tensor) -> [T] { ks.map { k in index[k].map { v[$0] } ?? d } }
            let storage: Tensor.Storage
            switch (values.storage, fallback.storage) {
            case (.string(let v), .string(let d)): storage = .string(map(v, d[0], x))
            case (.int64(let v), .int64(let d)): storage = .int64(map(v, d[0], x))
            case (.int32(let v), .int32(let d)): storage = .int32(map(v, d[0], x))
            case (.float(let v), .float(let d)): storage = .float(map(v, d[0], x))
            case (.double(let v), .double(let d)): storage = .double(map(v, d[0], x))
            case (.double(let v), .float(let d)): storage = .double(map(v, Double(d[0]), x))
            case (.int32(let v), .int64(let d)): storage = .int32(map(v, Int32(truncatingIfNeeded: d[0]), x))
            default: throw InferenceError(.runtimeFailure, "\(label): unsupported value type \(values.elementType)")
            }
            return [.tensor(Tensor(unchecked: x.shape, storage))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(outputType)])
    }
}
