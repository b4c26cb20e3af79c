/// The operators of this family, registered in OperatorRegistry/standard.
///
/// MatMul and Gemm, sharing the matrix kernels below: a register-blocked float32 kernel over a packed right-hand
/// matrix, and a plain i-k-j kernel for double, int32 and int64.
package enum LinearAlgebraOperators {
    package static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "MatMul", opsets: 7...28, compile: LinearAlgebraOperators.compileMatMul),
        OperatorDefinition(onnxDomain, "Gemm", opsets: 7...28, compile: LinearAlgebraOperators.compileGemm),
        LinearAlgebraOperators.fusedMatMul,
    ]

    /// The element types MatMul and Gemm compute with.
    static let matrixTypes: Set<ElementType> = [.float, .double, .int32, .int64]

    /// The smallest number of rows a thread gets so that each chunk does at least ~32k multiply-adds.
    static func minimumRowsPerThread(k: Int, n: Int) -> Int {
        max(4, 32_768 / max(1, k * n))
    }
}

// MARK: Scalars

/// An element type the matrix kernels support, with integer arithmetic that wraps instead of trapping.
protocol LinearAlgebraScalar: NumericElement {
    /// `acc + a * b`.
    static func mulAdd(_ acc: Self, _ a: Self, _ b: Self) -> Self
    /// `alpha * x + beta * y`.
    static func combine(_ alpha: Self, _ x: Self, _ beta: Self, _ y: Self) -> Self
    /// `alpha * x`.
    static func scale(_ alpha: Self, _ x: Self) -> Self
}

extension Float: LinearAlgebraScalar {
    @inline(__always) static func mulAdd(_ acc: Float, _ a: Float, _ b: Float) -> Float { acc + a * b }
    @inline(__always) static func combine(_ alpha: Float, _ x: Float, _ beta: Float, _ y: Float) -> Float {
        alpha * x + beta * y
    }
    @inline(__always) static func scale(_ alpha: Float, _ x: Float) -> Float { alpha * x }
}

extension Double: LinearAlgebraScalar {
    @inline(__always) static func mulAdd(_ acc: Double, _ a: Double, _ b: Double) -> Double { acc + a * b }
    @inline(__always) static func combine(_ alpha: Double, _ x: Double, _ beta: Double, _ y: Double) -> Double {
        alpha * x + beta * y
    }
    @inline(__always) static func scale(_ alpha: Double, _ x: Double) -> Double { alpha * x }
}

extension Int64: LinearAlgebraScalar {
    @inline(__always) static func mulAdd(_ acc: Int64, _ a: Int64, _ b: Int64) -> Int64 { acc &+ a &* b }
    @inline(__always) static func combine(_ alpha: Int64, _ x: Int64, _ beta: Int64, _ y: Int64) -> Int64 {
        alpha &* x &+ beta &* y
    }
    @inline(__always) static func scale(_ alpha: Int64, _ x: Int64) -> Int64 { alpha &* x }
}

extension Int32: LinearAlgebraScalar {
    @inline(__always) static func mulAdd(_ acc: Int32, _ a: Int32, _ b: Int32) -> Int32 { acc &+ a &* b }
    @inline(__always) static func combine(_ alpha: Int32, _ x: Int32, _ beta: Int32, _ y: Int32) -> Int32 {
        alpha &* x &+ beta &* y
    }
    @inline(__always) static func scale(_ alpha: Int32, _ x: Int32) -> Int32 { alpha &* x }
}

// MARK: Generic kernel

extension LinearAlgebraOperators {
    /// `out[rows, n] = a[rows, k] * b[k, n]` for row-major matrices, i-k-j order (the row of `b` is streamed and
    /// accumulated into the output row).
    @inline(__always)
    static func multiplyRows<T: LinearAlgebraScalar>(
        _ a: UnsafePointer<T>,
        _ b: UnsafePointer<T>,
        _ out: UnsafeMutablePointer<T>,
        k: Int,
        n: Int,
        rows: Range<Int>
    ) {
        for i in rows {
            let o = out + i * n
            o.initialize(repeating: .zero, count: n)
            let row = a + i * k
            for kk in 0..<k {
                let av = row[kk]
                let br = b + kk * n
                for j in 0..<n { o[j] = T.mulAdd(o[j], av, br[j]) }
            }
        }
    }

