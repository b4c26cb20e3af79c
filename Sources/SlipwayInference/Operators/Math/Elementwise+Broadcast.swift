/// Tight elementwise loops over unsafe buffers shared by the math kernels.
package enum ElementwiseLoops {
    /// Elements above which unary and same-shape loops are split across threads.
    package static let parallelThreshold = 1 << 15

    /// Applies `op` to every element, in parallel chunks for large inputs. Always inlined so that `op` is
    /// inlined into the loop.
    @inline(__always)
    package static func map<T, R>(_ x: [T], _ context: ExecutionContext, _ op: (T) -> R) -> [R] {
        let n = x.count
        return x.withUnsafeBufferPointer { px in
            [R](unsafeUninitializedCapacity: n) { buffer, initialized in
                let out = buffer
                func body(_ range: Range<Int>) {
                    for i in range { out.initializeElement(at: i, to: op(px[i])) }
                }
                if n >= ElementwiseLoops.parallelThreshold {
                    context.parallelChunks(n, minimumPerThread: ElementwiseLoops.parallelThreshold / 2, body)
                } else {
                    body(0..<n)
                }
                initialized = n
            }
        }
    }

    /// Per-dimension strides of `shape` right-aligned to `rank` dimensions, 0 where the dimension is broadcast.
    package static func broadcastStrides(_ shape: [Int], to output: [Int]) -> [Int] {
        let rank = output.count
        let padded = Array(repeating: 1, count: rank - shape.count) + shape
        let strides = Tensor.strides(of: padded)
        return (0..<rank).map { padded[$0] == 1 && output[$0] != 1 ? 0 : strides[$0] }
    }

    /// The broadcast of two shapes, or a runtime error naming them.
    package static func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        guard let shape = Tensor.broadcastShape([a, b]) else {
            throw InferenceError(.runtimeFailure, "shapes \(a) and \(b) cannot be broadcast together")
        }
        return shape
    }

    /// Applies `op` to `a` and `b` broadcast together (numpy rules). Equal shapes, scalars and a trailing
    /// suffix (`[N, C] op [C]`) take direct loops; other shapes walk the output with an odometer whose
    /// innermost dimension is a strided loop. Always inlined so that `op` is inlined into the loops.
    @inline(__always)
    package static func binary<A, B, R>(
        _ a: [A],
        _ aShape: [Int],
        _ b: [B],
        _ bShape: [Int],
        _ op: (A, B) -> R
    ) throws -> (elements: [R], shape: [Int]) {
        let shape = aShape == bShape ? aShape : try ElementwiseLoops.broadcastShape(aShape, bShape)
        let n = try Tensor.elementCount(of: shape)
        guard n > 0 else { return ([], shape) }
        let na = a.count
        let nb = b.count
        guard na == (try Tensor.elementCount(of: aShape)), nb == (try Tensor.elementCount(of: bShape)) else {
            throw InferenceError(.runtimeFailure, "tensor element counts do not match their shapes")
        }
        let result = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                [R](unsafeUninitializedCapacity: n) { buffer, initialized in
                    let out = buffer
                    if na == n && nb == n {
                        for i in 0..<n { out.initializeElement(at: i, to: op(pa[i], pb[i])) }
                    } else if nb == 1 && na == n {
                        let y = pb[0]
                        for i in 0..<n { out.initializeElement(at: i, to: op(pa[i], y)) }
                    } else if na == 1 && nb == n {
                        let x = pa[0]
                        for i in 0..<n { out.initializeElement(at: i, to: op(x, pb[i])) }
                    } else if na == n && ElementwiseLoops.isTrailingSuffix(bShape, of: shape) {
                        var i = 0
                        while i < n {
                            for j in 0..<nb { out.initializeElement(at: i + j, to: op(pa[i + j], pb[j])) }
                            i += nb
                        }
                    } else if nb == n && ElementwiseLoops.isTrailingSuffix(aShape, of: shape) {
                        var i = 0
                        while i < n {
                            for j in 0..<na { out.initializeElement(at: i + j, to: op(pa[j], pb[i + j])) }
                            i += na
                        }
                    } else {
                        let sa = ElementwiseLoops.broadcastStrides(aShape, to: shape)
                        let sb = ElementwiseLoops.broadcastStrides(bShape, to: shape)
                        ElementwiseLoops.walk(shape, sa, sb) { o, oa, ob, len, ia, ib in
                            for j in 0..<len {
                                out.initializeElement(at: o + j, to: op(pa[oa + j * ia], pb[ob + j * ib]))
                            }
                        }
                    }
                    initialized = n
                }
            }
        }
        return (result, shape)
    }

    /// Whether `part` (ignoring leading 1s) equals the trailing dimensions of `shape`.
    package static func isTrailingSuffix(_ part: [Int], of shape: [Int]) -> Bool {
        let trimmed = part.drop { $0 == 1 }
        return trimmed.count <= shape.count && trimmed.elementsEqual(shape.suffix(trimmed.count))
    }

    /// Walks a non-empty output `shape` row by row (the innermost dimension), calling
    /// `body(outputOffset, aOffset, bOffset, rowLength, aInnerStride, bInnerStride)`.
    package static func walk(
        _ shape: [Int],
        _ sa: [Int],
        _ sb: [Int],
        _ body: (Int, Int, Int, Int, Int, Int) -> Void
    ) {
        let rank = shape.count
        guard rank > 0 else {
            body(0, 0, 0, 1, 0, 0)
            return
        }
        let inner = shape[rank - 1]
        let rows = ElementwiseLoops.product(shape.dropLast())
        var index = [Int](repeating: 0, count: rank)
        var oa = 0
        var ob = 0
        for r in 0..<rows {
            body(r * inner, oa, ob, inner, sa[rank - 1], sb[rank - 1])
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                oa += sa[d]
                ob += sb[d]
                if index[d] < shape[d] { break }
                oa -= sa[d] * shape[d]
                ob -= sb[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

extension ElementwiseLoops {
    /// The product of some dimensions of a valid tensor shape: 0 when any is 0, so that dimensions of an empty
    /// tensor (whose full product is not bounded) never overflow.
    package static func product<C: Collection>(_ dims: C) -> Int where C.Element == Int {
        if dims.contains(0) { return 0 }
        var p = 1
        for d in dims {
            let (r, overflow) = p.multipliedReportingOverflow(by: d)
            p = overflow ? Int.max : r
        }
        return p
    }
}
