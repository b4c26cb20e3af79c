/// A unary floating-point function (with an optional parameter such as LeakyRelu's alpha).
package protocol FloatUnaryOp: Sendable {
    static func apply<T: FloatMathElement>(_ x: T, _ parameter: T) -> T
}

/// The `Sqrt` operation.
package enum SqrtOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T { x.squareRoot() }
}
/// The `Exp` operation.
package enum ExpOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T { T.exponential(x) }
}
/// The `Log` operation.
package enum LogOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T { T.logarithm(x) }
}
/// The `Reciprocal` operation.
package enum ReciprocalOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T { 1 / x }
}
/// The `Sigmoid` operation.
package enum SigmoidOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T {
        if x >= 0 { return 1 / (1 + T.exponential(-x)) }
        let e = T.exponential(x)
        return e / (1 + e)
    }
}
/// The `Tanh` operation.
package enum TanhOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T { T.hyperbolicTangent(x) }
}
/// The `Erf` operation.
package enum ErfOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T { T.errorFunction(x) }
}
/// The `LeakyRelu` operation.
package enum LeakyReluOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ alpha: T) -> T { x < 0 ? alpha * x : x }
}
/// The `Floor` operation.
package enum FloorOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T { x.rounded(.down) }
}
/// The `Ceil` operation.
package enum CeilOp: FloatUnaryOp {
    package static func apply<T: FloatMathElement>(_ x: T, _ p: T) -> T { x.rounded(.up) }
}

/// Applies a floating-point unary op elementwise. The loops are closures built by ``make(_:parameter:)`` for a
/// concrete op type, so they are fully specialized (a generic kernel type called through `any Kernel` is not).
package struct FloatUnaryKernel: Kernel {
    let float: @Sendable ([Float], ExecutionContext) -> [Float]
    let double: @Sendable ([Double], ExecutionContext) -> [Double]

    /// The kernel applying `Op` with `parameter` (e.g. LeakyRelu's alpha).
    static func make<Op: FloatUnaryOp>(_ op: Op.Type, parameter: Double) -> FloatUnaryKernel {
        let p = Float(parameter)
        return FloatUnaryKernel(
            float: { v, context in ElementwiseLoops.map(v, context) { Op.apply($0, p) } },
            double: { v, context in ElementwiseLoops.map(v, context) { Op.apply($0, parameter) } }
        )
    }

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try inputs.tensor(0)
        switch x.storage {
        case .float(let v): return [.tensor(Tensor(unchecked: x.shape, elements: self.float(v, context)))]
        case .double(let v): return [.tensor(Tensor(unchecked: x.shape, elements: self.double(v, context)))]
        default:
            throw InferenceError(.runtimeFailure, "expected a float or double input, got \(x.elementType)")
        }
    }
}

/// A unary op defined for every numeric type (Abs, Neg, Relu).
package protocol NumericUnaryOp: Sendable {
    static func apply<T: MathElement>(_ x: T) -> T
}

/// The `Abs` operation.
package enum AbsOp: NumericUnaryOp {
    package static func apply<T: MathElement>(_ x: T) -> T { x < 0 ? T.negate(x) : x }
}
/// The `Neg` operation.
package enum NegOp: NumericUnaryOp {
    package static func apply<T: MathElement>(_ x: T) -> T { T.negate(x) }
}
/// The `Relu` operation.
package enum ReluOp: NumericUnaryOp {
    package static func apply<T: MathElement>(_ x: T) -> T { x < 0 ? 0 : x }
}

/// Applies a numeric unary op elementwise, with loops specialized per element type by ``make(_:)``.
package struct NumericUnaryKernel: Kernel {
    let float: @Sendable ([Float], ExecutionContext) -> [Float]
    let double: @Sendable ([Double], ExecutionContext) -> [Double]
    let int64: @Sendable ([Int64], ExecutionContext) -> [Int64]
    let int32: @Sendable ([Int32], ExecutionContext) -> [Int32]

    /// The kernel applying `Op`.
    static func make<Op: NumericUnaryOp>(_ op: Op.Type) -> NumericUnaryKernel {
        NumericUnaryKernel(
            float: { v, context in ElementwiseLoops.map(v, context) { Op.apply($0) } },
            double: { v, context in ElementwiseLoops.map(v, context) { Op.apply($0) } },
            int64: { v, context in ElementwiseLoops.map(v, context) { Op.apply($0) } },
            int32: { v, context in ElementwiseLoops.map(v, context) { Op.apply($0) } }
        )
    }

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try inputs.tensor(0)
        let out: Tensor
        switch x.storage {
        case .float(let v): out = Tensor(unchecked: x.shape, elements: self.float(v, context))
        case .double(let v): out = Tensor(unchecked: x.shape, elements: self.double(v, context))
        case .int64(let v): out = Tensor(unchecked: x.shape, elements: self.int64(v, context))
        case .int32(let v): out = Tensor(unchecked: x.shape, elements: self.int32(v, context))
        default: throw InferenceError(.runtimeFailure, "expected a numeric input, got \(x.elementType)")
        }
        return [.tensor(out)]
    }
}

