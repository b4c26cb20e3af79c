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
    package var steps: [Step]

    /// Runs the graph: `inputs` in ``inputSlots`` order (`nil` keeps an initializer default), `outer` in
    /// ``outerSlots`` order. Returns the outputs in ``outputSlots`` order.
    package func run(inputs: [Value?], outer: [Value] = [], context: ExecutionContext) throws -> [Value] {
        var slots = self.initialSlots
        for (slot, value) in zip(self.inputSlots, inputs) where value != nil { slots[slot] = value }
        for (slot, value) in zip(self.outerSlots, outer) { slots[slot] = value }
        for step in self.steps {
            var args = [Value?]()
            args.reserveCapacity(step.inputs.count)
            for s in step.inputs { args.append(s >= 0 ? slots[s] : nil) }
            let results: [Value]
            do {
                results = try step.kernel.run(KernelInputs(args), context)
            } catch let error as InferenceError {
                throw InferenceError(error.code, "\(step.label): \(error.message)")
            }
            for (slot, value) in zip(step.outputs, results) where slot >= 0 { slots[slot] = value }
            for s in step.releases { slots[s] = nil }
        }
        return try self.outputSlots.map { slot in
            guard let value = slots[slot] else {
                throw InferenceError.runtimeFailure("graph output slot \(slot) was not produced")
            }
            return value
        }
    }
}
