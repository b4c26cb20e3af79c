/// The operators of this family, registered in OperatorRegistry/standard.
///
/// MatMul and Gemm, sharing the matrix kernels below: a register-blocked float32 kernel over a packed right-hand
/// matrix, and a plain i-k-j kernel for double, int32 and int64.
package enum LinearAlgebraOperators {
    package static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "MatMul", opsets: 7...28, compile: LinearAlgebraOperators.compileMatMul),
        OperatorDefinition(onnxDomain, "Gemm", opsets: 7...28, compile: LinearAlgebraOperators.compileGemm),
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

/// A float32 right-hand matrix `[k, n]` packed into panels of 8 columns (`[panel][k][8]`, zero padded), the layout
/// the register-blocked kernel streams.
struct PackedFloatMatrix: Sendable {
    /// The shared dimension.
    let k: Int
    /// The number of output columns.
    let n: Int
    /// The panels.
    let values: [Float]

    static let width = 8

    /// Packs `b`, which is `[k, n]` row-major, or `[n, k]` when `transposed`.
    init(_ b: UnsafePointer<Float>, k: Int, n: Int, transposed: Bool) {
        self.k = k
        self.n = n
        let w = PackedFloatMatrix.width
        let panels = (n + w - 1) / w
        self.values = [Float](unsafeUninitializedCapacity: panels * k * w) { buffer, count in
            let dst = buffer.baseAddress!
            for p in 0..<panels {
                for kk in 0..<k {
                    let row = dst + (p * k + kk) * w
                    for j in 0..<w {
                        let col = p * w + j
                        let v: Float = col < n ? (transposed ? b[col * k + kk] : b[kk * n + col]) : 0
                        (row + j).initialize(to: v)
                    }
                }
            }
            count = panels * k * w
        }
    }

    /// Packs a float tensor holding `[k, n]` (or `[n, k]` when `transposed`).
    init(_ b: [Float], k: Int, n: Int, transposed: Bool) {
        self = b.withUnsafeBufferPointer { PackedFloatMatrix($0.baseAddress!, k: k, n: n, transposed: transposed) }
    }

    /// `out[rows, n] = a[rows, k] * self` (row strides `k` and `n`), four rows by eight columns at a time in registers.
    func multiply(_ a: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let k = self.k
        let n = self.n
        let w = PackedFloatMatrix.width
        let panels = (n + w - 1) / w
        self.values.withUnsafeBufferPointer { packed in
            let bBase = packed.baseAddress!
            var i = rows.lowerBound
            while i + 4 <= rows.upperBound {
                let a0 = a + i * k
                let a1 = a0 + k
                let a2 = a1 + k
                let a3 = a2 + k
                for p in 0..<panels {
                    let bp = bBase + p * k * w
                    var c0 = SIMD8<Float>()
                    var c1 = SIMD8<Float>()
                    var c2 = SIMD8<Float>()
                    var c3 = SIMD8<Float>()
                    for kk in 0..<k {
                        let bv = UnsafeRawPointer(bp + kk * w).loadUnaligned(as: SIMD8<Float>.self)
                        c0 += bv * a0[kk]
                        c1 += bv * a1[kk]
                        c2 += bv * a2[kk]
                        c3 += bv * a3[kk]
                    }
                    let o = out + i * n + p * w
                    let width = min(w, n - p * w)
                    PackedFloatMatrix.store(c0, o, width)
                    PackedFloatMatrix.store(c1, o + n, width)
                    PackedFloatMatrix.store(c2, o + 2 * n, width)
                    PackedFloatMatrix.store(c3, o + 3 * n, width)
                }
                i += 4
            }
            while i < rows.upperBound {
                let a0 = a + i * k
                for p in 0..<panels {
                    let bp = bBase + p * k * w
                    // Two accumulators halve the dependency chain for single-row calls.
                    var c0 = SIMD8<Float>()
                    var c1 = SIMD8<Float>()
                    var kk = 0
                    while kk + 2 <= k {
                        c0 += UnsafeRawPointer(bp + kk * w).loadUnaligned(as: SIMD8<Float>.self) * a0[kk]
                        c1 += UnsafeRawPointer(bp + (kk + 1) * w).loadUnaligned(as: SIMD8<Float>.self) * a0[kk + 1]
                        kk += 2
                    }
                    if kk < k {
                        c0 += UnsafeRawPointer(bp + kk * w).loadUnaligned(as: SIMD8<Float>.self) * a0[kk]
                    }
                    PackedFloatMatrix.store(c0 + c1, out + i * n + p * w, min(w, n - p * w))
                }
                i += 1
            }
        }
    }

    @inline(__always)
    private static func store(_ v: SIMD8<Float>, _ o: UnsafeMutablePointer<Float>, _ width: Int) {
        if width == 8 {
            UnsafeMutableRawPointer(o).storeBytes(of: v, as: SIMD8<Float>.self)
        } else {
            for j in 0..<width { o[j] = v[j] }
        }
    }
}
