/// Gather: picks slices of the data along one axis by (possibly negative) int32/int64 indices.
extension TensorOperators {
    static let gatherDefinitions: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Gather", opsets: 7...28, compile: TensorOperators.compileGather)
    ]

    private static func compileGather(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(2...2)
        let type = try ctx.inputType(0)
        try TensorOperators.requireIndexType(ctx, 1, "indices")
        let axis = try ctx.int("axis", default: 0)
        let label = ctx.label
        // Constant indices (embedding lookups, column picks) are converted once.
        let constantIndices = ctx.constant(1).flatMap { t in t.integers.map { (t.shape, $0) } }
        let kernel = ClosureKernel { inputs, _ in
            let data = try inputs.tensor(0)
            let indexShape: [Int]
            let indices: [Int]
            if let constantIndices {
                (indexShape, indices) = constantIndices
            } else {
                let t = try inputs.tensor(1)
                guard let values = t.integers else {
                    throw InferenceError(.runtimeFailure, "\(label): indices must be int64 or int32")
                }
                (indexShape, indices) = (t.shape, values)
            }
            return [.tensor(try TensorOperators.gather(data, indices, indexShape, axis: axis, label))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    /// Gathers `data` along `axis` at `indices` (shape `indexShape`).
    static func gather(
        _ data: Tensor,
        _ indices: [Int],
        _ indexShape: [Int],
        axis: Int,
        _ label: String
    ) throws -> Tensor {
        guard data.rank > 0 else {
            throw InferenceError(.runtimeFailure, "\(label): data must have rank >= 1, got a scalar")
        }
        let a = try TensorOperators.runtimeAxis(axis, rank: data.rank, label)
        let dim = data.shape[a]
        let shape = Array(data.shape[..<a]) + indexShape + Array(data.shape[(a + 1)...])
        let total = try Tensor.elementCount(of: shape)
        var normalized = [Int]()
        normalized.reserveCapacity(indices.count)
        for index in indices {
            let i = index < 0 ? index + dim : index
            guard i >= 0, i < dim else {
                throw InferenceError(
                    .runtimeFailure,
                    "\(label): index \(index) is out of range for axis \(a) of size \(dim) (data shape \(data.shape))"
                )
            }
            normalized.append(i)
        }
        if total == 0 { return try Tensor.zeros(data.elementType, shape: shape) }
        let inner = data.shape[(a + 1)...].reduce(1, *)
        let outer = data.shape[..<a].reduce(1, *)
        var starts = [Int]()
        starts.reserveCapacity(outer * normalized.count)
        for o in 0..<outer {
            let base = o * dim * inner
            for i in normalized { starts.append(base + i * inner) }
        }
        return Tensor(unchecked: shape, TensorOperators.copyRuns(data.storage, starts: starts, length: inner))
    }
}
