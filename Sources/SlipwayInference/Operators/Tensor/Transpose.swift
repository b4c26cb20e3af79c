/// Transpose: permutes the dimensions of a tensor (`perm`, reversed by default).
extension TensorOperators {
    static let transposeDefinitions: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Transpose", opsets: 7...28, compile: TensorOperators.compileTranspose)
    ]

    private static func compileTranspose(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let type = try ctx.inputType(0)
        let perm = ctx.has("perm") ? try ctx.ints("perm") : nil
        if let perm, Set(perm) != Set(0..<perm.count) || perm.count != Set(perm).count {
            throw ctx.attributeError("perm", "is \(perm), expected a permutation of 0..<\(perm.count)")
        }
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let order = perm ?? Array((0..<x.rank).reversed())
            guard order.count == x.rank else {
                throw InferenceError(
                    .runtimeFailure,
                    "\(label): perm \(order) has \(order.count) axes but the input \(x.shape) has rank \(x.rank)"
                )
            }
            return [.tensor(TensorOperators.transpose(x, order))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    /// Transposes `x` by a valid permutation of its axes.
    static func transpose(_ x: Tensor, _ perm: [Int]) -> Tensor {
        let rank = x.rank
        let shape = perm.map { x.shape[$0] }
        if x.count <= 1 || perm == Array(0..<rank) { return Tensor(unchecked: shape, x.storage) }
        let sourceStrides = Tensor.strides(of: x.shape)
        let strides = perm.map { sourceStrides[$0] }
        // Trailing axes that stay in place are copied as contiguous runs.
        var kept = rank
        while kept > 0, perm[kept - 1] == kept - 1 { kept -= 1 }
        let run = shape[kept...].reduce(1, *)
        let offsets = TensorOperators.stridedOffsets(
            shape: Array(shape[..<kept]),
            strides: Array(strides[..<kept]),
            base: 0
        )
        return Tensor(unchecked: shape, TensorOperators.copyRuns(x.storage, starts: offsets, length: run))
    }
}