    /// A row-major `[rows, cols]` matrix transposed to `[cols, rows]`.
    static func transposed<T>(_ m: UnsafeBufferPointer<T>, rows: Int, cols: Int) -> [T] {
        [T](unsafeUninitializedCapacity: rows * cols) { buffer, count in
            for r in 0..<rows {
                for c in 0..<cols {
                    (buffer.baseAddress! + (c * rows + r)).initialize(to: m[r * cols + c])
                }
            }
            count = rows * cols
        }
    }
}

// MARK: Float kernel

/// A float32 right-hand matrix `[k, n]` packed for the register-blocked kernel: panels of 8 columns
/// (`[panel][k][8]`), then the remaining columns as one panel of 4 or 8 (zero padded). Matrices with one or two
/// columns are stored transposed instead (`[n][k]`) and multiplied with dot products.
struct PackedFloatMatrix: Sendable {
    /// The shared dimension.
    let k: Int
    /// The number of output columns.
    let n: Int
    /// The packed values.
    let values: [Float]

    /// Whether the matrix is stored transposed for dot products (`n <= 2`).
    var usesDotProducts: Bool { self.n <= 2 }
    /// The number of full 8-column panels.
    var fullPanels: Int { self.n / 8 }
    /// The width of the last, partial panel (0, 4 or 8).
    var tailWidth: Int {
        let tail = self.n % 8
        return tail == 0 ? 0 : (tail <= 4 ? 4 : 8)
    }

    /// Packs `b`, which is `[k, n]` row-major, or `[n, k]` when `transposed`.
    init(_ b: UnsafePointer<Float>, k: Int, n: Int, transposed: Bool) {
        self.k = k
        self.n = n
        if n <= 2 {
            self.values = [Float](unsafeUninitializedCapacity: n * k) { buffer, count in
                let dst = buffer.baseAddress!
                for j in 0..<n {
                    for kk in 0..<k { (dst + j * k + kk).initialize(to: transposed ? b[j * k + kk] : b[kk * n + j]) }
                }
                count = n * k
            }
            return
        }
        let full = n / 8
        let tail = n % 8
        let tailWidth = tail == 0 ? 0 : (tail <= 4 ? 4 : 8)
        let total = (full * 8 + tailWidth) * k
        self.values = [Float](unsafeUninitializedCapacity: total) { buffer, count in
            let dst = buffer.baseAddress!
            var position = 0
            func pack(firstColumn: Int, width: Int) {
                for kk in 0..<k {
                    for j in 0..<width {
                        let col = firstColumn + j
                        let v: Float = col < n ? (transposed ? b[col * k + kk] : b[kk * n + col]) : 0
                        (dst + position).initialize(to: v)
                        position += 1
                    }
                }
            }
            for p in 0..<full { pack(firstColumn: p * 8, width: 8) }
            if tailWidth > 0 { pack(firstColumn: full * 8, width: tailWidth) }
            count = total
        }
    }

    /// Packs a float array holding `[k, n]` (or `[n, k]` when `transposed`); `b` must not be empty.
    init(_ b: [Float], k: Int, n: Int, transposed: Bool) {
        self = b.withUnsafeBufferPointer { PackedFloatMatrix($0.baseAddress!, k: k, n: n, transposed: transposed) }
    }

    /// The length a bias for ``multiply(_:_:rows:bias:activation:)`` must have: `n` zero padded to whole panels.
    var paddedWidth: Int { self.usesDotProducts ? self.n : self.fullPanels * 8 + self.tailWidth }

