/// Expand: broadcasts a tensor to a shape, numpy style (the result is the broadcast of both shapes).
extension TensorOperators {
    static let expandDefinitions: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Expand", opsets: 8...28, compile: TensorOperators.compileExpand)
    ]

    private static func compileExpand(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(2...2)
        let type = try ctx.inputType(0)
        try TensorOperators.requireInt64(ctx, 1, "shape")
        var parsedShape: [Int]?
        if let shape = ctx.constant(1) {
            do {
                let values = try TensorOperators.integerValues(shape, "shape")
                _ = try Tensor.elementCount(of: values)
                parsedShape = values
            } catch let error as InferenceError {
                throw ctx.error("input 1 (shape): \(error.message)", code: error.code)
            }
        }
        let label = ctx.label
        let constantShape = parsedShape
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let requested = try constantShape ?? TensorOperators.integerValues(try inputs.tensor(1), "\(label): shape")
            return [.tensor(try TensorOperators.expand(x, to: requested, label))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    /// Broadcasts `x` against `requested`.
    static func expand(_ x: Tensor, to requested: [Int], _ label: String) throws -> Tensor {
        if let negative = requested.first(where: { $0 < 0 }) {
            throw InferenceError(.runtimeFailure, "\(label): shape \(requested) has negative dimension \(negative)")
        }
        guard let shape = Tensor.broadcastShape([x.shape, requested]) else {
            throw InferenceError(
                .runtimeFailure,
                "\(label): input shape \(x.shape) cannot be broadcast to \(requested)"
            )
        }
        let total = try Tensor.elementCount(of: shape)
        if total == 0 { return try Tensor.zeros(x.elementType, shape: shape) }
        if shape == x.shape { return x }
        let rank = shape.count
        let padded = Array(repeating: 1, count: rank - x.rank) + x.shape
        let sourceStrides = Tensor.strides(of: padded)
        let strides = (0..<rank).map { padded[$0] == shape[$0] ? sourceStrides[$0] : 0 }
        // Trailing dimensions that are not broadcast are copied as contiguous runs.
        var kept = rank
        while kept > 0, padded[kept - 1] == shape[kept - 1] { kept -= 1 }
        let run = shape[kept...].reduce(1, *)
        let offsets = TensorOperators.stridedOffsets(
            shape: Array(shape[..<kept]),
            strides: Array(strides[..<kept]),
            base: 0
        )
        return Tensor(unchecked: shape, TensorOperators.copyRuns(x.storage, starts: offsets, length: run))
    }
}
