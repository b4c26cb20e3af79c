/// Concat: joins tensors of the same element type along one axis.
extension TensorOperators {
    static let concatDefinitions: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Concat", opsets: 7...28, compile: TensorOperators.compileConcat)
    ]

    private static func compileConcat(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...max(1, ctx.inputTypes.count))
        let count = ctx.inputTypes.count
        let type = try ctx.requireSameType(Array(0..<count))
        let axis = try ctx.int("axis")
        if axis < 0, ctx.opset < 11 {
            throw ctx.attributeError("axis", "is \(axis), must be non-negative before opset 11")
        }
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let tensors = try (0..<count).map { try inputs.tensor($0) }
            return [.tensor(try TensorOperators.concat(tensors, axis: axis, type: type, label))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    /// Concatenates `tensors` (all of element type `type`) along `axis`.
    static func concat(_ tensors: [Tensor], axis: Int, type: ElementType, _ label: String) throws -> Tensor {
        let first = tensors[0]
        let rank = first.rank
        guard rank > 0 else {
            throw InferenceError(.runtimeFailure, "\(label): cannot concatenate scalars (rank 0 inputs)")
        }
        let a = try TensorOperators.runtimeAxis(axis, rank: rank, label)
        var shape = first.shape
        shape[a] = 0
        for (i, t) in tensors.enumerated() {
            guard t.elementType == type else {
                throw InferenceError(.runtimeFailure, "\(label): input \(i) is \(t.elementType), expected \(type)")
            }
            let compatible =
                t.rank == rank && t.shape.indices.allSatisfy { d in d == a || t.shape[d] == first.shape[d] }
            guard compatible else {
                throw InferenceError(
                    .runtimeFailure,
                    "\(label): input \(i) has shape \(t.shape), incompatible with input 0 \(first.shape) on axis \(a)"
                )
            }
            let (sum, overflow) = shape[a].addingReportingOverflow(t.shape[a])
            guard !overflow else {
                throw InferenceError(.resourceLimit, "\(label): concatenated axis \(a) is too large")
            }
            shape[a] = sum
        }
        let total = try Tensor.elementCount(of: shape)
        if total == 0 { return try Tensor.zeros(type, shape: shape) }
        let outer = shape[..<a].reduce(1, *)
        let runs = tensors.map { $0.count / max(outer, 1) }
        let storage: Tensor.Storage =
            switch type {
            case .float: .float(try TensorOperators.concatRuns(tensors, Float.self, runs, outer, total))
            case .double: .double(try TensorOperators.concatRuns(tensors, Double.self, runs, outer, total))
            case .int64: .int64(try TensorOperators.concatRuns(tensors, Int64.self, runs, outer, total))
            case .int32: .int32(try TensorOperators.concatRuns(tensors, Int32.self, runs, outer, total))
            case .bool: .bool(try TensorOperators.concatRuns(tensors, Bool.self, runs, outer, total))
            case .string: .string(try TensorOperators.concatRuns(tensors, String.self, runs, outer, total))
            }
        return Tensor(unchecked: shape, storage)
    }

    private static func concatRuns<T: TensorElement>(
        _ tensors: [Tensor],
        _ type: T.Type,
        _ runs: [Int],
        _ outer: Int,
        _ total: Int
    ) throws -> [T] {
        let arrays = try tensors.map { t in
            guard let v = t.elements(as: T.self) else {
                throw InferenceError(.runtimeFailure, "Concat: input is \(t.elementType), expected \(T.elementType)")
            }
            return v
        }
        guard zip(arrays, runs).allSatisfy({ $0.count >= outer * $1 }), runs.reduce(0, +) * outer == total else {
            throw InferenceError(.runtimeFailure, "Concat: input sizes do not match their shapes")
        }
        // Copy through pointers: with many short runs (e.g. two [1000, 1] columns), appending array slices cost
        // far more than the copying.
        let width = runs.reduce(0, +)
        return [T](unsafeUninitializedCapacity: total) { out, count in
            // One pass per input (its buffer opened once), writing its run into every output row.
            var offset = 0
            for (array, run) in zip(arrays, runs) where run > 0 {
                array.withUnsafeBufferPointer { source in
                    let base = source.baseAddress!
                    let target = out.baseAddress! + offset
                    if run == 1 {
                        for o in 0..<outer { (target + o * width).initialize(to: base[o]) }
                    } else {
                        for o in 0..<outer { (target + o * width).initialize(from: base + o * run, count: run) }
                    }
                }
                offset += run
            }
            count = total
        }
    }
}
