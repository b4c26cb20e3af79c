/// `Scan` (opset 9 and later): runs a body graph once per slice of its scan inputs, threading state variables
/// through the iterations and stacking per-iteration scan outputs.
struct ScanKernel: Kernel {
    var body: Subgraph
    var stateCount: Int
    var scanInputCount: Int
    var scanOutputCount: Int
    var inputAxes: [Int]
    var inputReversed: [Bool]
    var outputAxes: [Int]
    var outputReversed: [Bool]

    static func compile(_ ctx: NodeContext) throws -> CompiledKernel {
        let m = try ctx.int("num_scan_inputs")
        let inputCount = ctx.inputTypes.count
        guard m >= 1, m <= inputCount else {
            throw ctx.attributeError("num_scan_inputs", "is \(m), expected 1 to \(inputCount) (the number of inputs)")
        }
        let n = inputCount - m
        let k = ctx.outputCount - n
        guard k >= 0 else { throw ctx.error("has \(ctx.outputCount) outputs, fewer than its \(n) state variables") }
        var types: [ValueType] = []
        for i in 0..<inputCount {
            types.append(.tensor(try ctx.inputType(i)))
        }
        func list(_ name: String, count: Int, default value: Int, allowed: ClosedRange<Int>?) throws -> [Int] {
            let values = try ctx.ints(name, default: Array(repeating: value, count: count))
            guard values.count == count else {
                throw ctx.attributeError(name, "has \(values.count) entries, expected \(count)")
            }
            if let allowed, let bad = values.first(where: { !allowed.contains($0) }) {
                throw ctx.attributeError(name, "contains \(bad), expected values in \(allowed)")
            }
            return values
        }
        let directions = try list("scan_input_directions", count: m, default: 0, allowed: 0...1)
        let outputDirections = try list("scan_output_directions", count: k, default: 0, allowed: 0...1)
        let inputAxes = try list("scan_input_axes", count: m, default: 0, allowed: nil)
        let outputAxes = try list("scan_output_axes", count: k, default: 0, allowed: nil)
        if ctx.opset < 11, let negative = (inputAxes + outputAxes).first(where: { $0 < 0 }) {
            throw ctx.attributeError("scan_input_axes", "contains \(negative); negative axes need opset 11")
        }
        let body = try ctx.compileSubgraph(try ctx.graph("body"), types)
        guard body.outputTypes.count == n + k else {
            throw ctx.error("body has \(body.outputTypes.count) outputs, expected \(n + k) (states plus scan outputs)")
        }
        for i in 0..<n where body.outputTypes[i] != types[i] {
            throw ctx.error("body output \(i) is \(body.outputTypes[i]), but state variable \(i) is \(types[i])")
        }
        let kernel = ScanKernel(
            body: body,
            stateCount: n,
            scanInputCount: m,
            scanOutputCount: k,
            inputAxes: inputAxes,
            inputReversed: directions.map { $0 == 1 },
            outputAxes: outputAxes,
            outputReversed: outputDirections.map { $0 == 1 }
        )
        return CompiledKernel(kernel, outputs: Array(body.outputTypes))
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let n = self.stateCount
        let m = self.scanInputCount
        var states: [Value] = try (0..<n).map { .tensor(try inputs.tensor($0)) }
        let scanInputs = try (0..<m).map { try inputs.tensor(n + $0) }
        let outer: [Value] = (n + m..<inputs.count).compactMap { inputs[$0] }
        var axes: [Int] = []
        var length = -1
        for (j, t) in scanInputs.enumerated() {
            let a = self.inputAxes[j] < 0 ? self.inputAxes[j] + t.rank : self.inputAxes[j]
            guard a >= 0, a < t.rank else {
                throw InferenceError.runtimeFailure(
                    "scan input \(j) of rank \(t.rank) has no axis \(self.inputAxes[j])"
                )
            }
            axes.append(a)
            if length < 0 {
                length = t.shape[a]
            } else if t.shape[a] != length {
                throw InferenceError.runtimeFailure(
                    "scan inputs have different lengths along their scan axes (\(length) and \(t.shape[a]))"
                )
            }
        }
        var collected: [[Tensor]] = Array(repeating: [], count: self.scanOutputCount)
        for step in 0..<max(0, length) {
            var args: [Value?] = states.map { $0 }
            for (j, t) in scanInputs.enumerated() {
                let index = self.inputReversed[j] ? length - 1 - step : step
                args.append(.tensor(t.slice(axis: axes[j], index: index)))
            }
            let results = try self.body.run(inputs: args, outer: outer, context: context)
            states = Array(results[0..<n])
            for o in 0..<self.scanOutputCount {
                guard let t = results[n + o].tensor else {
                    throw InferenceError.runtimeFailure("scan output \(o) of the body is not a tensor")
                }
                collected[o].append(t)
            }
        }
        var outputs = states
        for (o, slices) in collected.enumerated() {
            let ordered = self.outputReversed[o] ? Array(slices.reversed()) : slices
            guard let first = ordered.first else {
                // Zero iterations: an empty output of the body's element type.
                guard case .tensor(let type) = self.body.outputTypes[n + o] else {
                    throw InferenceError.runtimeFailure("scan output \(o) is not a tensor")
                }
                outputs.append(.tensor(try Tensor.zeros(type, shape: [0])))
                continue
            }
            let rank = first.rank + 1
            let axis = self.outputAxes[o] < 0 ? self.outputAxes[o] + rank : self.outputAxes[o]
            guard axis >= 0, axis < rank else {
                throw InferenceError.runtimeFailure(
                    "scan output \(o) of rank \(rank) has no axis \(self.outputAxes[o])"
                )
            }
            outputs.append(.tensor(try Tensor.stack(ordered, axis: axis)))
        }
        return outputs
    }
}

