/// `TopK`: the `k` largest (or smallest) elements along an axis with their int64 indices. Ties go to the
/// lower index; NaN counts as larger than every number.
package struct TopKKernel: Kernel {
    /// `k` from the attribute (before opset 10), or `nil` to read input 1.
    let attributeK: Int?
    let axis: Int
    let largest: Bool

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try inputs.tensor(0)
        let k: Int
        if let attributeK = self.attributeK {
            k = attributeK
        } else {
            let t = try inputs.tensor(1)
            guard let v = t.integers, v.count == 1 else {
                throw InferenceError(
                    .runtimeFailure,
                    "TopK input K must be a single int64, got \(t.elementType) \(t.shape)"
                )
            }
            k = v[0]
        }
        let rank = x.rank
        let a = self.axis < 0 ? self.axis + rank : self.axis
        guard a >= 0, a < rank else {
            throw InferenceError(.runtimeFailure, "axis \(self.axis) is out of range for input of rank \(rank)")
        }
        let dim = x.shape[a]
        guard k >= 0, k <= dim else {
            throw InferenceError(.runtimeFailure, "TopK k=\(k) is out of range for axis \(a) of size \(dim)")
        }
        var outShape = x.shape
        outShape[a] = k
        let outer = ElementwiseLoops.product(x.shape[..<a])
        let inner = ElementwiseLoops.product(x.shape[(a + 1)...])
        func apply<T: MathElement>(_ v: [T]) throws -> [Value] {
            let n = try Tensor.elementCount(of: outShape)
            var values = [T](repeating: 0, count: n)
            var indices = [Int64](repeating: 0, count: n)
            if n == 0 {
                return [
                    .tensor(Tensor(unchecked: outShape, elements: values)),
                    .tensor(Tensor(unchecked: outShape, elements: indices)),
                ]
            }
            let largest = self.largest
            // Strict weak order: "a before b".
            func before(_ i: Int, _ j: Int, _ x: T, _ y: T) -> Bool {
                if x.isNaNValue || y.isNaNValue {
                    if x.isNaNValue && y.isNaNValue { return i < j }
                    return x.isNaNValue == largest
                }
                if x == y { return i < j }
                return largest ? x > y : x < y
            }
            var order = [Int](repeating: 0, count: dim)
            v.withUnsafeBufferPointer { p in
                for o in 0..<outer {
                    for i in 0..<inner {
                        let base = o * dim * inner + i
                        if k <= 64 && k * 4 <= dim {
                            // Small k: keep the best k in order[0..<k] by insertion, one pass over the slice.
                            var count = 0
                            for d in 0..<dim {
                                let e = p[base + d * inner]
                                if count == k && !before(d, order[k - 1], e, p[base + order[k - 1] * inner]) {
                                    continue
                                }
                                var j = count == k ? k - 1 : count
                                while j > 0 && before(d, order[j - 1], e, p[base + order[j - 1] * inner]) {
                                    order[j] = order[j - 1]
                                    j -= 1
                                }
                                order[j] = d
                                if count < k { count += 1 }
                            }
                        } else {
                            for d in 0..<dim { order[d] = d }
                            order.sort { before($0, $1, p[base + $0 * inner], p[base + $1 * inner]) }
                        }
                        let outBase = o * k * inner + i
                        for r in 0..<k {
                            values[outBase + r * inner] = p[base + order[r] * inner]
                            indices[outBase + r * inner] = Int64(order[r])
                        }
                    }
                }
            }
            return [
                .tensor(Tensor(unchecked: outShape, elements: values)),
                .tensor(Tensor(unchecked: outShape, elements: indices)),
            ]
        }
        switch x.storage {
        case .float(let v): return try apply(v)
        case .double(let v): return try apply(v)
        case .int64(let v): return try apply(v)
        case .int32(let v): return try apply(v)
        default: throw InferenceError(.runtimeFailure, "expected a numeric input, got \(x.elementType)")
        }
    }
}

extension ReductionOperators {
    /// TopK.
    static let topK: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "TopK", opsets: 7...28) { ctx in
            let type = try ctx.requireInputType(0, in: MathTypes.numeric)
            let axis = try ctx.int("axis", default: -1)
            var attributeK: Int?
            if ctx.opset < 10 {
                try ctx.requireInputs(1...1)
                let k = try ctx.int("k")
                guard k >= 0 else { throw ctx.attributeError("k", "is \(k), expected a non-negative value") }
                attributeK = k
            } else {
                try ctx.requireInputs(2...2)
                try ctx.requireInputType(1, in: [.int64])
                if let c = ctx.constant(1) {
                    guard let v = c.integers, v.count == 1, v[0] >= 0 else {
                        throw ctx.error("input 1 (K) must hold one non-negative int64, got shape \(c.shape)")
                    }
                }
            }
            var largest = true
            if ctx.opset >= 11 {
                let l = try ctx.int("largest", default: 1)
                let s = try ctx.int("sorted", default: 1)
                guard l == 0 || l == 1 else { throw ctx.attributeError("largest", "is \(l), expected 0 or 1") }
                guard s == 0 || s == 1 else { throw ctx.attributeError("sorted", "is \(s), expected 0 or 1") }
                largest = l == 1
            }
            let outputs: [ValueType] = [.tensor(type), .tensor(.int64)]
            return CompiledKernel(TopKKernel(attributeK: attributeK, axis: axis, largest: largest), outputs: outputs)
        }
    ]
}
