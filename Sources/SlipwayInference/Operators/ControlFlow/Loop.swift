/// `Loop` (opset 11 and later, tensors only): runs a body graph while a trip count and a condition allow, threading
/// loop-carried values through the iterations and stacking per-iteration scan outputs along a new first axis.
struct LoopKernel: Kernel {
    /// The most iterations one run may take, so that a model file cannot loop without end.
    static let maximumIterations = 1 << 24

    var body: Subgraph
    var carriedCount: Int
    var scanOutputCount: Int

    static func compile(_ ctx: NodeContext) throws -> CompiledKernel {
        let inputCount = ctx.inputTypes.count
        guard inputCount >= 2 else {
            throw ctx.error("expects at least 2 inputs (M and cond, either may be empty), got \(inputCount)")
        }
        if let type = try ctx.optionalInputType(0), type != .int64 {
            throw ctx.error("input 0 (M) is \(type), expected int64")
        }
        if let type = try ctx.optionalInputType(1), type != .bool {
            throw ctx.error("input 1 (cond) is \(type), expected bool")
        }
        let n = inputCount - 2
        var carried: [ValueType] = []
        for i in 0..<n {
            carried.append(.tensor(try ctx.inputType(2 + i)))
        }
        let k = ctx.outputCount - n
        guard k >= 0 else { throw ctx.error("has \(ctx.outputCount) outputs, fewer than its \(n) loop-carried values") }
        let body = try ctx.compileSubgraph(
            try ctx.graph("body"),
            [.tensor(.int64), .tensor(.bool)] + carried
        )
        guard body.outputTypes.count == 1 + n + k else {
            throw ctx.error(
                "body has \(body.outputTypes.count) outputs, expected \(1 + n + k) (condition, loop-carried values "
                    + "and scan outputs)"
            )
        }
        guard body.outputTypes[0] == .tensor(.bool) else {
            throw ctx.error("body output 0 (the condition) is \(body.outputTypes[0]), expected bool")
        }
        for i in 0..<n where body.outputTypes[1 + i] != carried[i] {
            throw ctx.error(
                "body output \(1 + i) is \(body.outputTypes[1 + i]), but loop-carried value \(i) is \(carried[i])"
            )
        }
        let kernel = LoopKernel(body: body, carriedCount: n, scanOutputCount: k)
        return CompiledKernel(kernel, outputs: carried + Array(body.outputTypes[(1 + n)...]))
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let n = self.carriedCount
        var tripCount = Int64(Self.maximumIterations)
        if let m = try inputs.optionalTensor(0) {
            guard m.count == 1, let value = m.int64s?.first else {
                throw InferenceError.runtimeFailure("input M has \(m.count) elements, expected one int64")
            }
            tripCount = value
        }
        var condition = true
        if let c = try inputs.optionalTensor(1) {
            guard c.count == 1, let value = c.bools?.first else {
                throw InferenceError.runtimeFailure("input cond has \(c.count) elements, expected one bool")
            }
            condition = value
        }
        var carried: [Value] = try (0..<n).map { .tensor(try inputs.tensor(2 + $0)) }
        let outer: [Value] = (2 + n..<inputs.count).compactMap { inputs[$0] }
        var collected: [[Tensor]] = Array(repeating: [], count: self.scanOutputCount)
        var iteration: Int64 = 0
        while condition && iteration < tripCount {
            guard iteration < Int64(Self.maximumIterations) else {
                throw InferenceError(
                    .resourceLimit,
                    "Loop ran \(Self.maximumIterations) iterations without its condition turning false"
                )
            }
            var args: [Value?] = [
                .tensor(Tensor(unchecked: [], .int64([iteration]))), .tensor(Tensor(unchecked: [], .bool([condition]))),
            ]
            args += carried.map { $0 }
            let results = try self.body.run(inputs: args, outer: outer, context: context)
            guard let c = results[0].tensor, c.count == 1, let value = c.bools?.first else {
                throw InferenceError.runtimeFailure("the body's condition output is not one bool")
            }
            condition = value
            carried = Array(results[1..<(1 + n)])
            for o in 0..<self.scanOutputCount {
                guard let t = results[1 + n + o].tensor else {
                    throw InferenceError.runtimeFailure("scan output \(o) of the body is not a tensor")
                }
                collected[o].append(t)
            }
            iteration += 1
        }
        var outputs = carried
        for (o, slices) in collected.enumerated() {
            guard !slices.isEmpty else {
                // Zero iterations: an empty output of the body's element type.
                guard case .tensor(let type) = self.body.outputTypes[1 + n + o] else {
                    throw InferenceError.runtimeFailure("scan output \(o) is not a tensor")
                }
                outputs.append(.tensor(try Tensor.zeros(type, shape: [0])))
                continue
            }
            outputs.append(.tensor(try Tensor.stack(slices, axis: 0)))
        }
        return outputs
    }
}