extension Tensor {
    /// The sub-tensor at `index` along `axis`, with that axis removed.
    package func slice(axis: Int, index: Int) -> Tensor {
        let outer = self.shape[..<axis].reduce(1, &*)
        let inner = self.shape[(axis + 1)...].reduce(1, &*)
        let dim = self.shape[axis]
        var shape = self.shape
        shape.remove(at: axis)
        struct Pick: StorageTransform {
            var outer: Int
            var inner: Int
            var dim: Int
            var index: Int
            func apply<T>(_ v: [T]) -> [T] {
                var out = [T]()
                out.reserveCapacity(self.outer * self.inner)
                for o in 0..<self.outer {
                    let start = (o * self.dim + self.index) * self.inner
                    out.append(contentsOf: v[start..<start + self.inner])
                }
                return out
            }
        }
        return Tensor(unchecked: shape, self.storage.map(Pick(outer: outer, inner: inner, dim: dim, index: index)))
    }

    /// Stacks equally shaped tensors along a new axis.
    package static func stack(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        let first = tensors[0]
        for t in tensors where t.shape != first.shape || t.elementType != first.elementType {
            throw InferenceError.runtimeFailure(
                "cannot stack \(t.elementType) \(t.shape) with \(first.elementType) \(first.shape)"
            )
        }
        var shape = first.shape
        shape.insert(tensors.count, at: axis)
        _ = try Tensor.elementCount(of: shape)
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[axis...].reduce(1, *)
        func join<T>(_ parts: [[T]]) -> [T] {
            var out = [T]()
            out.reserveCapacity(outer * inner * parts.count)
            for o in 0..<outer {
                for p in parts { out.append(contentsOf: p[o * inner..<(o + 1) * inner]) }
            }
            return out
        }
        let storage: Storage =
            switch first.storage {
            case .float: .float(join(tensors.map { $0.floats ?? [] }))
            case .double: .double(join(tensors.map { $0.doubles ?? [] }))
            case .int64: .int64(join(tensors.map { $0.int64s ?? [] }))
            case .int32: .int32(join(tensors.map { $0.int32s ?? [] }))
            case .bool: .bool(join(tensors.map { $0.bools ?? [] }))
            case .string: .string(join(tensors.map { $0.strings ?? [] }))
            }
        return Tensor(unchecked: shape, storage)
    }
}

/// A rearrangement of elements that does not depend on their type (slicing, gathering, transposing).
package protocol StorageTransform {
    /// Rearranges one array of elements.
    func apply<T>(_ elements: [T]) -> [T]
}

extension Tensor.Storage {
    /// Applies an element-type-agnostic transformation to whichever array the storage holds.
    package func map(_ transform: some StorageTransform) -> Tensor.Storage {
        switch self {
        case .float(let v): .float(transform.apply(v))
        case .double(let v): .double(transform.apply(v))
        case .int64(let v): .int64(transform.apply(v))
        case .int32(let v): .int32(transform.apply(v))
        case .bool(let v): .bool(transform.apply(v))
        case .string(let v): .string(transform.apply(v))
        }
    }
}
