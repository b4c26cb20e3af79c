/// FusedMatMul (internal domain): a dense layer `activation(MatMul(X, W) + B)` that ``GraphFusion`` makes from a
/// model's MatMul, Add and activation nodes. `W` is a constant 2-D float matrix `[k, n]`, `B` a constant float
/// bias `[n]` or `[1, n]`; the bias and activation are applied as each block of the product is stored.
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
        var padded = biasValues
        padded += [Float](repeating: 0, count: max(0, packed.paddedWidth - padded.count))
        return CompiledKernel(
            FusedMatMulKernel(matmul: kernel, packed: packed, bias: padded, biasRank: bias.rank, activation: activation),
            outputs: [.tensor(.float)]
        )
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

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let a = try inputs.tensor(0)
        guard case .float(let x) = a.storage else {
            throw InferenceError(.runtimeFailure, "input 0 is \(a.elementType), expected float")
        }
        let n = self.packed.n
        var shape: [Int]
        let total: Int
        if a.rank == 2, a.shape[1] == self.packed.k {
            // The usual `[rows, k]` batch, without the general plan's intermediate arrays.
            shape = [a.shape[0], n]
            total = try Tensor.elementCount(of: shape)
        } else {
            let plan = try self.matmul.plan(a.shape, [self.packed.k, n])
            shape = plan.outputShape
            if shape.count < self.biasRank { shape.insert(1, at: 0) }
            total = plan.total
        }
        let rows = total / n
        let minimum = LinearAlgebraOperators.minimumRowsPerThread(k: self.packed.k, n: n)
        let values = [Float](unsafeUninitializedCapacity: total) { out, count in
            if total > 0 {
                let o = out.baseAddress!
                x.withUnsafeBufferPointer { xb in
                    self.bias.withUnsafeBufferPointer { bb in
                        let ap = xb.baseAddress!
                        let bias = bb.baseAddress!
                        context.parallelChunks(rows, minimumPerThread: minimum) { range in
                            self.packed.multiply(ap, o, rows: range, bias: bias, activation: self.activation)
                        }
                    }
                }
            }
            count = total
        }
        return [.tensor(Tensor(unchecked: shape, elements: values))]
    }
}
