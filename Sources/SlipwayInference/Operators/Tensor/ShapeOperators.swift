/// Operators that change only a tensor's shape (Identity, Reshape, Flatten, Squeeze, Unsqueeze) or report it
/// (Shape, Size).
extension TensorOperators {
    static let shapeDefinitions: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Identity", opsets: 1...28, compile: TensorOperators.compileIdentity),
        OperatorDefinition(onnxDomain, "Reshape", opsets: 7...28, compile: TensorOperators.compileReshape),
        OperatorDefinition(onnxDomain, "Flatten", opsets: 7...28, compile: TensorOperators.compileFlatten),
        OperatorDefinition(onnxDomain, "Squeeze", opsets: 7...28, compile: TensorOperators.compileSqueeze),
        OperatorDefinition(onnxDomain, "Unsqueeze", opsets: 7...28, compile: TensorOperators.compileUnsqueeze),
        OperatorDefinition(onnxDomain, "Shape", opsets: 7...28, compile: TensorOperators.compileShape),
        OperatorDefinition(onnxDomain, "Size", opsets: 7...28, compile: TensorOperators.compileSize),
    ]

    // MARK: Identity

    private static func compileIdentity(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        guard let type = ctx.inputTypes[0] else { throw ctx.error("required input 0 is missing") }
        let kernel = ClosureKernel { inputs, _ in
            guard let value = inputs[0] else { throw InferenceError.runtimeFailure("Identity: input 0 is missing") }
            return [value]
        }
        return CompiledKernel(kernel, outputs: [type])
    }

    // MARK: Reshape

    private static func compileReshape(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(2...2)
        let type = try ctx.inputType(0)
        try TensorOperators.requireInt64(ctx, 1, "shape")
        let allowZero = ctx.opset >= 14 ? try ctx.int("allowzero", default: 0) : 0
        guard allowZero == 0 || allowZero == 1 else {
            throw ctx.attributeError("allowzero", "is \(allowZero), expected 0 or 1")
        }
        let label = ctx.label
        var parsedShape: [Int]?
        if let shape = ctx.constant(1) {
            do {
                let values = try TensorOperators.integerValues(shape, "shape")
                try TensorOperators.validateReshapeRequest(values, allowZero: allowZero == 1)
                parsedShape = values
            } catch let error as InferenceError {
                throw ctx.error("input 1 (shape): \(error.message)")
            }
        }
        let constantShape = parsedShape
        let kernel = ClosureKernel { inputs, _ in
            let data = try inputs.tensor(0)
            let requested: [Int]
            if let constantShape {
                requested = constantShape
            } else {
                requested = try TensorOperators.integerValues(try inputs.tensor(1), "\(label): shape")
            }
            do {
                let shape = try TensorOperators.reshapeTarget(requested, input: data.shape, allowZero: allowZero == 1)
                return [.tensor(Tensor(unchecked: shape, data.storage))]
            } catch let error as InferenceError {
                throw InferenceError(.runtimeFailure, "\(label): \(error.message)")
            }
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    /// Checks the parts of a Reshape target that do not depend on the input shape.
    static func validateReshapeRequest(_ requested: [Int], allowZero: Bool) throws {
        var inferred = 0
        for d in requested {
            if d == -1 {
                inferred += 1
            } else if d < -1 {
                throw InferenceError(.runtimeFailure, "shape \(requested) has invalid dimension \(d)")
            }
        }
        guard inferred <= 1 else {
            throw InferenceError(.runtimeFailure, "shape \(requested) has more than one -1 dimension")
        }
        if allowZero, inferred == 1, requested.contains(0) {
            throw InferenceError(.runtimeFailure, "shape \(requested) has both 0 and -1 with allowzero=1")
        }
    }

    /// The output shape of Reshape for a requested shape (with 0 and -1 entries) and an input shape.
    static func reshapeTarget(_ requested: [Int], input: [Int], allowZero: Bool) throws -> [Int] {
        try TensorOperators.validateReshapeRequest(requested, allowZero: allowZero)
        let count = try Tensor.elementCount(of: input)
        var shape = requested
        var inferredAt: Int?
        for (i, d) in requested.enumerated() {
            if d == 0, !allowZero {
                guard i < input.count else {
                    throw InferenceError(
                        .runtimeFailure,
                        "shape \(requested) copies dimension \(i) (0) but the input \(input) has rank \(input.count)"
                    )
                }
                shape[i] = input[i]
            } else if d == -1 {
                inferredAt = i
            }
        }
        if let inferredAt {
            var known = 1
            for (i, d) in shape.enumerated() where i != inferredAt {
                let (p, overflow) = known.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw InferenceError(.runtimeFailure, "cannot reshape input \(input) to \(requested)")
                }
                known = p
            }
            guard known > 0, count % known == 0 else {
                throw InferenceError(
                    .runtimeFailure,
                    "cannot reshape input \(input) (\(count) elements) to \(requested)"
                )
            }
            shape[inferredAt] = count / known
        }
        let total: Int
        do {
            total = try Tensor.elementCount(of: shape)
        } catch {
            throw InferenceError(.runtimeFailure, "cannot reshape input \(input) (\(count) elements) to \(requested)")
        }
        guard total == count else {
            throw InferenceError(
                .runtimeFailure,
                "cannot reshape input \(input) (\(count) elements) to \(requested) (\(total) elements)"
            )
        }
        return shape
    }

    // MARK: Flatten

    private static func compileFlatten(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let type = try ctx.inputType(0)
        let axis = try ctx.int("axis", default: 1)
        let allowsNegative = ctx.opset >= 11
        if axis < 0, !allowsNegative {
            throw ctx.attributeError("axis", "is \(axis), must be non-negative before opset 11")
        }
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let rank = x.rank
            let a = axis < 0 ? axis + rank : axis
            guard a >= 0, a <= rank else {
                throw InferenceError(
                    .runtimeFailure,
                    "\(label): axis \(axis) is out of range for an input of rank \(rank) (\(x.shape))"
                )
            }
            // Empty tensors may have huge dimensions next to a 0: multiply with overflow checks.
            let outer = try TensorOperators.checkedProduct(x.shape[..<a], label)
            let inner = try TensorOperators.checkedProduct(x.shape[a...], label)
            return [.tensor(Tensor(unchecked: [outer, inner], x.storage))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    // MARK: Squeeze / Unsqueeze

    /// Reads `axes` from the attribute (before opset 13) or from optional input 1 (from opset 13).
    private static func axesSource(_ ctx: NodeContext, required: Bool) throws -> (constant: [Int]?, fromInput: Bool) {
        if ctx.opset < 13 {
            try ctx.requireInputs(1...1)
            if ctx.has("axes") || required {
                return (try ctx.ints("axes"), false)
            }
            return (nil, false)
        }
        try ctx.requireInputs(required ? 2...2 : 1...2)
        guard try ctx.optionalInputType(1) != nil else { return (nil, false) }
        try TensorOperators.requireInt64(ctx, 1, "axes")
        if let axes = ctx.constant(1) {
            do {
                return (try TensorOperators.integerValues(axes, "axes"), false)
            } catch let error as InferenceError {
                throw ctx.error("input 1: \(error.message)")
            }
        }
        return (nil, true)
    }

    private static func compileSqueeze(_ ctx: NodeContext) throws -> CompiledKernel {
        let type = try ctx.inputType(0)
        let (constantAxes, fromInput) = try TensorOperators.axesSource(ctx, required: false)
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            var axes = constantAxes
            if fromInput, let t = try inputs.optionalTensor(1) {
                axes = try TensorOperators.integerValues(t, "\(label): axes")
            }
            let shape: [Int]
            if let axes {
                let normalized = Set(try TensorOperators.runtimeAxes(axes, rank: x.rank, label))
                for a in normalized where x.shape[a] != 1 {
                    throw InferenceError(
                        .runtimeFailure,
                        "\(label): cannot squeeze axis \(a) of shape \(x.shape), its dimension is not 1"
                    )
                }
                shape = x.shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
            } else {
                shape = x.shape.filter { $0 != 1 }
            }
            return [.tensor(Tensor(unchecked: shape, x.storage))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    private static func compileUnsqueeze(_ ctx: NodeContext) throws -> CompiledKernel {
        let type = try ctx.inputType(0)
        let (constantAxes, _) = try TensorOperators.axesSource(ctx, required: true)
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let axes = try constantAxes ?? TensorOperators.integerValues(try inputs.tensor(1), "\(label): axes")
            let rank = x.rank + axes.count
            let normalized = Set(try TensorOperators.runtimeAxes(axes, rank: rank, label))
            var shape = [Int]()
            shape.reserveCapacity(rank)
            var source = x.shape.makeIterator()
            for d in 0..<rank {
                if normalized.contains(d) {
                    shape.append(1)
                } else if let dim = source.next() {
                    shape.append(dim)
                }
            }
            return [.tensor(Tensor(unchecked: shape, x.storage))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    // MARK: Shape / Size

    private static func compileShape(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        _ = try ctx.inputType(0)
        let start = ctx.opset >= 15 ? try ctx.int("start", default: 0) : 0
        let end = ctx.opset >= 15 ? try ctx.optionalInt("end") : nil
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let rank = x.rank
            func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
            let s = clamp(start)
            let e = clamp(end ?? rank)
            let dims = s < e ? x.shape[s..<e].map { Int64($0) } : []
            return [.tensor(Tensor(unchecked: [dims.count], elements: dims))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(.int64)])
    }

    private static func compileSize(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        _ = try ctx.inputType(0)
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            return [.tensor(Tensor.scalar(Int64(x.count)))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(.int64)])
    }
}
