/// `ArgMax` / `ArgMin` along one axis, producing int64 indices.
package struct ArgExtremeKernel: Kernel {
    let isMax: Bool
    let axis: Int
    let keepdims: Bool
    let selectLastIndex: Bool

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try inputs.tensor(0)
        let rank = x.rank
        let a = self.axis < 0 ? self.axis + rank : self.axis
        guard a >= 0, a < rank else {
            throw InferenceError(.runtimeFailure, "axis \(self.axis) is out of range for input of rank \(rank)")
        }
        let dim = x.shape[a]
        let outer = ElementwiseLoops.product(x.shape[..<a])
        let inner = ElementwiseLoops.product(x.shape[(a + 1)...])
        var outShape = x.shape
        if self.keepdims { outShape[a] = 1 } else { outShape.remove(at: a) }
        guard dim > 0 || outer * inner == 0 else {
            throw InferenceError(.runtimeFailure, "cannot take the arg \(self.isMax ? "max" : "min") of an empty axis")
        }
        func apply<T: MathElement>(_ v: [T]) -> [Value] {
            var out = [Int64](repeating: 0, count: outer * inner)
            let isMax = self.isMax
            let last = self.selectLastIndex
            v.withUnsafeBufferPointer { p in
                for o in 0..<outer {
                    for i in 0..<inner {
                        let base = o * dim * inner + i
                        var best = p[base]
                        var bestIndex = 0
                        for k in 1..<max(dim, 1) {
                            let e = p[base + k * inner]
                            let better = isMax ? (last ? e >= best : e > best) : (last ? e <= best : e < best)
                            if better {
                                best = e
                                bestIndex = k
                            }
                        }
                        out[o * inner + i] = Int64(bestIndex)
                    }
                }
            }
            return [.tensor(Tensor(unchecked: outShape, elements: out))]
        }
        switch x.storage {
        case .float(let v): return apply(v)
        case .double(let v): return apply(v)
        case .int64(let v): return apply(v)
        case .int32(let v): return apply(v)
        default: throw InferenceError(.runtimeFailure, "expected a numeric input, got \(x.elementType)")
        }
    }
}

extension ReductionOperators {
    /// ArgMax and ArgMin.
    static let argExtremes: [OperatorDefinition] = [("ArgMax", true), ("ArgMin", false)].map { name, isMax in
        OperatorDefinition(onnxDomain, name, opsets: 7...28) { ctx in
            try ctx.requireInputs(1...1)
            try ctx.requireInputType(0, in: MathTypes.numeric)
            let axis = try ctx.int("axis", default: 0)
            if ctx.opset < 11 && axis < 0 {
                throw ctx.attributeError("axis", "is \(axis), must be non-negative before opset 11")
            }
            let keepdims = try ctx.int("keepdims", default: 1)
            guard keepdims == 0 || keepdims == 1 else {
                throw ctx.attributeError("keepdims", "is \(keepdims), expected 0 or 1")
            }
            let last = ctx.opset >= 12 ? try ctx.int("select_last_index", default: 0) : 0
            guard last == 0 || last == 1 else {
                throw ctx.attributeError("select_last_index", "is \(last), expected 0 or 1")
            }
            let kernel = ArgExtremeKernel(isMax: isMax, axis: axis, keepdims: keepdims == 1, selectLastIndex: last == 1)
            return CompiledKernel(kernel, outputs: [.tensor(.int64)])
        }
    }
}
