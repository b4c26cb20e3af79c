/// A comparison producing a bool.
package protocol ComparisonOp: Sendable {
    static func apply<T: Comparable>(_ a: T, _ b: T) -> Bool
}

/// The `Less` operation.
package enum LessOp: ComparisonOp {
    package static func apply<T: Comparable>(_ a: T, _ b: T) -> Bool { a < b }
}
/// The `LessOrEqual` operation.
package enum LessOrEqualOp: ComparisonOp {
    package static func apply<T: Comparable>(_ a: T, _ b: T) -> Bool { a <= b }
}
/// The `Greater` operation.
package enum GreaterOp: ComparisonOp {
    package static func apply<T: Comparable>(_ a: T, _ b: T) -> Bool { a > b }
}
/// The `GreaterOrEqual` operation.
package enum GreaterOrEqualOp: ComparisonOp {
    package static func apply<T: Comparable>(_ a: T, _ b: T) -> Bool { a >= b }
}

/// Compares two tensors of the same numeric (or string) type with broadcasting. The comparison is built by
/// ``make(_:)`` for a concrete op type, so its loops are specialized.
package struct ComparisonKernel: Kernel {
    let compare: @Sendable (Tensor, Tensor) throws -> Tensor

    /// The kernel comparing with `Op`.
    static func make<Op: ComparisonOp>(_ op: Op.Type) -> ComparisonKernel {
        ComparisonKernel { a, b in
            func apply<T: Comparable>(_ x: [T], _ y: [T]) throws -> Tensor {
                let r = try ElementwiseLoops.binary(x, a.shape, y, b.shape) { Op.apply($0, $1) }
                return Tensor(unchecked: r.shape, elements: r.elements)
            }
            switch (a.storage, b.storage) {
            case (.float(let x), .float(let y)): return try apply(x, y)
            case (.double(let x), .double(let y)): return try apply(x, y)
            case (.int64(let x), .int64(let y)): return try apply(x, y)
            case (.int32(let x), .int32(let y)): return try apply(x, y)
            case (.string(let x), .string(let y)): return try apply(x, y)
            default:
                throw InferenceError(.runtimeFailure, "cannot compare \(a.elementType) with \(b.elementType)")
            }
        }
    }

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        [.tensor(try self.compare(try inputs.tensor(0), try inputs.tensor(1)))]
    }
}

/// `Equal` over numeric, bool and string tensors.
package struct EqualKernel: Kernel {
    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let a = try inputs.tensor(0)
        let b = try inputs.tensor(1)
        func apply<T: Equatable>(_ x: [T], _ y: [T]) throws -> [Value] {
            let r = try ElementwiseLoops.binary(x, a.shape, y, b.shape) { $0 == $1 }
            return [.tensor(Tensor(unchecked: r.shape, elements: r.elements))]
        }
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): return try apply(x, y)
        case (.double(let x), .double(let y)): return try apply(x, y)
        case (.int64(let x), .int64(let y)): return try apply(x, y)
        case (.int32(let x), .int32(let y)): return try apply(x, y)
        case (.bool(let x), .bool(let y)): return try apply(x, y)
        case (.string(let x), .string(let y)): return try apply(x, y)
        default:
            throw InferenceError(.runtimeFailure, "cannot compare \(a.elementType) with \(b.elementType)")
        }
    }
}

/// `And`, `Or`, `Xor` over bool tensors.
package struct LogicalKernel: Kernel {
    let op: @Sendable (Bool, Bool) -> Bool
    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let a = try inputs.tensor(0)
        let b = try inputs.tensor(1)
        guard let x = a.bools, let y = b.bools else {
            throw InferenceError(.runtimeFailure, "logical operators need bool inputs")
        }
        let r = try ElementwiseLoops.binary(x, a.shape, y, b.shape, self.op)
        return [.tensor(Tensor(unchecked: r.shape, elements: r.elements))]
    }
}

