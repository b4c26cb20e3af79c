import Dispatch

/// A compiled node: the operator bound to its attributes, ready to run on inputs.
package protocol Kernel: Sendable {
    /// Runs the node. `inputs` are in the node's input order (omitted optional inputs are `nil`); the result
    /// holds one value per node output.
    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value]
}

/// The values given to a kernel.
package struct KernelInputs {
    package var values: [Value?]

    package init(_ values: [Value?]) { self.values = values }

    /// The number of input slots (including omitted optional ones).
    package var count: Int { self.values.count }

    /// The tensor at `index`; throws when it is absent or not a tensor.
    package func tensor(_ index: Int) throws -> Tensor {
        guard index < self.values.count, let value = self.values[index] else {
            throw InferenceError.runtimeFailure("input \(index) is missing")
        }
        guard case .tensor(let t) = value else {
            throw InferenceError.runtimeFailure("input \(index) is \(value.type), expected a tensor")
        }
        return t
    }

    /// The tensor at `index`, or `nil` when the optional input is omitted.
    package func optionalTensor(_ index: Int) throws -> Tensor? {
        guard index < self.values.count, self.values[index] != nil else { return nil }
        return try self.tensor(index)
    }

    /// The value at `index`, or `nil` when omitted.
    package subscript(_ index: Int) -> Value? {
        index < self.values.count ? self.values[index] : nil
    }
}

/// Per-run execution settings given to kernels.
package struct ExecutionContext: Sendable {
    /// The number of threads a kernel may use for one call.
    package var threads: Int

    package init(threads: Int) { self.threads = max(1, threads) }

    /// Runs `body` over `0..<count` split into contiguous chunks, in parallel when more than one thread is
    /// allowed and the work is large enough (`count >= minimumPerThread * 2`); chunks hold at least
    /// `minimumPerThread` items.
    package func parallelChunks(
        _ count: Int,
        minimumPerThread: Int = 64,
        _ body: (Range<Int>) -> Void
    ) {
        let workers = min(self.threads, count / max(1, minimumPerThread))
        if workers <= 1 {
            body(0..<count)
            return
        }
        // Up to four chunks per thread, claimed as threads come free: a worker that wakes late takes fewer
        // instead of the caller waiting for its one large chunk.
        let chunks = min(workers * 4, count / max(1, minimumPerThread))
        let size = (count + chunks - 1) / chunks
        // Safe: the pool returns only after every chunk has finished, so `body` does not escape; kernels write
        // disjoint ranges of their output.
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            WorkerPool.shared.run(chunks: chunks) { c in
                let start = c * size
                let end = min(count, start + size)
                if start < end { body(start..<end) }
            }
        }
    }
}

/// A kernel together with the types of the values it produces, the result of compiling one node.
package struct CompiledKernel: Sendable {
    package var kernel: any Kernel
    package var outputTypes: [ValueType]

    package init(_ kernel: any Kernel, outputs: [ValueType]) {
        self.kernel = kernel
        self.outputTypes = outputs
    }
}

/// A kernel written as a closure, for operators with no state beyond their attributes.
package struct ClosureKernel: Kernel {
    let body: @Sendable (KernelInputs, ExecutionContext) throws -> [Value]

    package init(_ body: @escaping @Sendable (KernelInputs, ExecutionContext) throws -> [Value]) {
        self.body = body
    }

    package func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        try self.body(inputs, context)
    }
}
