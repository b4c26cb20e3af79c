import Foundation

/// Which normalisation a softmax-family kernel computes.
package enum SoftmaxMode: Sendable {
    case softmax, logSoftmax, hardmax
}

/// `Softmax`, `LogSoftmax`, `Hardmax`. Before opset 13 the input is flattened to 2-D at `axis` and
/// normalised over the second dimension; from 13 it is normalised along `axis` alone.
package struct SoftmaxKernel: Kernel {
    let mode: SoftmaxMode
    let axis: Int
    let flatten: Bool

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try inputs.tensor(0)
        let rank = x.rank
        let a = self.axis < 0 ? self.axis + rank : self.axis
        guard a >= 0, a < rank || (self.flatten && a == rank) else {
            throw InferenceError(.runtimeFailure, "axis \(self.axis) is out of range for input of rank \(rank)")
        }
        let outer = ElementwiseLoops.product(x.shape[..<a])
        let len: Int
        let inner: Int
        if self.flatten {
            len = ElementwiseLoops.product(x.shape[a...])
            inner = 1
        } else {
            len = x.shape[a]
            inner = ElementwiseLoops.product(x.shape[(a + 1)...])
        }
        switch x.storage {
        case .float(let v):
            return [.tensor(Tensor(unchecked: x.shape, elements: self.apply(v, outer, len, inner, context)))]
        case .double(let v):
            return [.tensor(Tensor(unchecked: x.shape, elements: self.apply(v, outer, len, inner, context)))]
        default: throw InferenceError(.runtimeFailure, "expected a float or double input, got \(x.elementType)")
        }
    }

    func apply<T: FloatMathElement>(
        _ x: [T],
        _ outer: Int,
        _ len: Int,
        _ inner: Int,
        _ context: ExecutionContext
    ) -> [T] {
        var out = [T](repeating: 0, count: x.count)
        guard len > 0, !x.isEmpty else { return out }
        let mode = self.mode
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { buffer in
                let po = buffer
                let slices = outer * inner
                context.parallelChunks(slices, minimumPerThread: max(1, 4096 / len)) { range in
                    if inner == 1 && mode == .softmax, let inBase = px.baseAddress, let outBase = po.baseAddress {
                        // Rows along the last axis: contiguous, direct loops.
                        for r in range {
                            let row = inBase + r * len
                            let dst = outBase + r * len
                            var m = row[0]
                            for k in 1..<len where row[k] > m { m = row[k] }
                            var sum: T = 0
                            for k in 0..<len {
                                let e = T.exponential(row[k] - m)
                                dst[k] = e
                                sum += e
                            }
                            let reciprocal = 1 / sum
                            for k in 0..<len { dst[k] *= reciprocal }
                        }
                        return
                    }
                    for s in range {
                        let base = (s / inner) * len * inner + s % inner
                        var m = px[base]
                        var arg = 0
                        for k in 1..<len where px[base + k * inner] > m {
                            m = px[base + k * inner]
                            arg = k
                        }
                        switch mode {
                        case .hardmax:
                            po[base + arg * inner] = 1
                        case .softmax:
                            var sum: T = 0
                            for k in 0..<len {
                                let e = T.exponential(px[base + k * inner] - m)
                                po[base + k * inner] = e
                                sum += e
                            }
                            let r = 1 / sum
                            for k in 0..<len { po[base + k * inner] *= r }
                        case .logSoftmax:
                            var sum: T = 0
                            for k in 0..<len { sum += T.exponential(px[base + k * inner] - m) }
                            let l = T.logarithm(sum) + m
                            for k in 0..<len { po[base + k * inner] = px[base + k * inner] - l }
                        }
                    }
                }
            }
        }
        return out
    }
}

extension ReductionOperators {
    /// Softmax, LogSoftmax, Hardmax.
    static let softmax: [OperatorDefinition] = [
        ("Softmax", SoftmaxMode.softmax), ("LogSoftmax", .logSoftmax), ("Hardmax", .hardmax),
    ].map { name, mode in
        OperatorDefinition(onnxDomain, name, opsets: 7...28) { ctx in
            try ctx.requireInputs(1...1)
            let type = try ctx.requireInputType(0, in: MathTypes.floating)
            let flatten = ctx.opset < 13
            let axis = try ctx.int("axis", default: flatten ? 1 : -1)
            return CompiledKernel(SoftmaxKernel(mode: mode, axis: axis, flatten: flatten), outputs: [.tensor(type)])
        }
    }
}