/// `Where(condition, X, Y)` with three-way broadcasting.
package struct WhereKernel: Kernel {
    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let c = try inputs.tensor(0)
        let x = try inputs.tensor(1)
        let y = try inputs.tensor(2)
        guard let cond = c.bools else {
            throw InferenceError(.runtimeFailure, "Where condition must be bool, got \(c.elementType)")
        }
        guard let shape = Tensor.broadcastShape([c.shape, x.shape, y.shape]) else {
            throw InferenceError(
                .runtimeFailure,
                "Where shapes \(c.shape), \(x.shape) and \(y.shape) cannot be broadcast together"
            )
        }
        let n = try Tensor.elementCount(of: shape)
        if n == 0 { return [.tensor(try Tensor.zeros(x.elementType, shape: shape))] }
        let ic = try ElementwiseLoops.indexMapIfNeeded(c.shape, to: shape, count: n)
        let ix = try ElementwiseLoops.indexMapIfNeeded(x.shape, to: shape, count: n)
        let iy = try ElementwiseLoops.indexMapIfNeeded(y.shape, to: shape, count: n)
        func select<T>(_ a: [T], _ b: [T]) -> [Value] {
            var out = [T]()
            out.reserveCapacity(n)
            if ic == nil && ix == nil && iy == nil {
                for k in 0..<n { out.append(cond[k] ? a[k] : b[k]) }
            } else {
                let identity = Array(0..<n)
                let mc = ic ?? identity
                let mx = ix ?? identity
                let my = iy ?? identity
                for k in 0..<n { out.append(cond[mc[k]] ? a[mx[k]] : b[my[k]]) }
            }
            return [.tensor(Tensor(unchecked: shape, Tensor.Storage.wrap(out)))]
        }
        switch (x.storage, y.storage) {
        case (.float(let a), .float(let b)): return select(a, b)
        case (.double(let a), .double(let b)): return select(a, b)
        case (.int64(let a), .int64(let b)): return select(a, b)
        case (.int32(let a), .int32(let b)): return select(a, b)
        case (.bool(let a), .bool(let b)): return select(a, b)
        case (.string(let a), .string(let b)): return select(a, b)
        default:
            throw InferenceError(.runtimeFailure, "Where X and Y differ: \(x.elementType) and \(y.elementType)")
        }
    }
}

extension Tensor.Storage {
    /// Wraps an array whose element type is one of the tensor element types.
    static func wrap<T>(_ elements: [T]) -> Tensor.Storage {
        switch elements {
        case let v as [Float]: .float(v)
        case let v as [Double]: .double(v)
        case let v as [Int64]: .int64(v)
        case let v as [Int32]: .int32(v)
        case let v as [Bool]: .bool(v)
        case let v as [String]: .string(v)
        default: .float([])
        }
    }
}

extension ElementwiseLoops {
    /// The source index of every output element when `source` must be broadcast to `shape`; `nil` when the
    /// shapes are equal (the index is the identity).
    static func indexMapIfNeeded(_ source: [Int], to shape: [Int], count n: Int) throws -> [Int]? {
        if source == shape { return nil }
        guard let s = Tensor.broadcastShape([source, shape]), s == shape else {
            throw InferenceError(.runtimeFailure, "shape \(source) cannot be broadcast to \(shape)")
        }
        return Broadcast.indexMap(from: source, to: shape, count: n)
    }
}

