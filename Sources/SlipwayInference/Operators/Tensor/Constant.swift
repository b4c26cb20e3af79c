/// Constant (a tensor from one of its value attributes) and ConstantOfShape (a filled tensor of a given shape).
extension TensorOperators {
    static let constantDefinitions: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Constant", opsets: 7...28, compile: TensorOperators.compileConstant),
        OperatorDefinition(
            onnxDomain,
            "ConstantOfShape",
            opsets: 9...28,
            compile: TensorOperators.compileConstantOfShape
        ),
    ]

    private static let constantAttributes = [
        "value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string",
        "value_strings",
    ]

    private static func compileConstant(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(0...0)
        let present = TensorOperators.constantAttributes.filter { ctx.has($0) }
        guard present.count == 1 else {
            throw ctx.attributeError(
                present.first ?? "value",
                present.isEmpty
                    ? "is required (or one of value_float(s), value_int(s), value_string(s))"
                    : "must be the only value attribute, found \(present.joined(separator: ", "))"
            )
        }
        let tensor: Tensor
        switch present[0] {
        case "value":
            guard let t = try ctx.tensor("value") else { throw ctx.attributeError("value", "is required") }
            tensor = t
        case "sparse_value":
            throw InferenceError(
                .unsupportedOperator,
                "\(ctx.label): attribute 'sparse_value' (sparse tensors) is not supported"
            )
        case "value_float": tensor = .scalar(try ctx.float("value_float"))
        case "value_floats":
            let v = try ctx.floats("value_floats")
            tensor = Tensor(unchecked: [v.count], elements: v)
        case "value_int": tensor = .scalar(Int64(try ctx.int("value_int")))
        case "value_ints":
            let v = try ctx.ints("value_ints").map { Int64($0) }
            tensor = Tensor(unchecked: [v.count], elements: v)
        case "value_string": tensor = .scalar(try ctx.string("value_string"))
        default:
            let v = try ctx.strings("value_strings")
            tensor = Tensor(unchecked: [v.count], elements: v)
        }
        let value = Value.tensor(tensor)
        return CompiledKernel(ClosureKernel { _, _ in [value] }, outputs: [.tensor(tensor.elementType)])
    }

    private static func compileConstantOfShape(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        try TensorOperators.requireInt64(ctx, 0, "shape")
        let fill = try ctx.tensor("value") ?? .scalar(Float(0))
        guard fill.count == 1 else {
            throw ctx.attributeError("value", "must hold exactly one element, got shape \(fill.shape)")
        }
        let label = ctx.label
        if let shape = ctx.constant(0) {
            // The shape is known: build the tensor once, reporting bad or absurd shapes at load.
            let result: Tensor
            do {
                result = try TensorOperators.constantOfShape(shape, fill, label)
            } catch let error as InferenceError {
                throw InferenceError(error.code == .resourceLimit ? .resourceLimit : .invalidGraph, error.message)
            }
            let value = Value.tensor(result)
            return CompiledKernel(ClosureKernel { _, _ in [value] }, outputs: [.tensor(fill.elementType)])
        }
        let kernel = ClosureKernel { inputs, _ in
            [.tensor(try TensorOperators.constantOfShape(try inputs.tensor(0), fill, label))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(fill.elementType)])
    }

    /// A tensor of the shape held by `shapeTensor`, every element equal to the single element of `fill`.
    static func constantOfShape(_ shapeTensor: Tensor, _ fill: Tensor, _ label: String) throws -> Tensor {
        let shape = try TensorOperators.integerValues(shapeTensor, "\(label): shape")
        if let negative = shape.first(where: { $0 < 0 }) {
            throw InferenceError(.runtimeFailure, "\(label): shape \(shape) has negative dimension \(negative)")
        }
        let n: Int
        do {
            n = try Tensor.elementCount(of: shape)
        } catch let error as InferenceError {
            throw InferenceError(error.code, "\(label): \(error.message)")
        }
        let storage: Tensor.Storage =
            switch fill.storage {
            case .float(let v): .float(Array(repeating: v[0], count: n))
            case .double(let v): .double(Array(repeating: v[0], count: n))
            case .int64(let v): .int64(Array(repeating: v[0], count: n))
            case .int32(let v): .int32(Array(repeating: v[0], count: n))
            case .bool(let v): .bool(Array(repeating: v[0], count: n))
            case .string(let v): .string(Array(repeating: v[0], count: n))
            }
        return Tensor(unchecked: shape, storage)
    }
}