/// `Clip`: bounds from attributes (opset < 11) or from optional scalar inputs.
package struct ClipKernel: Kernel {
    /// Attribute bounds before opset 11.
    let attributeBounds: (min: Float, max: Float)?

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try inputs.tensor(0)
        func bound<T: MathElement>(_ index: Int, _ fallback: T) throws -> T {
            guard let t = try inputs.optionalTensor(index) else { return fallback }
            guard let v = t.elements(as: T.self) else {
                throw InferenceError(
                    .runtimeFailure,
                    "Clip bound input \(index) is \(t.elementType), expected \(T.elementType)"
                )
            }
            guard v.count == 1 else {
                throw InferenceError(
                    .runtimeFailure,
                    "Clip bound input \(index) must be a scalar, got shape \(t.shape)"
                )
            }
            return v[0]
        }
        func apply<T: MathElement>(_ v: [T]) throws -> [Value] {
            let lo: T
            let hi: T
            if let b = self.attributeBounds {
                lo = T(converting: Double(b.min))
                hi = T(converting: Double(b.max))
            } else {
                lo = try bound(1, T.lowest)
                hi = try bound(2, T.highest)
            }
            let out = ElementwiseLoops.map(v, context) { (e: T) -> T in
                let clamped = e < lo ? lo : e
                return clamped > hi ? hi : clamped
            }
            return [.tensor(Tensor(unchecked: x.shape, elements: out))]
        }
        switch x.storage {
        case .float(let v): return try apply(v)
        case .double(let v): return try apply(v)
        case .int64(let v): return try apply(v)
        case .int32(let v): return try apply(v)
        default: throw InferenceError(.runtimeFailure, "Clip expects a numeric input, got \(x.elementType)")
        }
    }
}

extension ElementwiseOperators {
    /// Unary math operators and Clip.
    static let unary: [OperatorDefinition] = [
        floatUnary("Sqrt", SqrtOp.self),
        floatUnary("Exp", ExpOp.self),
        floatUnary("Log", LogOp.self),
        floatUnary("Reciprocal", ReciprocalOp.self),
        floatUnary("Sigmoid", SigmoidOp.self),
        floatUnary("Tanh", TanhOp.self),
        floatUnary("Erf", ErfOp.self, opsets: 9...28),
        floatUnary("Floor", FloorOp.self),
        floatUnary("Ceil", CeilOp.self),
        OperatorDefinition(onnxDomain, "LeakyRelu", opsets: 7...28) { ctx in
            try ctx.requireInputs(1...1)
            let type = try ctx.requireInputType(0, in: MathTypes.floating)
            let alpha = try ctx.float("alpha", default: 0.01)
            return CompiledKernel(
                FloatUnaryKernel.make(LeakyReluOp.self, parameter: Double(alpha)),
                outputs: [.tensor(type)]
            )
        },
        numericUnary("Abs", AbsOp.self, floatOnlyBefore: 0),
        numericUnary("Neg", NegOp.self, floatOnlyBefore: 0),
        numericUnary("Relu", ReluOp.self, floatOnlyBefore: 14),
        OperatorDefinition(onnxDomain, "Clip", opsets: 7...28) { ctx in
            if ctx.opset < 11 {
                try ctx.requireInputs(1...1)
                let type = try ctx.requireInputType(0, in: MathTypes.floating)
                let lo = try ctx.float("min", default: -Float.greatestFiniteMagnitude)
                let hi = try ctx.float("max", default: Float.greatestFiniteMagnitude)
                return CompiledKernel(ClipKernel(attributeBounds: (lo, hi)), outputs: [.tensor(type)])
            }
            try ctx.requireInputs(1...3)
            let type = try ctx.requireInputType(0, in: ctx.opset < 12 ? MathTypes.floating : MathTypes.numeric)
            for i in 1..<ctx.inputTypes.count {
                if let t = try ctx.optionalInputType(i), t != type {
                    throw ctx.error("input \(i) has element type \(t), expected \(type) like input 0")
                }
                if let c = ctx.constant(i), c.count != 1 {
                    throw ctx.error("input \(i) must be a scalar, got shape \(c.shape)")
                }
            }
            return CompiledKernel(ClipKernel(attributeBounds: nil), outputs: [.tensor(type)])
        },
    ]

    static func floatUnary<Op: FloatUnaryOp>(
        _ name: String,
        _ op: Op.Type,
        opsets: ClosedRange<Int> = 7...28
    ) -> OperatorDefinition {
        OperatorDefinition(onnxDomain, name, opsets: opsets) { ctx in
            try ctx.requireInputs(1...1)
            let type = try ctx.requireInputType(0, in: MathTypes.floating)
            return CompiledKernel(FloatUnaryKernel.make(Op.self, parameter: 0), outputs: [.tensor(type)])
        }
    }

    static func numericUnary<Op: NumericUnaryOp>(
        _ name: String,
        _ op: Op.Type,
        floatOnlyBefore: Int
    ) -> OperatorDefinition {
        OperatorDefinition(onnxDomain, name, opsets: 7...28) { ctx in
            try ctx.requireInputs(1...1)
            let allowed = ctx.opset < floatOnlyBefore ? MathTypes.floating : MathTypes.numeric
            let type = try ctx.requireInputType(0, in: allowed)
            return CompiledKernel(NumericUnaryKernel.make(Op.self), outputs: [.tensor(type)])
        }
    }
}
