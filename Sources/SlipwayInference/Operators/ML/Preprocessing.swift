import Foundation

/// `Normalizer`, `Scaler`, `Binarizer` and `Imputer` (ai.onnx.ml 1).
enum PreprocessingOperators {
    static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxMLDomain, "Normalizer", opsets: 1...5) { ctx in try compileNormalizer(ctx) },
        OperatorDefinition(onnxMLDomain, "Scaler", opsets: 1...5) { ctx in try compileScaler(ctx) },
        OperatorDefinition(onnxMLDomain, "Binarizer", opsets: 1...5) { ctx in try compileBinarizer(ctx) },
        OperatorDefinition(onnxMLDomain, "Imputer", opsets: 1...5) { ctx in try compileImputer(ctx) },
    ]

    enum Norm { case max, l1, l2 }

    /// Normalizes each row (ONNX Runtime: MAX divides by the largest value, rows whose norm is 0 are copied).
    static func compileNormalizer(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        try ctx.requireInputType(0, in: LinearOperators.featureTypes)
        let norm: Norm =
            switch try ctx.string("norm", default: "MAX", oneOf: ["MAX", "L1", "L2"]) {
            case "L1": .l1
            case "L2": .l2
            default: .max
            }
        let label = ctx.label
        let kernel = ClosureKernel { inputs, context in
            let t = try inputs.tensor(0)
            let x = try FeatureMatrix.floats(t, op: label)
            var y = x.values
            let c = x.columns
            x.values.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    guard let xp = xb.baseAddress, let yp = yb.baseAddress else { return }
                    context.parallelChunks(x.rows, minimumPerThread: 128) { range in
                        for n in range {
                            Self.normalize(xp + n * c, yp + n * c, c, norm)
                        }
                    }
                }
            }
            return [.tensor(Tensor(unchecked: t.shape, elements: y))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(.float)])
    }

    /// Normalizes one row of `c` values from `x` into `y` (which holds a copy of the row).
    @inline(__always)
    static func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ c: Int, _ norm: Norm) {
        switch norm {
        case .max:
            var m = -Float.greatestFiniteMagnitude
            for i in 0..<c { m = Swift.max(m, x[i]) }
            if m != 0 { for i in 0..<c { y[i] = x[i] / m } }
        case .l1:
            var sum: Float = 0
            for i in 0..<c { sum += abs(x[i]) }
            if sum != 0 { for i in 0..<c { y[i] = x[i] / sum } }
        case .l2:
            var sum: Float = 0
            for i in 0..<c { sum += x[i] * x[i] }
            if sum != 0 {
                for i in 0..<c {
                    let v = x[i]
                    let r = (v * v / sum).squareRoot()
                    y[i] = v < 0 ? -r : r
                }
            }
        }
    }

    /// `(x - offset) * scale`, per feature or with one value for all features.
    static func compileScaler(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        try ctx.requireInputType(0, in: LinearOperators.featureTypes)
        let offset = try ctx.floats("offset", default: [])
        let scale = try ctx.floats("scale", default: [])
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let t = try inputs.tensor(0)
            var x = try FeatureMatrix.floats(t, op: label)
            let c = x.columns
            for (name, list) in [("offset", offset), ("scale", scale)] where list.count > 1 && list.count != c {
                throw InferenceError(
                    .runtimeFailure,
                    "\(label): attribute '\(name)' has \(list.count) values for \(c) features"
                )
            }
            x.values.withUnsafeMutableBufferPointer { v in
                for i in v.indices {
                    let f = c == 0 ? 0 : i % c
                    let o = offset.isEmpty ? 0 : (offset.count == 1 ? offset[0] : offset[f])
                    let s = scale.isEmpty ? 1 : (scale.count == 1 ? scale[0] : scale[f])
                    v[i] = (v[i] - o) * s
                }
            }
            return [.tensor(Tensor(unchecked: t.shape, elements: x.values))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(.float)])
    }

    /// 1 where `x > threshold`, else 0, in the input's type.
    static func compileBinarizer(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let type = try ctx.requireInputType(0, in: LinearOperators.featureTypes)
        let threshold = try ctx.float("threshold", default: 0)
        let kernel = ClosureKernel { inputs, _ in
            let t = try inputs.tensor(0)
            let storage: Tensor.Storage
            switch t.storage {
            case .float(let v): storage = .float(v.map { $0 > threshold ? 1 : 0 })
            case .double(let v):
                let th = Double(threshold)
                storage = .double(v.map { $0 > th ? 1 : 0 })
            case .int64(let v): storage = .int64(v.map { Float($0) > threshold ? 1 : 0 })
            case .int32(let v): storage = .int32(v.map { Float($0) > threshold ? 1 : 0 })
            default: throw InferenceError(.runtimeFailure, "Binarizer: unsupported input type \(t.elementType)")
            }
            return [.tensor(Tensor(unchecked: t.shape, storage))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    static func impute<T: BinaryFloatingPoint>(_ v: [T], columns: Int, replaced: Float, imputed: [Float]) -> [T] {
        let r = T(replaced)
        var out = v
        for i in out.indices where out[i] == r || (r.isNaN && out[i].isNaN) {
            out[i] = T(imputed.count == 1 ? imputed[0] : imputed[i % columns])
        }
        return out
    }

    /// Replaces `replaced_value_*` (NaN matches NaN) with the per-feature or single `imputed_value_*`.
    static func compileImputer(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let type = try ctx.requireInputType(0, in: LinearOperators.featureTypes)
        let label = ctx.label
        if type.isFloatingPoint {
            let imputed = try ctx.floats("imputed_value_floats", default: [])
            guard !imputed.isEmpty else {
                throw ctx.attributeError("imputed_value_floats", "is required for \(type) input")
            }
            let replaced = try ctx.float("replaced_value_float", default: 0)
            let kernel = ClosureKernel { inputs, _ in
                let t = try inputs.tensor(0)
                let (_, c) = try FeatureMatrix<Float>.dimensions(t.shape, op: label)
                guard imputed.count == 1 || imputed.count == c else {
                    throw InferenceError(.runtimeFailure, "\(label): \(imputed.count) imputed values for \(c) features")
                }
                switch t.storage {
                case .float(let v):
                    return [
                        .tensor(
                            Tensor(
                                unchecked: t.shape,
                                elements: impute(v, columns: c, replaced: replaced, imputed: imputed)
                            )
                        )
                    ]
                case .double(let v):
                    return [
                        .tensor(
                            Tensor(
                                unchecked: t.shape,
                                elements: impute(v, columns: c, replaced: replaced, imputed: imputed)
                            )
                        )
                    ]
                default: throw InferenceError(.runtimeFailure, "\(label): unexpected input type \(t.elementType)")
                }
            }
            return CompiledKernel(kernel, outputs: [.tensor(type)])
        }
        let imputed = try ctx.ints("imputed_value_int64s", default: [])
        guard !imputed.isEmpty else {
            throw ctx.attributeError("imputed_value_int64s", "is required for \(type) input")
        }
        let replaced = try ctx.int("replaced_value_int64", default: 0)
        let kernel = ClosureKernel { inputs, _ in
            let t = try inputs.tensor(0)
            let (_, c) = try FeatureMatrix<Float>.dimensions(t.shape, op: label)
            guard imputed.count == 1 || imputed.count == c else {
                throw InferenceError(.runtimeFailure, "\(label): \(imputed.count) imputed values for \(c) features")
            }
            guard let values = t.integers else { throw InferenceError(.runtimeFailure, "\(label): expected integers") }
            var out = values
            for i in out.indices where out[i] == replaced { out[i] = imputed.count == 1 ? imputed[0] : imputed[i % c] }
            if type == .int32 {
                return [.tensor(Tensor(unchecked: t.shape, elements: out.map { Int32(truncatingIfNeeded: $0) }))]
            }
            return [.tensor(Tensor(unchecked: t.shape, elements: out.map { Int64($0) }))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }
}
