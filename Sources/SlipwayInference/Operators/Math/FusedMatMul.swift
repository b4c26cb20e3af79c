/// FusedMatMul (internal domain): a dense layer `activation(MatMul(X, W) + B)` that ``GraphFusion`` makes from a
/// model's MatMul, Add and activation nodes. `W` is a constant 2-D float matrix `[k, n]`, `B` a constant float
/// bias `[n]` or `[1, n]`; the bias and activation are applied as each block of the product is stored. When the
/// node also absorbed an ai.onnx.ml `Scaler` feeding `X` (attributes `scaler_*`), rows are scaled tile by tile just
/// before they are multiplied.
extension LinearAlgebraOperators {
    /// The internal dense-layer operator (not listed among the operators a model can use).
    static let fusedMatMul = OperatorDefinition(
        GraphFusion.internalDomain,
        GraphFusion.fusedMatMul,
        opsets: 7...28,
        compile: LinearAlgebraOperators.compileFusedMatMul
    )

    static func compileFusedMatMul(_ ctx: NodeContext) throws -> CompiledKernel {
        // Validate as the MatMul node this stands for, so that errors read as the model's own node.
        var matmul = ctx
        matmul.opType = "MatMul"
        matmul.domain = onnxDomain
        matmul.inputTypes = Array(ctx.inputTypes.prefix(2))
        if ctx.attributes["scaler_opset"] != nil { matmul.inputTypes[0] = .tensor(.float) }
        matmul.constantInputs = Array(ctx.constantInputs.prefix(2))
        let compiled = try LinearAlgebraOperators.compileMatMul(matmul)
        guard ctx.inputTypes.count == 3, let kernel = compiled.kernel as? MatMulKernel,
            let packed = kernel.packed, compiled.outputTypes == [.tensor(.float)],
            let bias = ctx.constant(2), let biasValues = bias.floats,
            bias.shape == [packed.n] || bias.shape == [1, packed.n]
        else {
            throw ctx.error("expects a float MatMul with constant 2-D weights and a constant [n] or [1, n] bias")
        }
        let activation: DenseActivation
        switch try ctx.string("activation", oneOf: ["None", "Relu", "Sigmoid", "Tanh", "LeakyRelu"]) {
        case "Relu": activation = .relu
        case "Sigmoid": activation = .sigmoid
        case "Tanh": activation = .tanh
        case "LeakyRelu": activation = .leakyRelu(try ctx.float("alpha", default: 0.01))
        default: activation = .none
        }
        let scaler = try LinearAlgebraOperators.compileFusedScaler(ctx, k: packed.k)
        var padded = biasValues
        padded += [Float](repeating: 0, count: max(0, packed.paddedWidth - padded.count))
        return CompiledKernel(
            FusedMatMulKernel(
                matmul: kernel,
                packed: packed,
                bias: padded,
                biasRank: bias.rank,
                activation: activation,
                scaler: scaler
            ),
            outputs: [.tensor(.float)]
        )
    }
}

extension LinearAlgebraOperators {
    /// The Scaler a FusedMatMul absorbed, compiled by its own definition (which validates it as the model's node).
    static func compileFusedScaler(_ ctx: NodeContext, k: Int) throws -> FusedMatMulKernel.Scaler? {
        guard case .int(let opset)? = ctx.attributes["scaler_opset"] else { return nil }
        var attributes: [String: Attribute] = [:]
        attributes["offset"] = ctx.attributes["scaler_offset"]
        attributes["scale"] = ctx.attributes["scaler_scale"]
        var name = ""
        if case .string(let n)? = ctx.attributes["scaler_name"] { name = n }
        let scalerContext = NodeContext(
            name: name,
            opType: "Scaler",
            domain: onnxMLDomain,
            opset: opset,
            attributes: attributes,
            inputTypes: [ctx.inputTypes.first ?? nil],
            constantInputs: [nil],
            outputCount: 1,
            compileSubgraph: ctx.compileSubgraph
        )
        let registry = OperatorRegistry.standard
        guard let definition = registry.definition(domain: onnxMLDomain, name: "Scaler", opset: opset) else {
            throw scalerContext.error("operator ai.onnx.ml.Scaler (opset \(opset)) is not supported")
        }
        let compiled = try definition.compile(scalerContext)
        guard compiled.outputTypes == [.tensor(.float)] else { throw scalerContext.error("expected a float output") }
        func expand(_ v: [Float], _ identity: Float) -> [Float]? {
            if v.isEmpty { return [Float](repeating: identity, count: k) }
            if v.count == 1 { return [Float](repeating: v[0], count: k) }
            return v.count == k ? v : nil
        }
        let offsets = expand(try scalerContext.floats("offset", default: []), 0)
        let scales = expand(try scalerContext.floats("scale", default: []), 1)
        let features = offsets.flatMap { o in scales.map { (offsets: o, scales: $0) } }
        return FusedMatMulKernel.Scaler(kernel: compiled.kernel, features: features)
    }
}

