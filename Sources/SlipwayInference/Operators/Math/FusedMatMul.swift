/// FusedMatMul (internal domain): dense layers `activation(MatMul(X, W) + B)`, each feeding the next, that
/// ``GraphFusion`` makes from a model's MatMul, Add and activation nodes. Each `W` is a constant 2-D float matrix
/// `[k, n]`, each `B` a constant float bias `[n]` or `[1, n]`; the bias and activation are applied as each block of
/// a product is stored, and tiles of rows go through every layer while they are in cache. When the node also
/// absorbed an ai.onnx.ml `Scaler` feeding `X` (attributes `scaler_*`), rows are scaled tile by tile first.
extension LinearAlgebraOperators {
    /// The internal dense-layer operator (not listed among the operators a model can use).
    static let fusedMatMul = OperatorDefinition(
        GraphFusion.internalDomain,
        GraphFusion.fusedMatMul,
        opsets: 7...28,
        compile: LinearAlgebraOperators.compileFusedMatMul
    )

    static func compileFusedMatMul(_ ctx: NodeContext) throws -> CompiledKernel {
        guard ctx.inputTypes.count >= 3, ctx.inputTypes.count % 2 == 1 else {
            throw ctx.error("expects X followed by weight and bias pairs")
        }
        let count = (ctx.inputTypes.count - 1) / 2
        let activationNames = try ctx.strings("activations")
        let alphas = try ctx.floats("alphas")
        guard activationNames.count == count, alphas.count == count else {
            throw ctx.error("expects one activation and one alpha per layer")
        }
        var layers: [FusedMatMulKernel.Layer] = []
        var first: MatMulKernel?
        for l in 0..<count {
            // Validate as the MatMul node this stands for, so that errors read as the model's own node.
            var matmul = ctx
            matmul.opType = "MatMul"
            matmul.domain = onnxDomain
            matmul.inputTypes = [l == 0 ? ctx.inputTypes[0] : .tensor(.float), ctx.inputTypes[1 + 2 * l]]
            if l == 0, ctx.attributes["scaler_opset"] != nil { matmul.inputTypes[0] = .tensor(.float) }
            matmul.constantInputs = [nil, ctx.constantInputs[1 + 2 * l]]
            let compiled = try LinearAlgebraOperators.compileMatMul(matmul)
            guard let kernel = compiled.kernel as? MatMulKernel, let packed = kernel.packed,
                compiled.outputTypes == [.tensor(.float)],
                let bias = ctx.constant(2 + 2 * l), let biasValues = bias.floats,
                bias.shape == [packed.n] || bias.shape == [1, packed.n],
                l == 0 || layers[l - 1].packed.n == packed.k
            else {
                throw ctx.error("expects float MatMuls with constant 2-D weights and constant [n] or [1, n] biases")
            }
            if l == 0 { first = kernel }
            let activation: DenseActivation
            switch activationNames[l] {
            case "None": activation = .none
            case "Relu": activation = .relu
            case "Sigmoid": activation = .sigmoid
            case "Tanh": activation = .tanh
            case "LeakyRelu": activation = .leakyRelu(alphas[l])
            default: throw ctx.attributeError("activations", "has unknown activation '\(activationNames[l])'")
            }
            var padded = biasValues
            padded += [Float](repeating: 0, count: max(0, packed.paddedWidth - padded.count))
            layers.append(
                FusedMatMulKernel.Layer(packed: packed, bias: padded, biasRank: bias.rank, activation: activation)
            )
        }
        guard let first else { throw ctx.error("expects at least one layer") }
        let scaler = try LinearAlgebraOperators.compileFusedScaler(ctx, k: layers[0].packed.k)
        return CompiledKernel(
            FusedMatMulKernel(matmul: first, layers: layers, scaler: scaler),
            outputs: [.tensor(.float)]
        )
    }

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
    /// The first layer's MatMul, for its shape checks and errors.
    let matmul: MatMulKernel
    let layers: [Layer]
    /// The Scaler applied to `X` first, if the node absorbed one.
    let scaler: Scaler?

