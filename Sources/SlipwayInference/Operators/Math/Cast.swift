import Foundation

/// `Cast` and `CastLike` between float, double, int64, int32, bool and string.
package enum CastConversion {
    /// Converts `tensor` to `type`. Float to integer truncates toward zero (NaN and out-of-range values give
    /// the type's minimum, like x86); int64 to int32 wraps; strings are parsed and formatted per the spec.
    package static func cast(_ tensor: Tensor, to type: ElementType) throws -> Tensor {
        if tensor.elementType == type { return tensor }
        let storage: Tensor.Storage
        switch tensor.storage {
        case .float(let v): storage = try self.convert(v, to: type)
        case .double(let v): storage = try self.convert(v, to: type)
        case .int64(let v): storage = try self.convert(v, to: type)
        case .int32(let v): storage = try self.convert(v, to: type)
        case .bool(let v): storage = try self.convert(v.map { Int64($0 ? 1 : 0) }, to: type, fromBool: true)
        case .string(let v): storage = try self.parse(v, to: type)
        }
        return Tensor(unchecked: tensor.shape, storage)
    }

    static func convert<T: MathElement>(
        _ v: [T],
        to type: ElementType,
        fromBool: Bool = false
    ) throws -> Tensor.Storage {
        switch type {
        case .float:
            if let f = v as? [Int64] { return .float(f.map { Float($0) }) }
            if let f = v as? [Int32] { return .float(f.map { Float($0) }) }
            return .float(v.map { Float($0.asDouble) })
        case .double: return .double(v.map { $0.asDouble })
        case .int64:
            if let i = v as? [Int32] { return .int64(i.map { Int64($0) }) }
            if let i = v as? [Int64] { return .int64(i) }
            return .int64(v.map { Int64(converting: $0.asDouble) })
        case .int32:
            if let i = v as? [Int64] { return .int32(i.map { Int32(truncatingIfNeeded: $0) }) }
            if let i = v as? [Int32] { return .int32(i) }
            return .int32(v.map { Int32(converting: $0.asDouble) })
        case .bool: return .bool(v.map { $0 != 0 })
        case .string:
            if fromBool { return .string(v.map { $0 != 0 ? "1" : "0" }) }
            if let f = v as? [Float] { return .string(f.map { self.format($0) }) }
            if let d = v as? [Double] { return .string(d.map { self.format($0) }) }
            return .string(v.map { String(describing: $0) })
        }
    }

    /// Shortest round-trip text for a floating-point value: `NaN`, `INF`, `-INF`, integral values without a
    /// trailing `.0`.
    package static func format<F: BinaryFloatingPoint & LosslessStringConvertible>(_ x: F) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x < 0 ? "-INF" : "INF" }
        var s = x.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// Parses a floating-point number, accepting `NaN`, `INF`, `inf`, `-INF`, `+INF`, `Infinity`.
    package static func parseDouble(_ s: String) -> Double? {
        let t = s.trimmingCharacters(in: .whitespaces)
        switch t.lowercased() {
        case "nan", "+nan", "-nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return Double(t)
        }
    }

    static func parse(_ v: [String], to type: ElementType) throws -> Tensor.Storage {
        func number(_ s: String) throws -> Double {
            guard let d = self.parseDouble(s) else {
                throw InferenceError(.runtimeFailure, "Cast cannot parse '\(s)' as \(type)")
            }
            return d
        }
        func integer<I: FixedWidthInteger & MathElement>(_ s: String, _: I.Type) throws -> I {
            let t = s.trimmingCharacters(in: .whitespaces)
            if let i = I(t) { return i }
            return I(converting: try number(t))
        }
        switch type {
        case .float:
            return .float(
                try v.map { s in
                    let t = s.trimmingCharacters(in: .whitespaces)
                    if let f = Float(t) { return f }
                    return Float(try number(t))
                }
            )
        case .double: return .double(try v.map { try number($0) })
        case .int64: return .int64(try v.map { try integer($0, Int64.self) })
        case .int32: return .int32(try v.map { try integer($0, Int32.self) })
        case .bool:
            return .bool(
                try v.map { s in
                    switch s.trimmingCharacters(in: .whitespaces).lowercased() {
                    case "true": return true
                    case "false": return false
                    default: return try number(s) != 0
                    }
                }
            )
        case .string: return .string(v)
        }
    }
}

extension ElementwiseOperators {
    /// Cast and CastLike.
    static let cast: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Cast", opsets: 7...28) { ctx in
            try ctx.requireInputs(1...1)
            let from = try ctx.inputType(0)
            let to = try ctx.int("to")
            guard let type = ElementType(onnxDataType: to) else {
                throw InferenceError(
                    .unsupportedOperator,
                    "\(ctx.label): attribute 'to' is \(ElementType.onnxName(to)), supported: "
                        + "float, double, int64, int32, bool, string"
                )
            }
            try ElementwiseOperators.checkCastAttributes(ctx)
            if (from == .string || type == .string) && ctx.opset < 9 {
                throw InferenceError(.unsupportedOperator, "\(ctx.label): string casts need opset 9 or later")
            }
            return CompiledKernel(
                ClosureKernel { inputs, _ in [.tensor(try CastConversion.cast(try inputs.tensor(0), to: type))] },
                outputs: [.tensor(type)]
            )
        },
        OperatorDefinition(onnxDomain, "CastLike", opsets: 15...28) { ctx in
            try ctx.requireInputs(2...2)
            _ = try ctx.inputType(0)
            let type = try ctx.inputType(1)
            try ElementwiseOperators.checkCastAttributes(ctx)
            return CompiledKernel(
                ClosureKernel { inputs, _ in [.tensor(try CastConversion.cast(try inputs.tensor(0), to: type))] },
                outputs: [.tensor(type)]
            )
        },
    ]

    /// `saturate` and `round_mode` only affect float8/float4 targets, which are unsupported: validate their
    /// types and values and otherwise ignore them.
    static func checkCastAttributes(_ ctx: NodeContext) throws {
        if ctx.opset >= 19 {
            let saturate = try ctx.int("saturate", default: 1)
            guard saturate == 0 || saturate == 1 else {
                throw ctx.attributeError("saturate", "is \(saturate), expected 0 or 1")
            }
        }
        if ctx.opset >= 25 {
            _ = try ctx.string("round_mode", default: "up", oneOf: ["up", "down", "nearest"])
        }
    }
}
