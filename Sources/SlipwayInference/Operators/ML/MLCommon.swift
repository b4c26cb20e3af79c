import Foundation

/// The score transforms of the ONNX-ML operators, computed as ONNX Runtime does (in float32).
package enum PostTransform: Sendable, Equatable {
    case none
    case logistic
    case softmax
    case softmaxZero
    case probit

    /// The names the string-valued `post_transform` attributes accept.
    static let names = ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"]

    /// Parses a string-valued `post_transform` attribute (default `NONE`).
    static func parse(_ ctx: NodeContext, _ name: String = "post_transform") throws -> PostTransform {
        switch try ctx.string(name, default: "NONE", oneOf: PostTransform.names) {
        case "LOGISTIC": return .logistic
        case "SOFTMAX": return .softmax
        case "SOFTMAX_ZERO": return .softmaxZero
        case "PROBIT": return .probit
        default: return .none
        }
    }
}

/// Scalar helpers shared by the ONNX-ML kernels.
package enum MLMath {
    /// The logistic function, computed symmetrically like ONNX Runtime.
    @inline(__always)
    static func logistic(_ value: Float) -> Float {
        let v = 1 / (1 + Foundation.exp(-abs(value)))
        return value < 0 ? 1 - v : v
    }

    /// ONNX Runtime's approximation of the inverse error function.
    static func erfInv(_ input: Float) -> Float {
        let sgn: Float = input < 0 ? -1 : 1
        let x = (1 - input) * (1 + input)
        let lg = Foundation.log(x)
        let v = 2 / (Float(3.14159) * Float(0.147)) + 0.5 * lg
        let v2 = 1 / Float(0.147) * lg
        let v3 = -v + (v * v - v2).squareRoot()
        return sgn * v3.squareRoot()
    }

    /// The probit function (`sqrt(2) * erfinv(2p - 1)`), as ONNX Runtime computes it.
    static func probit(_ value: Float) -> Float {
        Float(2).squareRoot() * MLMath.erfInv(2 * value - 1)
    }

    /// Softmax over `values` in place.
    static func softmax(_ values: UnsafeMutableBufferPointer<Float>) {
        var vmax = -Float.greatestFiniteMagnitude
        for v in values where v > vmax { vmax = v }
        var sum: Float = 0
        for i in values.indices {
            let e = Foundation.exp(values[i] - vmax)
            values[i] = e
            sum += e
        }
        for i in values.indices { values[i] /= sum }
    }

    /// Softmax that leaves zero scores at (near) zero, as ONNX Runtime's `SOFTMAX_ZERO`.
    static func softmaxZero(_ values: UnsafeMutableBufferPointer<Float>) {
        var vmax = -Float.greatestFiniteMagnitude
        for v in values where v > vmax { vmax = v }
        let expNegMax = Foundation.exp(-vmax)
        var sum: Float = 0
        for i in values.indices {
            let v = values[i]
            if v > 0.0000001 || v < -0.0000001 {
                let e = Foundation.exp(v - vmax)
                values[i] = e
                sum += e
            } else {
                values[i] = v * expNegMax
            }
        }
        for i in values.indices { values[i] /= sum }
    }

    /// Applies a transform to two or more scores in place (single scores are handled by the callers).
    static func apply(_ transform: PostTransform, _ values: UnsafeMutableBufferPointer<Float>) {
        switch transform {
        case .none: break
        case .logistic: for i in values.indices { values[i] = MLMath.logistic(values[i]) }
        case .probit: for i in values.indices { values[i] = MLMath.probit(values[i]) }
        case .softmax: MLMath.softmax(values)
        case .softmaxZero: MLMath.softmaxZero(values)
        }
    }
}

/// A numeric input viewed as a `[rows, columns]` matrix.
package struct FeatureMatrix<T: Sendable>: Sendable {
    package var values: [T]
    package var rows: Int
    package var columns: Int
}

extension FeatureMatrix {
    /// The row count and column count of an ONNX-ML feature input: `[C]` is one row, `[N, C]` is N rows.
    static func dimensions(_ shape: [Int], op: String) throws -> (rows: Int, columns: Int) {
        switch shape.count {
        case 1: return (1, shape[0])
        case 2: return (shape[0], shape[1])
        default:
            throw InferenceError(.runtimeFailure, "\(op): input X must have rank 1 or 2, got shape \(shape)")
        }
    }
}

extension FeatureMatrix where T == Float {
    /// The input converted to float32 (int64 and int32 values are rounded like a C cast).
    static func floats(_ tensor: Tensor, op: String) throws -> FeatureMatrix<Float> {
        let (rows, columns) = try FeatureMatrix.dimensions(tensor.shape, op: op)
        let values: [Float]
        switch tensor.storage {
        case .float(let v): values = v
        case .double(let v): values = v.map { Float($0) }
        case .int64(let v): values = v.map { Float($0) }
        case .int32(let v): values = v.map { Float($0) }
        default:
            throw InferenceError(.runtimeFailure, "\(op): input X has unsupported element type \(tensor.elementType)")
        }
        return FeatureMatrix(values: values, rows: rows, columns: columns)
    }
}

extension FeatureMatrix where T == Double {
    /// The input converted to float64.
    static func doubles(_ tensor: Tensor, op: String) throws -> FeatureMatrix<Double> {
        let (rows, columns) = try FeatureMatrix.dimensions(tensor.shape, op: op)
        let values: [Double]
        switch tensor.storage {
        case .float(let v): values = v.map { Double($0) }
        case .double(let v): values = v
        case .int64(let v): values = v.map { Double($0) }
        case .int32(let v): values = v.map { Double($0) }
        default:
            throw InferenceError(.runtimeFailure, "\(op): input X has unsupported element type \(tensor.elementType)")
        }
        return FeatureMatrix(values: values, rows: rows, columns: columns)
    }
}

extension NodeContext {
    /// A numeric list attribute given either as `floats` or (opset 3+) as a float/double tensor `<name>_as_tensor`.
    /// Returns the values as doubles and whether they were double precision; `nil` when both are absent.
    func floatsOrTensor(_ name: String) throws -> (values: [Double], isDouble: Bool)? {
        let tensorName = name + "_as_tensor"
        if self.has(tensorName) {
            guard self.opset >= 3 else {
                throw self.attributeError(tensorName, "is only defined from ai.onnx.ml opset 3")
            }
            if self.has(name) {
                throw self.attributeError(tensorName, "cannot be given together with '\(name)'")
            }
            guard let t = try self.tensor(tensorName) else { return nil }
            switch t.storage {
            case .float(let v): return (v.map { Double($0) }, false)
            case .double(let v): return (v, true)
            default:
                throw self.attributeError(tensorName, "must be a float or double tensor, found \(t.elementType)")
            }
        }
        guard self.has(name) else { return nil }
        return (try self.floats(name).map { Double($0) }, false)
    }

    /// Requires that an attribute list has `count` entries.
    func requireCount(_ name: String, _ actual: Int, _ expected: Int, like other: String) throws {
        guard actual == expected else {
            throw self.attributeError(name, "has \(actual) entries, expected \(expected) like '\(other)'")
        }
    }
}
