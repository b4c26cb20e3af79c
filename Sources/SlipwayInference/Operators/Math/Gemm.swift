/// Gemm: `Y = alpha * A' * B' + beta * C`, with `A'`/`B'` optionally transposed and `C` broadcast to `[M, N]`.
/// `C` is required before opset 11 and optional from 11.
extension LinearAlgebraOperators {
    static func compileGemm(_ ctx: NodeContext) throws -> CompiledKernel {
        let requiresC = ctx.opset < 11
        try ctx.requireInputs(requiresC ? 3...3 : 2...3)
        let hasC = try ctx.optionalInputType(2) != nil
        let type = try ctx.requireSameType(hasC ? [0, 1, 2] : [0, 1])
        try ctx.requireInputType(0, in: LinearAlgebraOperators.matrixTypes)
        let alpha = try ctx.float("alpha", default: 1)
        let beta = try ctx.float("beta", default: 1)
        let transA = try ctx.int("transA", default: 0)
        let transB = try ctx.int("transB", default: 0)
        for (name, value) in [("transA", transA), ("transB", transB)] where value != 0 && value != 1 {
            throw ctx.attributeError(name, "is \(value), expected 0 or 1")
        }
        if !type.isFloatingPoint {
            for (name, value) in [("alpha", alpha), ("beta", beta)]
            where Int32(exactly: value) == nil {
                throw ctx.attributeError(name, "is \(value), expected a whole number for \(type) inputs")
            }
        }
        for i in 0..<2 {
            if let t = ctx.constant(i), t.rank != 2 {
                throw ctx.error("input \(i) has shape \(t.shape), Gemm needs a 2-D matrix")
            }
        }
        var packed: PackedFloatMatrix?
        if type == .float, let b = ctx.constant(1), let values = b.floats, b.count > 0 {
            let (k, n) = transB == 1 ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            packed = PackedFloatMatrix(values, k: k, n: n, transposed: transB == 1)
        }
        let kernel = GemmKernel(
            label: ctx.label,
            alpha: alpha,
            beta: beta,
            transA: transA == 1,
            transB: transB == 1,
            packed: packed
        )
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }
}

/// The compiled Gemm node.
struct GemmKernel: Kernel {
    let label: String
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool
    let packed: PackedFloatMatrix?

    /// How `C` maps onto the `[M, N]` output: its row stride (0 when broadcast) and column stride.
    struct Bias {
        var rowStride: Int
        var columnStride: Int
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let a = try inputs.tensor(0)
        let b = try inputs.tensor(1)
        let c = try inputs.optionalTensor(2)
        guard a.rank == 2, b.rank == 2 else {
            throw InferenceError(
                .runtimeFailure,
                "\(self.label): A and B must be 2-D matrices, got shapes \(a.shape) and \(b.shape)"
            )
        }
        let (m, k) = self.transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = self.transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else {
            throw InferenceError(
                .runtimeFailure,
                "\(self.label): A \(a.shape) and B \(b.shape) are not aligned (transA=\(self.transA ? 1 : 0), "
                    + "transB=\(self.transB ? 1 : 0)): \(k) != \(kb)"
            )
        }
        let total = try Tensor.elementCount(of: [m, n])
        var bias: Bias?
        if let c {
            let padded = Array(repeating: 1, count: max(0, 2 - c.rank)) + c.shape
            guard c.rank <= 2, padded[0] == 1 || padded[0] == m, padded[1] == 1 || padded[1] == n else {
                throw InferenceError(
                    .runtimeFailure,
                    "\(self.label): C of shape \(c.shape) cannot be broadcast to [\(m), \(n)]"
                )
            }
            bias = Bias(rowStride: padded[0] == 1 ? 0 : padded[1], columnStride: padded[1] == 1 ? 0 : 1)
        }
        let mismatch = InferenceError(
            .runtimeFailure,
            "\(self.label): inputs are \(a.elementType), \(b.elementType)"
                + (c.map { ", \($0.elementType)" } ?? "") + "; expected matching float, double, int32 or int64"
        )
        let storage: Tensor.Storage
        switch (a.storage, b.storage, c?.storage) {
        case (.float(let x), .float(let y), let z):
            guard let zv = try self.bias(z, Float.self) else { throw mismatch }
            storage = .float(self.gemmFloat(x, y, zv, bias, m: m, k: k, n: n, total: total, context))
        case (.double(let x), .double(let y), let z):
            guard let zv = try self.bias(z, Double.self) else { throw mismatch }
            storage = .double(self.gemm(x, y, zv, bias, m: m, k: k, n: n, total: total, context))
        case (.int64(let x), .int64(let y), let z):
            guard let zv = try self.bias(z, Int64.self) else { throw mismatch }
            storage = .int64(self.gemm(x, y, zv, bias, m: m, k: k, n: n, total: total, context))
        case (.int32(let x), .int32(let y), let z):
            guard let zv = try self.bias(z, Int32.self) else { throw mismatch }
            storage = .int32(self.gemm(x, y, zv, bias, m: m, k: k, n: n, total: total, context))
        default:
            throw mismatch
        }
        return [.tensor(Tensor(unchecked: [m, n], storage))]
    }