    /// `out[rows, n] = activation(a[rows, k] * self + bias)` (row strides `k` and `n`). `bias`, when given, holds
    /// ``paddedWidth`` values; it is added to each finished product, as a separate Add would.
    func multiply(
        _ a: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>,
        rows: Range<Int>,
        bias: UnsafePointer<Float>? = nil,
        activation: DenseActivation = .none
    ) {
        let k = self.k
        let n = self.n
        self.values.withUnsafeBufferPointer { packed in
            let b = packed.baseAddress!
            if self.usesDotProducts {
                for i in rows {
                    for j in 0..<n {
                        var v = PackedFloatMatrix.dot(a + i * k, b + j * k, k)
                        if let bias { v += bias[j] }
                        out[i * n + j] = activation.apply(v)
                    }
                }
                return
            }
            let full = self.fullPanels
            let tailWidth = self.tailWidth
            let tailBase = b + full * 8 * k
            let tailColumns = n - full * 8
            var i = rows.lowerBound
            while i + 4 <= rows.upperBound {
                // Pairs of panels first: eight independent accumulators hide the add latency.
                var p = 0
                while p + 2 <= full {
                    PackedFloatMatrix.block4x2(
                        a + i * k,
                        k,
                        b + p * 8 * k,
                        out + i * n + p * 8,
                        n,
                        bias.map { $0 + p * 8 },
                        activation
                    )
                    p += 2
                }
                if p < full {
                    PackedFloatMatrix.block4(
                        SIMD8<Float>.self,
                        a + i * k,
                        k,
                        b + p * 8 * k,
                        out + i * n + p * 8,
                        n,
                        8,
                        bias.map { $0 + p * 8 },
                        activation
                    )
                }
                if tailWidth == 4 {
                    PackedFloatMatrix.block4(
                        SIMD4<Float>.self,
                        a + i * k,
                        k,
                        tailBase,
                        out + i * n + full * 8,
                        n,
                        tailColumns,
                        bias.map { $0 + full * 8 },
                        activation
                    )
                } else if tailWidth == 8 {
                    PackedFloatMatrix.block4(
                        SIMD8<Float>.self,
                        a + i * k,
                        k,
                        tailBase,
                        out + i * n + full * 8,
                        n,
                        tailColumns,
                        bias.map { $0 + full * 8 },
                        activation
                    )
                }
                i += 4
            }
            while i < rows.upperBound {
                var p = 0
                while p + 4 <= full {
                    PackedFloatMatrix.block1x4(
                        a + i * k,
                        k,
                        b + p * 8 * k,
                        out + i * n + p * 8,
                        bias.map { $0 + p * 8 },
                        activation
                    )
                    p += 4
                }
                while p < full {
                    PackedFloatMatrix.block1(
                        SIMD8<Float>.self,
                        a + i * k,
                        k,
                        b + p * 8 * k,
                        out + i * n + p * 8,
                        8,
                        bias.map { $0 + p * 8 },
                        activation
                    )
                    p += 1
                }
                if tailWidth == 4 {
                    PackedFloatMatrix.block1(
                        SIMD4<Float>.self,
                        a + i * k,
                        k,
                        tailBase,
                        out + i * n + full * 8,
                        tailColumns,
                        bias.map { $0 + full * 8 },
                        activation
                    )
                } else if tailWidth == 8 {
                    PackedFloatMatrix.block1(
                        SIMD8<Float>.self,
                        a + i * k,
                        k,
                        tailBase,
                        out + i * n + full * 8,
                        tailColumns,
                        bias.map { $0 + full * 8 },
                        activation
                    )
                }
                i += 1
            }
        }
    }

