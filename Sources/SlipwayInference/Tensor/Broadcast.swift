/// Numpy-style broadcasting of elementwise operations.
package enum Broadcast {
    /// Applies `op` elementwise to `a` and `b` broadcast together, returning the result and its shape.
    ///
    /// Fast paths cover equal shapes, scalars and a trailing-suffix operand (`[N, C] op [C]`); other shapes
    /// go through a general strided walk.
    @inlinable
    package static func binary<A, B, R>(
        _ a: [A],
        _ aShape: [Int],
        _ b: [B],
        _ bShape: [Int],
        _ op: (A, B) -> R
    ) throws -> (elements: [R], shape: [Int]) {
        if aShape == bShape {
            return (zip(a, b).map(op), aShape)
        }
        guard let shape = Tensor.broadcastShape([aShape, bShape]) else {
            throw InferenceError(
                .runtimeFailure,
                "shapes \(aShape) and \(bShape) cannot be broadcast together"
            )
        }
        let n = try Tensor.elementCount(of: shape)
        if b.count == 1, shape == aShape {
            let y = b[0]
            return (a.map { op($0, y) }, shape)
        }
        if a.count == 1, shape == bShape {
            let x = a[0]
            return (b.map { op(x, $0) }, shape)
        }
        if n == 0 { return ([], shape) }
        // b is a suffix of a: repeat b along a's rows.
        if shape == aShape, b.count > 0,
            bShape.drop(while: { $0 == 1 }).elementsEqual(aShape.suffix(bShape.drop(while: { $0 == 1 }).count))
        {
            let inner = b.count
            var out = [R]()
            out.reserveCapacity(n)
            var i = 0
            while i < n {
                for j in 0..<inner { out.append(op(a[i + j], b[j])) }
                i += inner
            }
            return (out, shape)
        }
        if shape == bShape, a.count > 0,
            aShape.drop(while: { $0 == 1 }).elementsEqual(bShape.suffix(aShape.drop(while: { $0 == 1 }).count))
        {
            let inner = a.count
            var out = [R]()
            out.reserveCapacity(n)
            var i = 0
            while i < n {
                for j in 0..<inner { out.append(op(a[j], b[i + j])) }
                i += inner
            }
            return (out, shape)
        }
        let ia = Broadcast.indexMap(from: aShape, to: shape, count: n)
        let ib = Broadcast.indexMap(from: bShape, to: shape, count: n)
        var out = [R]()
        out.reserveCapacity(n)
        for k in 0..<n { out.append(op(a[ia[k]], b[ib[k]])) }
        return (out, shape)
    }

    /// For every element of the broadcast `shape` (row-major), the index of the source element in `source`.
    package static func indexMap(from source: [Int], to shape: [Int], count n: Int) -> [Int] {
        let rank = shape.count
        let padded = Array(repeating: 1, count: rank - source.count) + source
        let srcStrides = Tensor.strides(of: padded).enumerated().map { padded[$0.offset] == 1 ? 0 : $0.element }
        var out = [Int](repeating: 0, count: n)
        if n == 0 { return out }
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        for k in 0..<n {
            out[k] = offset
            // Increment the multi-index.
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                offset += srcStrides[d]
                if index[d] < shape[d] { break }
                offset -= srcStrides[d] * index[d]
                index[d] = 0
                d -= 1
            }
        }
        return out
    }

    /// Broadcasts one tensor's elements to `shape`.
    package static func expand<T>(_ a: [T], _ aShape: [Int], to shape: [Int]) throws -> [T] {
        guard let s = Tensor.broadcastShape([aShape, shape]), s == shape else {
            throw InferenceError(.runtimeFailure, "shape \(aShape) cannot be broadcast to \(shape)")
        }
        let n = try Tensor.elementCount(of: shape)
        if aShape == shape { return a }
        if a.count == 1 { return Array(repeating: a[0], count: n) }
        return Broadcast.indexMap(from: aShape, to: shape, count: n).map { a[$0] }
    }
}
