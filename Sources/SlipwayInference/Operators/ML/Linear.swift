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
            let ints = try ctx.ints(intName, default: [])
            guard strings.isEmpty != ints.isEmpty else {
                throw ctx.attributeError(
                    "classlabels_strings",
                    "exactly one of classlabels_strings and \(intName) must be given"
                )
            }
            return strings.isEmpty ? .ints(ints.map { Int64($0) }) : .strings(strings)
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
        let width = addSecondClass ? 2 : classes
        let label = ctx.label
        let kernel = ClosureKernel { inputs, context in
            let x = try FeatureMatrix.floats(try inputs.tensor(0), op: label)
            guard x.columns == features else {
                throw InferenceError(.runtimeFailure, "\(label): input has \(x.columns) features, expected \(features)")
            }
            let raw = LinearOperators.affine(
                x,
                coefficients,
                intercepts.isEmpty ? nil : intercepts,
                outputs: classes,
                context: context
            )
            var indices = [Int](repeating: 0, count: x.rows)
            for n in 0..<x.rows {
                if classes == 1 {
                    // Binary with one score: the second label when positive (ONNX Runtime: 1 / 0 without labels).
                    let positive = raw[n] > 0
                    indices[n] = labels.count == 2 ? (positive ? 1 : 0) : (positive ? -1 : -2)
                } else {
                    var best = 0
                    for c in 1..<classes where raw[n * classes + c] > raw[n * classes + best] { best = c }
                    indices[n] = best
                }
            }
            var scores = [Float](repeating: 0, count: x.rows * width)
            for n in 0..<x.rows {
                scores.withUnsafeMutableBufferPointer { sp in
                    let row = UnsafeMutableBufferPointer(rebasing: sp[(n * width)..<(n * width + width)])
                    for c in 0..<classes { row[c] = raw[n * classes + c] }
                    LinearOperators.finishScores(
                        row,
                        scores: classes,
                        transform: transform,
                        addSecondClass: addSecondClass ? 1 : -1
                    )
                }
            }
            let y = labels.tensor(indices) { $0 == -1 ? ("1", 1) : ("0", 0) }
            return [.tensor(y), .tensor(Tensor(unchecked: [x.rows, width], elements: scores))]
        }
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