/// The compiled FusedMatMul node.
struct FusedMatMulKernel: Kernel {
    let matmul: MatMulKernel
    let packed: PackedFloatMatrix
    /// The bias, zero padded to the packed matrix's width.
    let bias: [Float]
    /// The rank of the model's bias (a `[1, n]` bias makes a 1-D product 2-D, as Add's broadcasting does).
    let biasRank: Int
    let activation: DenseActivation
    /// The Scaler applied to `X` first, if the node absorbed one.
    let scaler: Scaler?

    /// A Scaler (`(x - offset) * scale`) applied to `X`.
    struct Scaler: Sendable {
        /// The Scaler's own kernel, for inputs the tiled path does not take.
        let kernel: any Kernel
        /// The offset and scale of each of the `k` features, when the attributes fit `k` features.
        let features: (offsets: [Float], scales: [Float])?
    }

    /// The smallest number of rows a thread gets: about 16k multiply-adds, counting an exponential as 16. Lower
    /// than plain MatMul's threshold so that a narrow output layer (`n` = 1 with a sigmoid) also splits.
    var minimumRowsPerThread: Int {
        let k = self.packed.k
        let n = self.packed.n
        let activationCost: Int
        switch self.activation {
        case .sigmoid, .tanh: activationCost = 16 * n
        case .none, .relu, .leakyRelu: activationCost = 0
        }
        return max(4, 16_384 / max(1, k * n + activationCost))
    }

    /// Rows scaled at a time by the tiled Scaler path.
    private static let scalerTile = 64

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        var a = try inputs.tensor(0)
        var features: (offsets: [Float], scales: [Float])?
        if let scaler = self.scaler {
            if case .float = a.storage, a.rank == 2, a.shape[1] == self.packed.k, let f = scaler.features {
                features = f
            } else {
                // Anything else runs the Scaler as its own node would (including its errors).
                guard let scaled = try scaler.kernel.run(KernelInputs([.tensor(a)]), context).first?.tensor else {
                    throw InferenceError(.runtimeFailure, "Scaler produced no tensor")
                }
                a = scaled
            }
        }
        guard case .float(let x) = a.storage else {
            throw InferenceError(.runtimeFailure, "input 0 is \(a.elementType), expected float")
        }
        let k = self.packed.k
        let n = self.packed.n
        var shape: [Int]
        let total: Int
        if a.rank == 2, a.shape[1] == k {
            // The usual `[rows, k]` batch, without the general plan's intermediate arrays.
            shape = [a.shape[0], n]
            total = try Tensor.elementCount(of: shape)
        } else {
            let plan = try self.matmul.plan(a.shape, [k, n])
            shape = plan.outputShape
            if shape.count < self.biasRank { shape.insert(1, at: 0) }
            total = plan.total
        }
        let rows = total / n
        let minimum = self.minimumRowsPerThread
        let tile = Self.scalerTile
        let values = [Float](unsafeUninitializedCapacity: total) { out, count in
            if total > 0 {
                let o = out.baseAddress!
                x.withUnsafeBufferPointer { xb in
                    self.bias.withUnsafeBufferPointer { bb in
                        let ap = xb.baseAddress!
                        let bias = bb.baseAddress!
                        guard let features else {
                            context.parallelChunks(rows, minimumPerThread: minimum) { range in
                                self.packed.multiply(ap, o, rows: range, bias: bias, activation: self.activation)
                            }
                            return
                        }
                        features.offsets.withUnsafeBufferPointer { ob in
                            features.scales.withUnsafeBufferPointer { sb in
                                let offsets = ob.baseAddress!
                                let scales = sb.baseAddress!
                                context.parallelChunks(rows, minimumPerThread: minimum) { range in
                                    withUnsafeTemporaryAllocation(of: Float.self, capacity: tile * k) { scratch in
                                        let t = scratch.baseAddress!
                                        var r = range.lowerBound
                                        while r < range.upperBound {
                                            let m = min(tile, range.upperBound - r)
                                            for i in 0..<m {
                                                let src = ap + (r + i) * k
                                                let dst = t + i * k
                                                for j in 0..<k { dst[j] = (src[j] - offsets[j]) * scales[j] }
                                            }
                                            self.packed.multiply(
                                                t,
                                                o + r * n,
                                                rows: 0..<m,
                                                bias: bias,
                                                activation: self.activation
                                            )
                                            r += m
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            count = total
        }
        return [.tensor(Tensor(unchecked: shape, elements: values))]
    }
}