    /// Four rows of `a` times two adjacent 8-column panels (16 columns), accumulated in eight registers.
    @inline(__always)
    private static func block4x2(
        _ a: UnsafePointer<Float>,
        _ k: Int,
        _ panel: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>,
        _ n: Int,
        _ bias: UnsafePointer<Float>?,
        _ activation: DenseActivation
    ) {
        typealias V = SIMD8<Float>
        let next = panel + 8 * k
        let a0 = a
        let a1 = a0 + k
        let a2 = a1 + k
        let a3 = a2 + k
        var c0 = V()
        var c1 = V()
        var c2 = V()
        var c3 = V()
        var d0 = V()
        var d1 = V()
        var d2 = V()
        var d3 = V()
        for kk in 0..<k {
            let bv = UnsafeRawPointer(panel + kk * 8).loadUnaligned(as: V.self)
            let bw = UnsafeRawPointer(next + kk * 8).loadUnaligned(as: V.self)
            let x0 = a0[kk]
            let x1 = a1[kk]
            let x2 = a2[kk]
            let x3 = a3[kk]
            c0 += bv * x0
            d0 += bw * x0
            c1 += bv * x1
            d1 += bw * x1
            c2 += bv * x2
            d2 += bw * x2
            c3 += bv * x3
            d3 += bw * x3
        }
        let biasNext = bias.map { $0 + 8 }
        PackedFloatMatrix.store(c0, out, 8, bias, activation)
        PackedFloatMatrix.store(d0, out + 8, 8, biasNext, activation)
        PackedFloatMatrix.store(c1, out + n, 8, bias, activation)
        PackedFloatMatrix.store(d1, out + n + 8, 8, biasNext, activation)
        PackedFloatMatrix.store(c2, out + 2 * n, 8, bias, activation)
        PackedFloatMatrix.store(d2, out + 2 * n + 8, 8, biasNext, activation)
        PackedFloatMatrix.store(c3, out + 3 * n, 8, bias, activation)
        PackedFloatMatrix.store(d3, out + 3 * n + 8, 8, biasNext, activation)
    }

    /// Four rows of `a` times one panel (`V.scalarCount` columns), accumulated in registers.
    @inline(__always)
    private static func block4<V: SIMD>(
        _: V.Type,
        _ a: UnsafePointer<Float>,
        _ k: Int,
        _ panel: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>,
        _ n: Int,
        _ columns: Int,
        _ bias: UnsafePointer<Float>?,
        _ activation: DenseActivation
    ) where V.Scalar == Float {
        let w = V.scalarCount
        let a0 = a
        let a1 = a0 + k
        let a2 = a1 + k
        let a3 = a2 + k
        var c0 = V()
        var c1 = V()
        var c2 = V()
        var c3 = V()
        for kk in 0..<k {
            let bv = UnsafeRawPointer(panel + kk * w).loadUnaligned(as: V.self)
            c0 += bv * a0[kk]
            c1 += bv * a1[kk]
            c2 += bv * a2[kk]
            c3 += bv * a3[kk]
        }
        PackedFloatMatrix.store(c0, out, columns, bias, activation)
        PackedFloatMatrix.store(c1, out + n, columns, bias, activation)
        PackedFloatMatrix.store(c2, out + 2 * n, columns, bias, activation)
        PackedFloatMatrix.store(c3, out + 3 * n, columns, bias, activation)
    }

    /// One row of `a` times one panel. Each output sums its products in the same order as ``block4`` (one
    /// accumulator, `k` ascending), so a row's result does not depend on how rows were split into blocks or
    /// threads.
    @inline(__always)
    private static func block1<V: SIMD>(
        _: V.Type,
        _ a: UnsafePointer<Float>,
        _ k: Int,
        _ panel: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>,
        _ columns: Int,
        _ bias: UnsafePointer<Float>?,
        _ activation: DenseActivation
    ) where V.Scalar == Float {
        let w = V.scalarCount
        var c = V()
        for kk in 0..<k { c += UnsafeRawPointer(panel + kk * w).loadUnaligned(as: V.self) * a[kk] }
        PackedFloatMatrix.store(c, out, columns, bias, activation)
    }

