/// A validated, topologically ordered graph whose values live in numbered slots.
package struct CompiledGraph: Sendable {
    /// One node ready to run.
    package struct Step: Sendable {
        package var kernel: any Kernel
        /// Slot of each input; `-1` for an omitted optional input.
        package var inputs: [Int]
        /// Slot of each output; `-1` for an omitted optional output.
        package var outputs: [Int]
        /// Slots whose last reader is this step, cleared after it runs.
        package var releases: [Int]
        /// `OpType 'name'` for error messages.
        package var label: String
    }

    /// Number of value slots.
    package var slotCount: Int
    /// Slot contents before a run: initializers and constants.
    package var initialSlots: [Value?]
    /// Slots of the formal inputs, in declaration order.
    package var inputSlots: [Int]
    /// Slots of outer-scope values (subgraphs only), in `outerNames` order.
    package var outerSlots: [Int]
    /// Slots of the outputs, in declaration order.
    package var outputSlots: [Int]
    /// The nodes in execution order.
    package var steps: [Step] {
        didSet { self.program = Program(self.steps) }
    }
    /// ``steps`` flattened for execution, so that running a step copies no arrays.
    private var program: Program

    package init(
        slotCount: Int,
        initialSlots: [Value?],
        inputSlots: [Int],
        outerSlots: [Int],
        outputSlots: [Int],
        steps: [Step]
    ) {
        self.slotCount = slotCount
        self.initialSlots = initialSlots
        self.inputSlots = inputSlots
        self.outerSlots = outerSlots
        self.outputSlots = outputSlots
        self.steps = steps
        self.program = Program(steps)
    }

    /// The steps' kernels and slot lists in flat arrays: step `i` reads `inputs[inputStart[i]..<inputStart[i+1]]`,
    /// and likewise for outputs and releases.
    private final class Program: Sendable {
        let kernels: [any Kernel]
        let inputs: [Int]
        let inputStart: [Int]
        let outputs: [Int]
        let outputStart: [Int]
        let releases: [Int]
        let releaseStart: [Int]
        /// The most inputs any step has.
        let maximumInputs: Int

        init(_ steps: [Step]) {
            self.kernels = steps.map(\.kernel)
            func flatten(_ lists: [[Int]]) -> ([Int], [Int]) {
                var flat: [Int] = []
                var start = [0]
                for list in lists {
                    flat += list
                    start.append(flat.count)
                }
                return (flat, start)
            }
            (self.inputs, self.inputStart) = flatten(steps.map(\.inputs))
            (self.outputs, self.outputStart) = flatten(steps.map(\.outputs))
            (self.releases, self.releaseStart) = flatten(steps.map(\.releases))
            self.maximumInputs = steps.map(\.inputs.count).max() ?? 0
        }
    }

    /// Runs the graph: `inputs` in ``inputSlots`` order (`nil` keeps an initializer default), `outer` in
    /// ``outerSlots`` order. Returns the outputs in ``outputSlots`` order.
    package func run(inputs: [Value?], outer: [Value] = [], context: ExecutionContext) throws -> [Value] {
        // Values computed in this run; a slot never written reads its initial value (initializers and
        // constants are not copied per run). A slot is only cleared after its last reader.
        var slots = [Value?](repeating: nil, count: self.slotCount)
        for (slot, value) in zip(self.inputSlots, inputs) where value != nil { slots[slot] = value }
        for (slot, value) in zip(self.outerSlots, outer) { slots[slot] = value }
        let program = self.program
        // One argument buffer for every step: the kernel's copy is gone when it returns, so the buffer is unique
        // again and refilling it allocates nothing.
        var args = [Value?]()
        args.reserveCapacity(program.maximumInputs)
        for i in 0..<program.kernels.count {
            args.removeAll(keepingCapacity: true)
            for j in program.inputStart[i]..<program.inputStart[i + 1] {
                let s = program.inputs[j]
                args.append(s >= 0 ? slots[s] ?? self.initialSlots[s] : nil)
            }
            let results: [Value]
            do {
                results = try program.kernels[i].run(KernelInputs(args), context)
            } catch let error as InferenceError {
                throw InferenceError(error.code, "\(self.steps[i].label): \(error.message)")
            }
            let first = program.outputStart[i]
            for j in 0..<min(program.outputStart[i + 1] - first, results.count) {
                let s = program.outputs[first + j]
                if s >= 0 { slots[s] = results[j] }
            }
            for j in program.releaseStart[i]..<program.releaseStart[i + 1] { slots[program.releases[j]] = nil }
        }
        return try self.outputSlots.map { slot in
            guard let value = slots[slot] ?? self.initialSlots[slot] else {
                throw InferenceError.runtimeFailure("graph output slot \(slot) was not produced")
            }
            return value
        }
    }
}