    /// One dense layer.
    struct Layer: Sendable {
        let packed: PackedFloatMatrix
        /// The bias, zero padded to the packed matrix's width.
        let bias: [Float]
        /// The rank of the model's bias (a `[1, n]` bias makes a 1-D product 2-D, as Add's broadcasting does).
        let biasRank: Int
        let activation: DenseActivation

        /// The work of one row, in multiply-adds, counting an exponential as 16.
        var cost: Int {
            let n = self.packed.n
            switch self.activation {
            case .sigmoid, .tanh: return self.packed.k * n + 16 * n
            case .none, .relu, .leakyRelu: return self.packed.k * n
            }
        }
    }

    /// A Scaler (`(x - offset) * scale`) applied to `X`.
    struct Scaler: Sendable {
        /// The Scaler's own kernel, for inputs the tiled path does not take.
        let kernel: any Kernel
        /// The offset and scale of each of the `k` features, when the attributes fit `k` features.
        let features: (offsets: [Float], scales: [Float])?
    }

    /// Rows that go through the layers together.
    private static let tile = 32

    /// The smallest number of rows a thread gets: about 16k multiply-adds.
    var minimumRowsPerThread: Int { max(4, 16_384 / max(1, self.layers.reduce(0) { $0 + $1.cost })) }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        var a = try inputs.tensor(0)
        var features: (offsets: [Float], scales: [Float])?
        let k = self.layers[0].packed.k
        if let scaler = self.scaler {
            if case .float = a.storage, a.rank == 2, a.shape[1] == k, let f = scaler.features {
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
        // Shapes: the first layer's MatMul rules, then each layer replaces the last axis.
        var shape: [Int]
        let rows: Int
        if a.rank == 2, a.shape[1] == k {
            shape = [a.shape[0], self.layers[0].packed.n]
            rows = a.shape[0]
        } else {
            let plan = try self.matmul.plan(a.shape, [k, self.layers[0].packed.n])
            shape = plan.outputShape
            rows = plan.total / plan.n
        }
        for (l, layer) in self.layers.enumerated() {
            if l > 0 { shape[shape.count - 1] = layer.packed.n }
            if shape.count < layer.biasRank { shape.insert(1, at: 0) }
        }
        let total = try Tensor.elementCount(of: shape)
        let last = self.layers.count - 1
        let widest = self.layers.dropLast().map(\.packed.paddedWidth).max() ?? 0
        let tile = Self.tile
        let values = [Float](unsafeUninitializedCapacity: total) { out, count in
            if total > 0 {
                let o = out.baseAddress!
                x.withUnsafeBufferPointer { xb in
                    let ap = xb.baseAddress!
                    context.parallelChunks(rows, minimumPerThread: self.minimumRowsPerThread) { range in
                        // Scratch: the scaled input tile, then two buffers the hidden layers alternate between.
                        let scaledSize = features == nil ? 0 : tile * k
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: scaledSize + 2 * tile * widest) {
                            scratch in
                            let s = scratch.baseAddress!
                            var r = range.lowerBound
                            while r < range.upperBound {
                                let m = min(tile, range.upperBound - r)
                                var source = ap + r * k
                                if let features {
                                    for i in 0..<m {
                                        let src = ap + (r + i) * k
                                        let dst = s + i * k
                                        for j in 0..<k {
                                            dst[j] = (src[j] - features.offsets[j]) * features.scales[j]
                                        }
                                    }
                                    source = UnsafePointer(s)
                                }
                                for (l, layer) in self.layers.enumerated() {
                                    let target =
                                        l == last
                                        ? o + r * layer.packed.n
                                        : s + scaledSize + (l % 2) * tile * widest
                                    layer.bias.withUnsafeBufferPointer { bias in
                                        layer.packed.multiply(
                                            source,
                                            target,
                                            rows: 0..<m,
                                            bias: bias.baseAddress!,
                                            activation: layer.activation
                                        )
                                    }
                                    source = UnsafePointer(target)
                                }
                                r += m
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