    /// The elements of C as `T` (`[]` when C is absent), or `nil` when C holds another type.
    private func bias<T: TensorElement>(_ storage: Tensor.Storage?, _ type: T.Type) throws -> [T]? {
        guard let storage else { return [] }
        return T.elements(storage)
    }

    /// Applies `alpha` and `beta * C` to rows `range` of the product.
    @inline(__always)
    private func finish<T: LinearAlgebraScalar>(
        _ o: UnsafeMutablePointer<T>,
        _ c: UnsafePointer<T>?,
        _ bias: Bias?,
        alpha: T,
        beta: T,
        scaleByAlpha: Bool,
        n: Int,
        rows: Range<Int>
    ) {
        if let c, let bias, self.beta != 0 {
            for i in rows {
                let row = o + i * n
                let cRow = c + i * bias.rowStride
                for j in 0..<n { row[j] = T.combine(alpha, row[j], beta, cRow[j * bias.columnStride]) }
            }
        } else if scaleByAlpha {
            for i in rows {
                let row = o + i * n
                for j in 0..<n { row[j] = T.scale(alpha, row[j]) }
            }
        }
    }

    private func gemmFloat(
        _ a: [Float],
        _ b: [Float],
        _ c: [Float],
        _ bias: Bias?,
        m: Int,
        k: Int,
        n: Int,
        total: Int,
        _ context: ExecutionContext
    ) -> [Float] {
        if total == 0 { return [] }
        let lhs =
            self.transA ? a.withUnsafeBufferPointer { LinearAlgebraOperators.transposed($0, rows: k, cols: m) } : a
        let matrix: PackedFloatMatrix?
        if let packed = self.packed, packed.k == k, packed.n == n {
            matrix = packed
        } else if k > 0 {
            matrix = PackedFloatMatrix(b, k: k, n: n, transposed: self.transB)
        } else {
            matrix = nil
        }
        let minimum = LinearAlgebraOperators.minimumRowsPerThread(k: k, n: n)
        let scaleByAlpha = self.alpha != 1
        return [Float](unsafeUninitializedCapacity: total) { out, count in
            let o = out.baseAddress!
            lhs.withUnsafeBufferPointer { ab in
                c.withUnsafeBufferPointer { cb in
                    context.parallelChunks(m, minimumPerThread: minimum) { range in
                        if let matrix {
                            matrix.multiply(ab.baseAddress!, o, rows: range)
                        } else {
                            (o + range.lowerBound * n).initialize(repeating: 0, count: range.count * n)
                        }
                        self.finish(
                            o,
                            cb.baseAddress,
                            bias,
                            alpha: self.alpha,
                            beta: self.beta,
                            scaleByAlpha: scaleByAlpha,
                            n: n,
                            rows: range
                        )
                    }
                }
            }
            count = total
        }
    }

    private func gemm<T: LinearAlgebraScalar & BinaryConvertible>(
        _ a: [T],
        _ b: [T],
        _ c: [T],
        _ bias: Bias?,
        m: Int,
        k: Int,
        n: Int,
        total: Int,
        _ context: ExecutionContext
    ) -> [T] {
        if total == 0 { return [] }
        let lhs =
            self.transA ? a.withUnsafeBufferPointer { LinearAlgebraOperators.transposed($0, rows: k, cols: m) } : a
        let rhs =
            self.transB ? b.withUnsafeBufferPointer { LinearAlgebraOperators.transposed($0, rows: n, cols: k) } : b
        let alpha = T(converting: self.alpha)
        let beta = T(converting: self.beta)
        let minimum = LinearAlgebraOperators.minimumRowsPerThread(k: k, n: n)
        let scaleByAlpha = self.alpha != 1
        return [T](unsafeUninitializedCapacity: total) { out, count in
            let o = out.baseAddress!
            lhs.withUnsafeBufferPointer { ab in
                rhs.withUnsafeBufferPointer { bb in
                    c.withUnsafeBufferPointer { cb in
                        context.parallelChunks(m, minimumPerThread: minimum) { range in
                            if k == 0 {
                                (o + range.lowerBound * n).initialize(repeating: .zero, count: range.count * n)
                            } else {
                                LinearAlgebraOperators.multiplyRows(
                                    ab.baseAddress!,
                                    bb.baseAddress!,
                                    o,
                                    k: k,
                                    n: n,
                                    rows: range
                                )
                            }
                            self.finish(
                                o,
                                cb.baseAddress,
                                bias,
                                alpha: alpha,
                                beta: beta,
                                scaleByAlpha: scaleByAlpha,
                                n: n,
                                rows: range
                            )
                        }
                    }
                }
            }
            count = total
        }
    }
}

/// Conversion of Gemm's float `alpha`/`beta` attributes to the element type (whole numbers for integers, checked
/// when the node compiles).
protocol BinaryConvertible {
    init(converting value: Float)
}

extension Double: BinaryConvertible {
    init(converting value: Float) { self = Double(value) }
}

extension Int64: BinaryConvertible {
    init(converting value: Float) { self = Int64(exactly: value) ?? 0 }
}

extension Int32: BinaryConvertible {
    init(converting value: Float) { self = Int32(exactly: value) ?? 0 }
}
