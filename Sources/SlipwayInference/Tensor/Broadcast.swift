/// Index maps for numpy-style broadcasting (the elementwise loops themselves are in `ElementwiseLoops`).
package enum Broadcast {
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
}