extension ElementwiseOperators {
    /// Comparisons, logical operators, Where, IsNaN, IsInf.
    static let logic: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Equal", opsets: 7...28) { ctx in
            try ctx.requireInputs(2...2)
            var allowed = MathTypes.numeric.union([.bool])
            if ctx.opset >= 19 { allowed.insert(.string) }
            try ctx.requireInputType(0, in: allowed)
            _ = try ctx.requireSameType([0, 1])
            return CompiledKernel(EqualKernel(), outputs: [.tensor(.bool)])
        },
        comparison("Less", LessOp.self, opsets: 7...28),
        comparison("LessOrEqual", LessOrEqualOp.self, opsets: 12...28),
        comparison("Greater", GreaterOp.self, opsets: 7...28),
        comparison("GreaterOrEqual", GreaterOrEqualOp.self, opsets: 12...28),
        logical("And") { $0 && $1 },
        logical("Or") { $0 || $1 },
        logical("Xor") { $0 != $1 },
        OperatorDefinition(onnxDomain, "Not", opsets: 7...28) { ctx in
            try ctx.requireInputs(1...1)
            try ctx.requireInputType(0, in: [.bool])
            return CompiledKernel(
                ClosureKernel { inputs, context in
                    let x = try inputs.tensor(0)
                    guard let v = x.bools else { throw InferenceError(.runtimeFailure, "Not needs a bool input") }
                    return [.tensor(Tensor(unchecked: x.shape, elements: ElementwiseLoops.map(v, context) { !$0 }))]
                },
                outputs: [.tensor(.bool)]
            )
        },
        OperatorDefinition(onnxDomain, "Where", opsets: 9...28) { ctx in
            try ctx.requireInputs(3...3)
            try ctx.requireInputType(0, in: [.bool])
            let type = try ctx.requireSameType([1, 2])
            return CompiledKernel(WhereKernel(), outputs: [.tensor(type)])
        },
        OperatorDefinition(onnxDomain, "IsNaN", opsets: 9...28) { ctx in
            try ctx.requireInputs(1...1)
            try ctx.requireInputType(0, in: MathTypes.floating)
            return CompiledKernel(
                ClosureKernel { inputs, context in
                    let x = try inputs.tensor(0)
                    let out: [Bool]
                    switch x.storage {
                    case .float(let v): out = ElementwiseLoops.map(v, context) { $0.isNaN }
                    case .double(let v): out = ElementwiseLoops.map(v, context) { $0.isNaN }
                    default: throw InferenceError(.runtimeFailure, "IsNaN needs a float or double input")
                    }
                    return [.tensor(Tensor(unchecked: x.shape, elements: out))]
                },
                outputs: [.tensor(.bool)]
            )
        },
        OperatorDefinition(onnxDomain, "IsInf", opsets: 10...28) { ctx in
            try ctx.requireInputs(1...1)
            try ctx.requireInputType(0, in: MathTypes.floating)
            let positive = try ctx.int("detect_positive", default: 1) != 0
            let negative = try ctx.int("detect_negative", default: 1) != 0
            return CompiledKernel(
                ClosureKernel { inputs, context in
                    let x = try inputs.tensor(0)
                    func test(_ d: Double) -> Bool {
                        d.isInfinite && ((d > 0 && positive) || (d < 0 && negative))
                    }
                    let out: [Bool]
                    switch x.storage {
                    case .float(let v): out = ElementwiseLoops.map(v, context) { test(Double($0)) }
                    case .double(let v): out = ElementwiseLoops.map(v, context) { test($0) }
                    default: throw InferenceError(.runtimeFailure, "IsInf needs a float or double input")
                    }
                    return [.tensor(Tensor(unchecked: x.shape, elements: out))]
                },
                outputs: [.tensor(.bool)]
            )
        },
    ]

    static func comparison<Op: ComparisonOp>(
        _ name: String,
        _ op: Op.Type,
        opsets: ClosedRange<Int>
    ) -> OperatorDefinition {
        OperatorDefinition(onnxDomain, name, opsets: opsets) { ctx in
            try ctx.requireInputs(2...2)
            try ctx.requireInputType(0, in: MathTypes.numeric)
            _ = try ctx.requireSameType([0, 1])
            return CompiledKernel(ComparisonKernel.make(Op.self), outputs: [.tensor(.bool)])
        }
    }

    static func logical(_ name: String, _ op: @escaping @Sendable (Bool, Bool) -> Bool) -> OperatorDefinition {
        OperatorDefinition(onnxDomain, name, opsets: 7...28) { ctx in
            try ctx.requireInputs(2...2)
            try ctx.requireInputType(0, in: [.bool])
            _ = try ctx.requireSameType([0, 1])
            return CompiledKernel(LogicalKernel(op: op), outputs: [.tensor(.bool)])
        }
    }
}
