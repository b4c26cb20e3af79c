import Foundation

/// The reduction an ONNX `Reduce*` operator performs.
package enum ReduceKind: Sendable {
    case sum, mean, max, min, prod, sumSquare, l1, l2, logSum, logSumExp
}

/// Runs a `Reduce*` node: axes from the attribute (older opsets) or the optional second input.
package struct ReduceKernel: Kernel {
    let kind: ReduceKind
    let keepdims: Bool
    let noopWithEmptyAxes: Bool
    /// The `axes` attribute, or `nil` when axes come from input 1.
    let attributeAxes: [Int]?

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try inputs.tensor(0)
        var axes = self.attributeAxes ?? []
        if self.attributeAxes == nil, let t = try inputs.optionalTensor(1) {
            guard let values = t.integers else {
                throw InferenceError(.runtimeFailure, "axes input must be int64, got \(t.elementType)")
            }
            axes = values
        }
        if axes.isEmpty && self.noopWithEmptyAxes { return [.tensor(x)] }
        let rank = x.rank
        var reduced = [Bool](repeating: axes.isEmpty, count: rank)
        for a in axes {
            let n = a < 0 ? a + rank : a
            guard n >= 0, n < rank else {
                throw InferenceError(.runtimeFailure, "axis \(a) is out of range for input of rank \(rank)")
            }
            reduced[n] = true
        }
        switch x.storage {
        case .float(let v): return [.tensor(try Reduction.reduce(v, x.shape, reduced, self.kind, self.keepdims))]
        case .double(let v): return [.tensor(try Reduction.reduce(v, x.shape, reduced, self.kind, self.keepdims))]
        case .int64(let v): return [.tensor(try Reduction.reduce(v, x.shape, reduced, self.kind, self.keepdims))]
        case .int32(let v): return [.tensor(try Reduction.reduce(v, x.shape, reduced, self.kind, self.keepdims))]
        case .bool(let v) where self.kind == .max || self.kind == .min:
            let r = try Reduction.reduce(v.map { Int32($0 ? 1 : 0) }, x.shape, reduced, self.kind, self.keepdims)
            return [.tensor(Tensor(unchecked: r.shape, elements: (r.int32s ?? []).map { $0 > 0 }))]
        default:
            throw InferenceError(.runtimeFailure, "cannot reduce a tensor of \(x.elementType)")
        }
    }
}