    /// One row of `a` times four adjacent 8-column panels: four independent accumulators shorten the dependency
    /// chain of single-row calls, with the same summation order as ``block4``.
    @inline(__always)
    private static func block1x4(
        _ a: UnsafePointer<Float>,
        _ k: Int,
        _ panel: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>,
        _ bias: UnsafePointer<Float>?,
        _ activation: DenseActivation
    ) {
        typealias V = SIMD8<Float>
        let step = 8 * k
        var c0 = V()
        var c1 = V()
        var c2 = V()
        var c3 = V()
        for kk in 0..<k {
            let x = a[kk]
            c0 += UnsafeRawPointer(panel + kk * 8).loadUnaligned(as: V.self) * x
            c1 += UnsafeRawPointer(panel + step + kk * 8).loadUnaligned(as: V.self) * x
            c2 += UnsafeRawPointer(panel + 2 * step + kk * 8).loadUnaligned(as: V.self) * x
            c3 += UnsafeRawPointer(panel + 3 * step + kk * 8).loadUnaligned(as: V.self) * x
        }
        PackedFloatMatrix.store(c0, out, 8, bias, activation)
        PackedFloatMatrix.store(c1, out + 8, 8, bias.map { $0 + 8 }, activation)
        PackedFloatMatrix.store(c2, out + 16, 8, bias.map { $0 + 16 }, activation)
        PackedFloatMatrix.store(c3, out + 24, 8, bias.map { $0 + 24 }, activation)
    }

    /// Stores `activation(v + bias)` (the first `columns` lanes).
    @inline(__always)
    private static func store<V: SIMD>(
        _ v: V,
        _ o: UnsafeMutablePointer<Float>,
        _ columns: Int,
        _ bias: UnsafePointer<Float>?,
        _ activation: DenseActivation
    ) where V.Scalar == Float {
        if columns == V.scalarCount {
            UnsafeMutableRawPointer(o).storeBytes(of: v, as: V.self)
        } else {
            for j in 0..<columns { o[j] = v[j] }
        }
        guard let bias else { return }
        // Scalar loops over the stored block (the compiler vectorizes them); the activation is chosen once.
        switch activation {
        case .none:
            for j in 0..<columns { o[j] = o[j] + bias[j] }
        case .relu:
            for j in 0..<columns { o[j] = ReluOp.apply(o[j] + bias[j]) }
        case .leakyRelu(let alpha):
            for j in 0..<columns { o[j] = LeakyReluOp.apply(o[j] + bias[j], alpha) }
        case .sigmoid:
            for j in 0..<columns { o[j] = SigmoidOp.apply(o[j] + bias[j], 0) }
        case .tanh:
            for j in 0..<columns { o[j] = TanhOp.apply(o[j] + bias[j], 0) }
        }
    }

    /// The dot product of two float vectors of length `k`.
    @inline(__always)
    private static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ k: Int) -> Float {
        var acc = SIMD8<Float>()
        var kk = 0
        while kk + 8 <= k {
            acc +=
                UnsafeRawPointer(x + kk).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(y + kk).loadUnaligned(as: SIMD8<Float>.self)
            kk += 8
        }
        var s = acc.sum()
        while kk < k {
            s += x[kk] * y[kk]
            kk += 1
        }
        return s
    }
}

/// The activation a fused dense layer applies to its outputs, with the same arithmetic as the standalone
/// operators (``ReluOp``, ``SigmoidOp``, ``TanhOp``, ``LeakyReluOp``) so that fusing does not change results.
enum DenseActivation: Sendable, Equatable {
    case none
    case relu
    case sigmoid
    case tanh
    case leakyRelu(Float)

    /// The activation of one value.
    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch self {
        case .none: x
        case .relu: ReluOp.apply(x)
        case .sigmoid: SigmoidOp.apply(x, 0)
        case .tanh: TanhOp.apply(x, 0)
        case .leakyRelu(let alpha): LeakyReluOp.apply(x, alpha)
        }
    }
}
