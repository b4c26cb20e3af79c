import Foundation

/// `LinearClassifier` and `LinearRegressor` (ai.onnx.ml 1), with ONNX Runtime's scoring conventions.
enum LinearOperators {
    static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxMLDomain, "LinearClassifier", opsets: 1...5) { ctx in
            try LinearOperators.compileClassifier(ctx)
        },
        OperatorDefinition(onnxMLDomain, "LinearRegressor", opsets: 1...5) { ctx in
            try LinearOperators.compileRegressor(ctx)
        },
    ]

    static let featureTypes: Set<ElementType> = [.float, .double, .int64, .int32]

    /// Class labels of a classifier: `classlabels_strings` or an int64 list named `intName`.
    enum Labels: Sendable {
        case strings([String])
        case ints([Int64])

        var count: Int {
            switch self {
            case .strings(let s): s.count
            case .ints(let i): i.count
            }
        }

        var elementType: ElementType {
            switch self {
            case .strings: .string
            case .ints: .int64
            }
        }

        static func parse(_ ctx: NodeContext, intName: String) throws -> Labels {
            let strings = try ctx.strings("classlabels_strings", default: [])
            let ints = try ctx.int64s(intName, default: [])
            guard strings.isEmpty != ints.isEmpty else {
                throw ctx.attributeError(
                    "classlabels_strings",
                    "exactly one of classlabels_strings and \(intName) must be given"
                )
            }
            return strings.isEmpty ? .ints(ints) : .strings(strings)
        }

        /// A tensor of labels picked by index; `fallback` gives the label for an index when it is negative
        /// (ONNX Runtime's `1` / `0` labels when a binary classifier lacks two class labels).
        func tensor(_ indices: [Int], fallback: (Int) -> (String, Int64)) -> Tensor {
            switch self {
            case .strings(let s):
                return Tensor(unchecked: [indices.count], elements: indices.map { $0 >= 0 ? s[$0] : fallback($0).0 })
            case .ints(let v):
                return Tensor(unchecked: [indices.count], elements: indices.map { $0 >= 0 ? v[$0] : fallback($0).1 })
            }
        }
    }

    /// `out[n][c] = sum_f x[n][f] * w[c][f] + b[c]`, in float32.
    static func affine(
        _ x: FeatureMatrix<Float>,
        _ weights: [Float],
        _ bias: [Float]?,
        outputs: Int,
        context: ExecutionContext
    ) -> [Float] {
        let rows = x.rows
        let k = x.columns
        var out = [Float](repeating: 0, count: rows * outputs)
        x.values.withUnsafeBufferPointer { xp in
            weights.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    let op = op
                    context.parallelChunks(rows, minimumPerThread: 256) { range in
                        for n in range {
                            let row = n * k
                            for c in 0..<outputs {
                                var sum: Float = 0
                                let w = c * k
                                for f in 0..<k { sum += xp[row + f] * wp[w + f] }
                                op[n * outputs + c] = sum + (bias?[c] ?? 0)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    static func compileClassifier(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        try ctx.requireInputType(0, in: featureTypes)
        let coefficients = try ctx.floats("coefficients")
        let intercepts = try ctx.floats("intercepts", default: [])
        _ = try ctx.int("multi_class", default: 0)
        let transform = try PostTransform.parse(ctx)
        let labels = try Labels.parse(ctx, intName: "classlabels_ints")
        let classes = intercepts.isEmpty ? labels.count : intercepts.count
        guard classes > 0, !coefficients.isEmpty, coefficients.count % classes == 0 else {
            throw ctx.attributeError(
                "coefficients",
                "has \(coefficients.count) entries, expected a positive multiple of \(classes) classes"
            )
        }
        guard classes == 1 || labels.count >= classes else {
            throw ctx.attributeError("classlabels_ints", "has \(labels.count) labels for \(classes) classes")
        }
        let features = coefficients.count / classes
        let addSecondClass = classes == 1 && labels.count == 2
        let kernel = LinearClassifierKernel(
            weights: PackedWeights(coefficients, outputs: classes, features: features),
            intercepts: intercepts.isEmpty ? nil : intercepts,
            classes: classes,
            width: addSecondClass ? 2 : classes,
            transform: transform,
            labels: labels,
            op: ctx.label
        )
        return CompiledKernel(kernel, outputs: [.tensor(labels.elementType), .tensor(.float)])
    }

    /// ONNX Runtime's `batched_update_scores_inplace` for one row of `scores` values (with room for a second
    /// score when `addSecondClass >= 0` and there is one score).
    static func finishScores(
        _ row: UnsafeMutableBufferPointer<Float>,
        scores: Int,
        transform: PostTransform,
        addSecondClass: Int
    ) {
        if scores > 1 {
            MLMath.apply(transform, UnsafeMutableBufferPointer(rebasing: row[0..<scores]))
            return
        }
        var s = row[0]
        if transform == .probit {
            row[0] = MLMath.probit(s)
            return
        }
        switch addSecondClass {
        case 0, 1:
            // ONNX Runtime applies LOGISTIC to the single score before adding its complement.
            if transform == .logistic { s = MLMath.logistic(s) }
            row[0] = 1 - s
            row[1] = s
        case 2, 3:
            if transform == .logistic {
                row[0] = MLMath.logistic(-s)
                row[1] = MLMath.logistic(s)
            } else {
                row[0] = -s
                row[1] = s
            }
        default:
            break
        }
    }

    static func compileRegressor(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        try ctx.requireInputType(0, in: featureTypes)
        let coefficients = try ctx.floats("coefficients")
        let targets = try ctx.int("targets", default: 1)
        guard targets >= 1, targets <= coefficients.count, coefficients.count % targets == 0 else {
            throw ctx.attributeError(
                "targets",
                "is \(targets), expected a positive divisor of the \(coefficients.count) coefficients"
            )
        }
        let intercepts = try ctx.floats("intercepts", default: [])
        let transform = try PostTransform.parse(ctx)
        let features = coefficients.count / targets
        let bias = intercepts.count == targets ? intercepts : nil
        let label = ctx.label
        let kernel = ClosureKernel { inputs, context in
            let x = try FeatureMatrix.floats(try inputs.tensor(0), op: label)
            guard x.columns == features else {
                throw InferenceError(.runtimeFailure, "\(label): input has \(x.columns) features, expected \(features)")
            }
            var y = LinearOperators.affine(x, coefficients, bias, outputs: targets, context: context)
            if transform != .none {
                y.withUnsafeMutableBufferPointer { yp in
                    for n in 0..<x.rows {
                        let row = UnsafeMutableBufferPointer(rebasing: yp[(n * targets)..<(n * targets + targets)])
                        LinearOperators.finishScores(row, scores: targets, transform: transform, addSecondClass: -1)
                    }
                }
            }
            return [.tensor(Tensor(unchecked: [x.rows, targets], elements: y))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(.float)])
    }
}

/// A `[outputs, features]` weight matrix packed at load time as `[features, padded outputs]` (outputs padded to a
/// multiple of 4), so that a row's scores accumulate as SIMD vectors over the outputs.
struct PackedWeights: Sendable {
    let values: [Float]
    let outputs: Int
    let features: Int
    let padded: Int

    init(_ weights: [Float], outputs: Int, features: Int) {
        let padded = (outputs + 3) / 4 * 4
        var values = [Float](repeating: 0, count: padded * features)
        for c in 0..<outputs {
            for f in 0..<features { values[f * padded + c] = weights[c * features + f] }
        }
        self.values = values
        self.outputs = outputs
        self.features = features
        self.padded = padded
    }

    /// Writes `outputs` scores `sum_f x[f] * w[c][f]` of one row to `out`.
    @inline(__always)
    func scores(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        switch self.padded {
        case 4: Self.dot(SIMD4<Float>.self, x, w, self.features, out, self.outputs)
        case 8: Self.dot(SIMD8<Float>.self, x, w, self.features, out, self.outputs)
        case 12, 16: Self.dot(SIMD16<Float>.self, x, w, self.features, out, self.outputs, stride: self.padded)
        default:
            for block in stride(from: 0, to: self.padded, by: 4) {
                var acc = SIMD4<Float>()
                for f in 0..<self.features {
                    let v = UnsafeRawPointer(w + f * self.padded + block).loadUnaligned(as: SIMD4<Float>.self)
                    acc += SIMD4(repeating: x[f]) * v
                }
                for lane in 0..<Swift.min(4, self.outputs - block) { out[block + lane] = acc[lane] }
            }
        }
    }

    /// One row's scores with `V`-wide vectors when `stride` (floats per feature) is `V`'s width, else with
    /// 4-wide blocks for strides 12 and 16.
    @inline(__always)
    private static func dot<V: SIMD>(
        _: V.Type,
        _ x: UnsafePointer<Float>,
        _ w: UnsafePointer<Float>,
        _ features: Int,
        _ out: UnsafeMutablePointer<Float>,
        _ outputs: Int,
        stride: Int = V.scalarCount
    ) where V.Scalar == Float {
        if stride == V.scalarCount {
            var even = V()
            var odd = V()
            var f = 0
            while f + 1 < features {
                even += V(repeating: x[f]) * UnsafeRawPointer(w + f * stride).loadUnaligned(as: V.self)
                odd += V(repeating: x[f + 1]) * UnsafeRawPointer(w + (f + 1) * stride).loadUnaligned(as: V.self)
                f += 2
            }
            if f < features {
                even += V(repeating: x[f]) * UnsafeRawPointer(w + f * stride).loadUnaligned(as: V.self)
            }
            let sum = even + odd
            for c in 0..<outputs { out[c] = sum[c] }
            return
        }
        // A stride narrower than the vector (12 outputs in 16 lanes): accumulate 4-wide blocks.
        var a0 = SIMD4<Float>()
        var a1 = SIMD4<Float>()
        var a2 = SIMD4<Float>()
        var b0 = SIMD4<Float>()
        var b1 = SIMD4<Float>()
        var b2 = SIMD4<Float>()
        var f = 0
        while f + 1 < features {
            let p = UnsafeRawPointer(w + f * stride)
            let q = UnsafeRawPointer(w + (f + 1) * stride)
            let xf = SIMD4<Float>(repeating: x[f])
            let xg = SIMD4<Float>(repeating: x[f + 1])
            a0 += xf * p.loadUnaligned(as: SIMD4<Float>.self)
            a1 += xf * p.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
            a2 += xf * p.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self)
            b0 += xg * q.loadUnaligned(as: SIMD4<Float>.self)
            b1 += xg * q.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
            b2 += xg * q.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self)
            f += 2
        }
        if f < features {
            let p = UnsafeRawPointer(w + f * stride)
            let xf = SIMD4<Float>(repeating: x[f])
            a0 += xf * p.loadUnaligned(as: SIMD4<Float>.self)
            a1 += xf * p.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
            a2 += xf * p.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self)
        }
        a0 += b0
        a1 += b1
        a2 += b2
        if stride == 16 {
            var a3 = SIMD4<Float>()
            for f in 0..<features {
                a3 +=
                    SIMD4(repeating: x[f])
                    * UnsafeRawPointer(w + f * stride).loadUnaligned(fromByteOffset: 48, as: SIMD4<Float>.self)
            }
            for c in 12..<outputs { out[c] = a3[c - 12] }
        }
        for c in 0..<Swift.min(outputs, 12) { out[c] = c < 4 ? a0[c] : (c < 8 ? a1[c - 4] : a2[c - 8]) }
    }
}

/// `LinearClassifier`: scores, post transform and label of each row, rows split across threads.
struct LinearClassifierKernel: Kernel {
    let weights: PackedWeights
    let intercepts: [Float]?
    let classes: Int
    let width: Int
    let transform: PostTransform
    let labels: LinearOperators.Labels
    let op: String

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try FeatureMatrix.floats(try inputs.tensor(0), op: self.op)
        let features = self.weights.features
        guard x.columns == features else {
            throw InferenceError(.runtimeFailure, "\(self.op): input has \(x.columns) features, expected \(features)")
        }
        let rows = x.rows
        let classes = self.classes
        let width = self.width
        var scores = [Float](repeating: 0, count: try Tensor.elementCount(of: [rows, width]))
        var indices = [Int](repeating: 0, count: rows)
        let twoLabels = self.labels.count == 2
        let addSecond = width == 2 && classes == 1 ? 1 : -1
        let transform = self.transform
        let weights = self.weights
        let bias = self.intercepts ?? []
        x.values.withUnsafeBufferPointer { xb in
            weights.values.withUnsafeBufferPointer { wb in
                scores.withUnsafeMutableBufferPointer { sb in
                    indices.withUnsafeMutableBufferPointer { ib in
                        guard let xp = xb.baseAddress, let wp = wb.baseAddress, let sp = sb.baseAddress,
                            let ip = ib.baseAddress
                        else { return }
                        context.parallelChunks(rows, minimumPerThread: 64) { range in
                            for n in range {
                                let row = sp + n * width
                                weights.scores(xp + n * features, wp, row)
                                if !bias.isEmpty { for c in 0..<classes { row[c] += bias[c] } }
                                if classes == 1 {
                                    // Binary with one score: the second label when positive
                                    // (ONNX Runtime: 1 / 0 without labels).
                                    let positive = row[0] > 0
                                    ip[n] = twoLabels ? (positive ? 1 : 0) : (positive ? -1 : -2)
                                } else {
                                    var best = 0
                                    for c in 1..<classes where row[c] > row[best] { best = c }
                                    ip[n] = best
                                }
                                LinearOperators.finishScores(
                                    UnsafeMutableBufferPointer(start: row, count: width),
                                    scores: classes,
                                    transform: transform,
                                    addSecondClass: addSecond
                                )
                            }
                        }
                    }
                }
            }
        }
        let y = self.labels.tensor(indices) { $0 == -1 ? ("1", 1) : ("0", 0) }
        return [.tensor(y), .tensor(Tensor(unchecked: [rows, width], elements: scores))]
    }
}