/// Reduction loops.
package enum Reduction {
    /// Reduces `x` of `shape` over the dimensions flagged in `reduced`.
    static func reduce<T: MathElement>(
        _ x: [T],
        _ shape: [Int],
        _ reduced: [Bool],
        _ kind: ReduceKind,
        _ keepdims: Bool
    ) throws -> Tensor {
        let kept = zip(shape, reduced).map { $1 ? 1 : $0 }
        let outShape = keepdims ? kept : zip(shape, reduced).filter { !$0.1 }.map(\.0)
        let outCount = try Tensor.elementCount(of: kept)
        let groupSize = ElementwiseLoops.product(zip(shape, reduced).filter(\.1).map(\.0))
        // Strides are only needed (and only bounded) when the input has elements.
        let out: [T]
        // Reduced axes forming one contiguous block (the common case) take direct loops with the operation
        // inlined; other layouts walk the input with per-dimension strides.
        if kind != .logSumExp, let block = Reduction.contiguousBlock(shape, reduced) {
            switch kind {
            case .max: out = Reduction.fold(x, block, outCount, T.lowest, { $0 }, { T.maximum($0, $1) })
            case .min: out = Reduction.fold(x, block, outCount, T.highest, { $0 }, { T.minimum($0, $1) })
            case .prod: out = Reduction.fold(x, block, outCount, 1, { $0 }, { T.multiply($0, $1) })
            case .sumSquare, .l2: out = Reduction.fold(x, block, outCount, 0, { T.multiply($0, $0) }, { T.add($0, $1) })
            case .l1: out = Reduction.fold(x, block, outCount, 0, { $0 < 0 ? T.negate($0) : $0 }, { T.add($0, $1) })
            default: out = Reduction.fold(x, block, outCount, 0, { $0 }, { T.add($0, $1) })
            }
            return Reduction.finish(out, kind, groupSize, outShape)
        }
        let nonEmpty = !x.isEmpty && outCount > 0
        let outStrides = nonEmpty ? Tensor.strides(of: kept) : []
        let mapped = nonEmpty ? (0..<shape.count).map { reduced[$0] ? 0 : outStrides[$0] } : []
        let inStrides = nonEmpty ? Tensor.strides(of: shape) : []
        switch kind {
        case .sum, .mean, .logSum:
            out = Reduction.accumulate(x, shape, inStrides, mapped, outCount, 0, { $0 }, T.add)
        case .max: out = Reduction.accumulate(x, shape, inStrides, mapped, outCount, T.lowest, { $0 }, T.maximum)
        case .min: out = Reduction.accumulate(x, shape, inStrides, mapped, outCount, T.highest, { $0 }, T.minimum)
        case .prod: out = Reduction.accumulate(x, shape, inStrides, mapped, outCount, 1, { $0 }, T.multiply)
        case .sumSquare, .l2:
            out = Reduction.accumulate(x, shape, inStrides, mapped, outCount, 0, { T.multiply($0, $0) }, T.add)
        case .l1:
            out = Reduction.accumulate(x, shape, inStrides, mapped, outCount, 0, { $0 < 0 ? T.negate($0) : $0 }, T.add)
        case .logSumExp:
            let m = Reduction.accumulate(x, shape, inStrides, mapped, outCount, T.lowest, { $0 }, T.maximum)
            let shift = m.map { $0.asDouble.isFinite ? $0.asDouble : 0 }
            var sums = [Double](repeating: 0, count: outCount)
            if nonEmpty {
                x.withUnsafeBufferPointer { px in
                    ElementwiseLoops.walk(shape, inStrides, mapped) { _, oa, ob, len, ia, ib in
                        for j in 0..<len {
                            let o = ob + j * ib
                            sums[o] += Foundation.exp(px[oa + j * ia].asDouble - shift[o])
                        }
                    }
                }
            }
            out = (0..<outCount).map { T(converting: Foundation.log(sums[$0]) + shift[$0]) }
            return Tensor(unchecked: outShape, elements: out)
        }
        return Reduction.finish(out, kind, groupSize, outShape)
    }

    /// The output tensor from the accumulated values: divided (mean), square-rooted (L2) or logged (LogSum).
    static func finish<T: MathElement>(_ out: [T], _ kind: ReduceKind, _ groupSize: Int, _ outShape: [Int]) -> Tensor {
        let finished: [T]
        switch kind {
        case .mean:
            let n = T(converting: Double(groupSize))
            finished = out.map { T.divide($0, n) }
        case .l2: finished = out.map { T(converting: $0.asDouble.squareRoot()) }
        case .logSum: finished = out.map { T(converting: Foundation.log($0.asDouble)) }
        default: finished = out
        }
        return Tensor(unchecked: outShape, elements: finished)
    }

    /// `(outer, group, inner)` when the reduced axes are one contiguous run of dimensions, so that the input is
    /// `[outer, group, inner]` reduced over `group`; `nil` otherwise (or when nothing is reduced).
    static func contiguousBlock(_ shape: [Int], _ reduced: [Bool]) -> (outer: Int, group: Int, inner: Int)? {
        guard let first = reduced.firstIndex(of: true), let last = reduced.lastIndex(of: true) else { return nil }
        for i in first...last where !reduced[i] { return nil }
        return (
            ElementwiseLoops.product(shape[..<first]),
            ElementwiseLoops.product(shape[first...last]),
            ElementwiseLoops.product(shape[(last + 1)...])
        )
    }

    /// `out[o, i] = combine(out[o, i], transform(x[o, g, i]))` for `g` in order, over `x` laid out as
    /// `[outer, group, inner]`: the same accumulation order as ``accumulate``. Always inlined so that `transform`
    /// and `combine` are inlined into the loops.
    @inline(__always)
    static func fold<T>(
        _ x: [T],
        _ block: (outer: Int, group: Int, inner: Int),
        _ outCount: Int,
        _ initial: T,
        _ transform: (T) -> T,
        _ combine: (T, T) -> T
    ) -> [T] {
        var out = [T](repeating: initial, count: outCount)
        let (outer, group, inner) = block
        guard !x.isEmpty, outCount > 0, x.count == outer * group * inner, outCount == outer * inner else {
            return out
        }
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                if inner == 1 {
                    for o in 0..<outer {
                        var acc = po[o]
                        let base = o * group
                        for g in 0..<group { acc = combine(acc, transform(px[base + g])) }
                        po[o] = acc
                    }
                } else {
                    for o in 0..<outer {
                        let dst = o * inner
                        for g in 0..<group {
                            let src = (o * group + g) * inner
                            for i in 0..<inner { po[dst + i] = combine(po[dst + i], transform(px[src + i])) }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `out[o] = combine(out[o], transform(x[i]))` over every input element `i`, with `o` the element's
    /// position in the reduced output (`mapped` holds its per-dimension output strides, 0 on reduced axes).
    /// Always inlined so that `transform` and `combine` are inlined into the loops.
    @inline(__always)
    static func accumulate<T>(
        _ x: [T],
        _ shape: [Int],
        _ inStrides: [Int],
        _ mapped: [Int],
        _ outCount: Int,
        _ initial: T,
        _ transform: (T) -> T,
        _ combine: (T, T) -> T
    ) -> [T] {
        var out = [T](repeating: initial, count: outCount)
        if x.isEmpty || outCount == 0 { return out }
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                ElementwiseLoops.walk(shape, inStrides, mapped) { _, oa, ob, len, _, ib in
                    if ib == 0 {
                        var acc = po[ob]
                        for j in 0..<len { acc = combine(acc, transform(px[oa + j])) }
                        po[ob] = acc
                    } else {
                        for j in 0..<len {
                            let o = ob + j * ib
                            po[o] = combine(po[o], transform(px[oa + j]))
                        }
                    }
                }
            }
        }
        return out
    }
}

extension ReductionOperators {
    /// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare, ReduceL1, ReduceL2,
    /// ReduceLogSum, ReduceLogSumExp.
    static let reduce: [OperatorDefinition] = [
        ("ReduceSum", ReduceKind.sum, 13),
        ("ReduceMean", .mean, 18),
        ("ReduceMax", .max, 18),
        ("ReduceMin", .min, 18),
        ("ReduceProd", .prod, 18),
        ("ReduceSumSquare", .sumSquare, 18),
        ("ReduceL1", .l1, 18),
        ("ReduceL2", .l2, 18),
        ("ReduceLogSum", .logSum, 18),
        ("ReduceLogSumExp", .logSumExp, 18),
    ].map { name, kind, axesInputSince in
        OperatorDefinition(onnxDomain, name, opsets: 7...28) { ctx in
            var types = MathTypes.numeric
            if (kind == .max || kind == .min) && ctx.opset >= 20 { types.insert(.bool) }
            let keepdims = try ctx.int("keepdims", default: 1)
            guard keepdims == 0 || keepdims == 1 else {
                throw ctx.attributeError("keepdims", "is \(keepdims), expected 0 or 1")
            }
            if ctx.opset < axesInputSince {
                try ctx.requireInputs(1...1)
                let type = try ctx.requireInputType(0, in: types)
                let axes = try ctx.ints("axes", default: [])
                let kernel = ReduceKernel(
                    kind: kind,
                    keepdims: keepdims == 1,
                    noopWithEmptyAxes: false,
                    attributeAxes: axes
                )
                return CompiledKernel(kernel, outputs: [.tensor(type)])
            }
            try ctx.requireInputs(1...2)
            let type = try ctx.requireInputType(0, in: types)
            if ctx.has("axes") {
                throw ctx.attributeError("axes", "is not allowed from opset \(axesInputSince): pass axes as input 1")
            }
            if try ctx.optionalInputType(1) != nil {
                try ctx.requireInputType(1, in: [.int64])
            }
            let noop = try ctx.int("noop_with_empty_axes", default: 0)
            guard noop == 0 || noop == 1 else {
                throw ctx.attributeError("noop_with_empty_axes", "is \(noop), expected 0 or 1")
            }
            let kernel = ReduceKernel(
                kind: kind,
                keepdims: keepdims == 1,
                noopWithEmptyAxes: noop == 1,
                attributeAxes: nil
            )
            return CompiledKernel(kernel, outputs: [.tensor(type)])
        }
    }
}
