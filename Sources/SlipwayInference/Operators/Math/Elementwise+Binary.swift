import Foundation

/// A numeric binary operation, written once for every ``MathElement`` type.
package protocol NumericBinaryOp: Sendable {
    static func apply<T: MathElement>(_ a: T, _ b: T) -> T
}

/// The `Add` operation.
package enum AddOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.add(a, b) }
}
/// The `Sub` operation.
package enum SubOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.subtract(a, b) }
}
/// The `Mul` operation.
package enum MulOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.multiply(a, b) }
}
/// The `Div` operation.
package enum DivOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.divide(a, b) }
}
/// The `Pow` operation.
package enum PowOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.power(a, b) }
}
/// The `Max` operation.
package enum MaxOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.maximum(a, b) }
}
/// The `Min` operation.
package enum MinOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.minimum(a, b) }
}

/// The `Mod` operation with `fmod=1` (sign of the dividend).
package enum FmodOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.truncatingRemainder(a, b) }
}
/// The `Mod` operation with `fmod=0` (sign of the divisor).
package enum FlooredModOp: NumericBinaryOp {
    package static func apply<T: MathElement>(_ a: T, _ b: T) -> T { T.flooredRemainder(a, b) }
}

/// Applies `Op` to two numeric tensors of the same element type with broadcasting.
package func numericBinary<Op: NumericBinaryOp>(_ op: Op.Type, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    func apply<T: MathElement>(_ x: [T], _ y: [T]) throws -> Tensor {
        let r = try ElementwiseLoops.binary(x, a.shape, y, b.shape) { Op.apply($0, $1) }
        return Tensor(unchecked: r.shape, elements: r.elements)
    }
    switch (a.storage, b.storage) {
    case (.float(let x), .float(let y)): return try apply(x, y)
    case (.double(let x), .double(let y)): return try apply(x, y)
    case (.int64(let x), .int64(let y)): return try apply(x, y)
    case (.int32(let x), .int32(let y)): return try apply(x, y)
    default:
        throw InferenceError(
            .runtimeFailure,
            "element types \(a.elementType) and \(b.elementType) are not a supported numeric pair"
        )
    }
}

/// A kernel applying a numeric binary op to its two inputs. The function is built by ``make(_:)`` for a concrete
/// op type, so its loops are specialized (a generic kernel type called through `any Kernel` is not).
package struct NumericBinaryKernel: Kernel {
    let apply: @Sendable (Tensor, Tensor) throws -> Tensor

    /// The kernel applying `Op`.
    static func make<Op: NumericBinaryOp>(_ op: Op.Type) -> NumericBinaryKernel {
        NumericBinaryKernel { a, b in try numericBinary(Op.self, a, b) }
    }

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        [.tensor(try self.apply(try inputs.tensor(0), try inputs.tensor(1)))]
    }
}

/// `Pow` with a base and exponent of different numeric types: computed in double precision and converted
/// back to the base's type.
package struct MixedPowKernel: Kernel {
    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let base = try inputs.tensor(0)
        let exponent = try inputs.tensor(1)
        let e: [Double]
        switch exponent.storage {
        case .float(let v): e = v.map { Double($0) }
        case .double(let v): e = v
        case .int64(let v): e = v.map { Double($0) }
        case .int32(let v): e = v.map { Double($0) }
        default: throw InferenceError(.runtimeFailure, "Pow exponent must be numeric, got \(exponent.elementType)")
        }
        func apply<T: MathElement>(_ x: [T]) throws -> Tensor {
            let r = try ElementwiseLoops.binary(x, base.shape, e, exponent.shape) {
                T(converting: Foundation.pow($0.asDouble, $1))
            }
            return Tensor(unchecked: r.shape, elements: r.elements)
        }
        switch base.storage {
        case .float(let v): return [.tensor(try apply(v))]
        case .double(let v): return [.tensor(try apply(v))]
        case .int64(let v): return [.tensor(try apply(v))]
        case .int32(let v): return [.tensor(try apply(v))]
        default: throw InferenceError(.runtimeFailure, "Pow base must be numeric, got \(base.elementType)")
        }
    }
}

