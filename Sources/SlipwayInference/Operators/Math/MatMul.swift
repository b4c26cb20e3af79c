/// MatMul: numpy `matmul` (1-D operands are promoted and the added axis removed; batch axes broadcast).
extension LinearAlgebraOperators {
    static func compileMatMul(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(2...2)
        let type = try ctx.requireSameType([0, 1])
        try ctx.requireInputType(0, in: LinearAlgebraOperators.matrixTypes)
        // A constant 2-D float right-hand side (a dense layer's weights) is packed once, here.
        var packed: PackedFloatMatrix?
        if type == .float, let b = ctx.constant(1), b.rank == 2, let values = b.floats, b.count > 0 {
            packed = PackedFloatMatrix(values, k: b.shape[0], n: b.shape[1], transposed: false)
        }
        if let b = ctx.constant(1), b.rank == 0 {
            throw ctx.error("input 1 is a scalar, MatMul needs operands of rank >= 1")
        }
        return CompiledKernel(MatMulKernel(label: ctx.label, packed: packed), outputs: [.tensor(type)])
    }
}

/// The compiled MatMul node.
struct MatMulKernel: Kernel {
    let label: String
    let packed: PackedFloatMatrix?

    /// The shapes of one MatMul call after promotion and broadcasting.
    struct Plan {
        var m: Int
        var k: Int
        var n: Int
        var batch: [Int]
        var aBatch: [Int]
        var bBatch: [Int]
        var outputShape: [Int]
        var total: Int
    }

    func plan(_ a: [Int], _ b: [Int]) throws -> Plan {
        guard !a.isEmpty, !b.isEmpty else {
            throw InferenceError(
                .runtimeFailure,
                "\(self.label): operands must have rank >= 1, got shapes \(a) and \(b)"
            )
        }
        let ap = a.count == 1 ? [1, a[0]] : a
        let bp = b.count == 1 ? [b[0], 1] : b
        let m = ap[ap.count - 2]
        let k = ap[ap.count - 1]
        let n = bp[bp.count - 1]
        guard bp[bp.count - 2] == k else {
            throw InferenceError(
                .runtimeFailure,
                "\(self.label): shapes \(a) and \(b) are not aligned (\(k) != \(bp[bp.count - 2]))"
            )
        }
        let aBatch = Array(ap.dropLast(2))
        let bBatch = Array(bp.dropLast(2))
        guard let batch = Tensor.broadcastShape([aBatch, bBatch]) else {
            throw InferenceError(
                .runtimeFailure,
                "\(self.label): batch dimensions of \(a) and \(b) cannot be broadcast together"
            )
        }
        let total = try Tensor.elementCount(of: batch + [m, n])
        var shape = batch
        if a.count > 1 { shape.append(m) }
        if b.count > 1 { shape.append(n) }
        return Plan(m: m, k: k, n: n, batch: batch, aBatch: aBatch, bBatch: bBatch, outputShape: shape, total: total)
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let a = try inputs.tensor(0)
        let b = try inputs.tensor(1)
        let plan = try self.plan(a.shape, b.shape)
        let storage: Tensor.Storage
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): storage = .float(self.multiplyFloat(x, y, plan, context))
        case (.double(let x), .double(let y)): storage = .double(self.multiply(x, y, plan, context))
        case (.int64(let x), .int64(let y)): storage = .int64(self.multiply(x, y, plan, context))
        case (.int32(let x), .int32(let y)): storage = .int32(self.multiply(x, y, plan, context))
        default:
            throw InferenceError(
                .runtimeFailure,
                "\(self.label): operands are \(a.elementType) and \(b.elementType), expected matching "
                    + "float, double, int32 or int64"
            )
        }
        return [.tensor(Tensor(unchecked: plan.outputShape, storage))]
    }

    /// For each output batch, the batch index of `a` and of `b` (`nil` when no batch axes broadcast).
    private func batchMaps(_ plan: Plan) -> (count: Int, a: [Int], b: [Int]) {
        let count = plan.batch.reduce(1, *)
        let a =
            plan.aBatch == plan.batch
            ? Array(0..<count) : Broadcast.indexMap(from: plan.aBatch, to: plan.batch, count: count)
        let b =
            plan.bBatch == plan.batch
            ? Array(0..<count) : Broadcast.indexMap(from: plan.bBatch, to: plan.batch, count: count)
        return (count, a, b)
    }

    private func multiplyFloat(_ a: [Float], _ b: [Float], _ plan: Plan, _ context: ExecutionContext) -> [Float] {
        let (m, k, n) = (plan.m, plan.k, plan.n)
        if plan.total == 0 || k == 0 { return [Float](repeating: 0, count: plan.total) }
        let minimum = LinearAlgebraOperators.minimumRowsPerThread(k: k, n: n)
        return [Float](unsafeUninitializedCapacity: plan.total) { out, count in
            let o = out.baseAddress!
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    let ap = ab.baseAddress!
                    let bp = bb.baseAddress!
                    if plan.bBatch.allSatisfy({ $0 == 1 }), plan.aBatch == plan.batch {
                        // One right-hand matrix for every batch: all rows of `a` form a single [rows, k] matrix.
                        let rows = plan.total / n
                        let matrix =
                            self.packed.flatMap { $0.k == k && $0.n == n ? $0 : nil }
                            ?? PackedFloatMatrix(bp, k: k, n: n, transposed: false)
                        context.parallelChunks(rows, minimumPerThread: minimum) { range in
                            matrix.multiply(ap, o, rows: range)
                        }
                    } else {
                        let maps = self.batchMaps(plan)
                        for batch in 0..<maps.count {
                            let matrix = PackedFloatMatrix(bp + maps.b[batch] * k * n, k: k, n: n, transposed: false)
                            let aBase = ap + maps.a[batch] * m * k
                            let oBase = o + batch * m * n
                            context.parallelChunks(m, minimumPerThread: minimum) { range in
                                matrix.multiply(aBase, oBase, rows: range)
                            }
                        }
                    }
                }
            }
            count = plan.total
        }
    }

    private func multiply<T: LinearAlgebraScalar>(
        _ a: [T],
        _ b: [T],
        _ plan: Plan,
        _ context: ExecutionContext
    ) -> [T] {
        let (m, k, n) = (plan.m, plan.k, plan.n)
        if plan.total == 0 || k == 0 { return [T](repeating: .zero, count: plan.total) }
        let minimum = LinearAlgebraOperators.minimumRowsPerThread(k: k, n: n)
        let maps = self.batchMaps(plan)
        return [T](unsafeUninitializedCapacity: plan.total) { out, count in
            let o = out.baseAddress!
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    for batch in 0..<maps.count {
                        let aBase = ab.baseAddress! + maps.a[batch] * m * k
                        let bBase = bb.baseAddress! + maps.b[batch] * k * n
                        let oBase = o + batch * m * n
                        context.parallelChunks(m, minimumPerThread: minimum) { range in
                            LinearAlgebraOperators.multiplyRows(aBase, bBase, oBase, k: k, n: n, rows: range)
                        }
                    }
                }
            }
            count = plan.total
        }
    }
}