/// Folds the variadic inputs of `Max`, `Min`, `Sum` and `Mean` pairwise with broadcasting.
package struct VariadicKernel: Kernel {
    /// The pairwise operation, specialized for a concrete op by ``make(_:mean:)``.
    let combine: @Sendable (Tensor, Tensor) throws -> Tensor
    /// Divide the result by the number of inputs (`Mean`).
    let mean: Bool

    /// The kernel folding with `Op`.
    static func make<Op: NumericBinaryOp>(_ op: Op.Type, mean: Bool) -> VariadicKernel {
        VariadicKernel(combine: { a, b in try numericBinary(Op.self, a, b) }, mean: mean)
    }

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        var result = try inputs.tensor(0)
        for i in 1..<max(1, inputs.count) {
            result = try self.combine(result, try inputs.tensor(i))
        }
        if self.mean && inputs.count > 1 {
            let count = inputs.count
            switch result.storage {
            case .float(let v):
                let c = Float(count)
                result = Tensor(unchecked: result.shape, elements: ElementwiseLoops.map(v, context) { $0 / c })
            case .double(let v):
                let c = Double(count)
                result = Tensor(unchecked: result.shape, elements: ElementwiseLoops.map(v, context) { $0 / c })
            default:
                throw InferenceError(.runtimeFailure, "Mean supports float and double, got \(result.elementType)")
            }
        }
        return [.tensor(result)]
    }
}

extension ElementwiseOperators {
    /// Add, Sub, Mul, Div, Pow, Mod, Max, Min, Sum, Mean.
    static let binary: [OperatorDefinition] = [
        arithmetic("Add", AddOp.self),
        arithmetic("Sub", SubOp.self),
        arithmetic("Mul", MulOp.self),
        arithmetic("Div", DivOp.self),
        OperatorDefinition(onnxDomain, "Pow", opsets: 7...28) { ctx in
            try ctx.requireInputs(2...2)
            let base = try ctx.requireInputType(0, in: MathTypes.numeric)
            let exponent = try ctx.requireInputType(1, in: MathTypes.numeric)
            if ctx.opset < 12 && (base != exponent || !base.isFloatingPoint) {
                throw InferenceError(
                    .unsupportedOperator,
                    "\(ctx.label): before opset 12 base and exponent must both be float or both double, "
                        + "got \(base) and \(exponent)"
                )
            }
            let kernel: any Kernel = base == exponent ? NumericBinaryKernel.make(PowOp.self) : MixedPowKernel()
            return CompiledKernel(kernel, outputs: [.tensor(base)])
        },
        OperatorDefinition(onnxDomain, "Mod", opsets: 10...28) { ctx in
            try ctx.requireInputs(2...2)
            try ctx.requireInputType(0, in: MathTypes.numeric)
            let type = try ctx.requireSameType([0, 1])
            let fmod = try ctx.int("fmod", default: 0)
            guard fmod == 0 || fmod == 1 else { throw ctx.attributeError("fmod", "is \(fmod), expected 0 or 1") }
            if fmod == 0 && type.isFloatingPoint && ctx.opset < 28 {
                throw ctx.attributeError("fmod", "must be 1 for \(type) inputs before opset 28")
            }
            let kernel: any Kernel =
                fmod == 1 ? NumericBinaryKernel.make(FmodOp.self) : NumericBinaryKernel.make(FlooredModOp.self)
            return CompiledKernel(kernel, outputs: [.tensor(type)])
        },
        variadic("Max", MaxOp.self, types: MathTypes.numeric, mean: false),
        variadic("Min", MinOp.self, types: MathTypes.numeric, mean: false),
        variadic("Sum", AddOp.self, types: MathTypes.numeric, mean: false),
        variadic("Mean", AddOp.self, types: MathTypes.floating, mean: true),
    ]

    static func arithmetic<Op: NumericBinaryOp>(_ name: String, _ op: Op.Type) -> OperatorDefinition {
        OperatorDefinition(onnxDomain, name, opsets: 7...28) { ctx in
            try ctx.requireInputs(2...2)
            try ctx.requireInputType(0, in: MathTypes.numeric)
            let type = try ctx.requireSameType([0, 1])
            return CompiledKernel(NumericBinaryKernel.make(Op.self), outputs: [.tensor(type)])
        }
    }

    static func variadic<Op: NumericBinaryOp>(
        _ name: String,
        _ op: Op.Type,
        types: Set<ElementType>,
        mean: Bool
    ) -> OperatorDefinition {
        OperatorDefinition(onnxDomain, name, opsets: 7...28) { ctx in
            guard ctx.inputTypes.count >= 1 else { throw ctx.error("expects at least 1 input, got 0") }
            try ctx.requireInputType(0, in: types)
            let type = try ctx.requireSameType(Array(0..<ctx.inputTypes.count))
            return CompiledKernel(VariadicKernel.make(Op.self, mean: mean), outputs: [.tensor(type)])
        }
    }
}
