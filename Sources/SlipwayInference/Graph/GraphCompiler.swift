/// Validates an ONNX graph and turns it into a ``CompiledGraph``: resolves names to slots, orders nodes
/// topologically, compiles every node with the operator registry (which infers element types), folds
/// constant subexpressions and computes value lifetimes.
final class GraphCompiler {
    /// The values visible to a graph from its enclosing graphs.
    final class Scope {
        let parent: Scope?
        var types: [String: ValueType] = [:]
        var constants: [String: Tensor] = [:]

        init(parent: Scope?) { self.parent = parent }

        func lookup(_ name: String) -> ValueType? { self.types[name] ?? self.parent?.lookup(name) }

        /// The value of `name` when it is a load-time constant of this or an enclosing scope.
        func constant(_ name: String) -> Tensor? {
            if self.types[name] != nil { return self.constants[name] }
            return self.parent?.constant(name)
        }
    }

    /// The result of compiling one graph.
    struct Result {
        var graph: CompiledGraph
        var inputs: [ValueInfo]
        var outputs: [ValueInfo]
        var inputSlots: [String: Int]
        var defaultedInputs: Set<String>
        var outerNames: [String]
    }

    let registry: OperatorRegistry
    let opsets: [String: Int]
    /// Node counts per `domain:op`, across all graphs compiled.
    private(set) var operatorCounts: [String: Int] = [:]

    init(registry: OperatorRegistry, opsets: [String: Int]) {
        self.registry = registry
        self.opsets = opsets
    }

    /// The largest constant (in elements) the compiler evaluates at load time.
    private static let foldingLimit = 1 << 20

    func compile(
        _ proto: Onnx_GraphProto,
        formalInputTypes: [ValueType]? = nil,
        outer: Scope? = nil
    ) throws -> Result {
        let scope = Scope(parent: outer)
        var slotOf: [String: Int] = [:]
        var slotTypes: [ValueType] = []
        var constants: [Tensor?] = []
        var outerNames: [String] = []
        var outerSlots: [Int] = []
        let graphName = outer == nil ? "graph" : "subgraph '\(proto.name)'"

        func newSlot(_ name: String, _ type: ValueType, constant: Tensor? = nil) -> Int {
            let slot = slotTypes.count
            slotOf[name] = slot
            slotTypes.append(type)
            constants.append(constant)
            scope.types[name] = type
            scope.constants[name] = constant
            return slot
        }
        func setConstant(_ slot: Int, _ name: String, _ value: Tensor) {
            constants[slot] = value
            scope.constants[name] = value
        }

        // Initializers.
        var initializers: [String: Tensor] = [:]
        for t in proto.initializer {
            guard !t.name.isEmpty else {
                throw InferenceError.invalidGraph("\(graphName) has an initializer without a name")
            }
            guard initializers[t.name] == nil else {
                throw InferenceError.invalidGraph("\(graphName) defines initializer '\(t.name)' twice")
            }
            initializers[t.name] = try t.makeTensor(what: "initializer '\(t.name)'")
        }
        if let sparse = proto.sparseInitializer.first {
            throw InferenceError.unsupportedModel(
                "sparse initializer '\(sparse.values.name)' is not supported; store it as a dense tensor"
            )
        }

        // Formal inputs.
        var inputInfos: [ValueInfo] = []
        var formalSlots: [Int] = []
        var inputSlots: [String: Int] = [:]
        var defaulted: Set<String> = []
        for (i, vi) in proto.input.enumerated() {
            guard !vi.name.isEmpty else { throw InferenceError.invalidGraph("\(graphName) input \(i) has no name") }
            guard slotOf[vi.name] == nil else {
                throw InferenceError.invalidGraph("\(graphName) declares input '\(vi.name)' twice")
            }
            var info = try Self.valueInfo(vi, what: "input '\(vi.name)'", required: formalInputTypes == nil)
            if let formal = formalInputTypes, i < formal.count {
                if vi.type.value == nil {
                    info.type = formal[i]
                } else if info.type != formal[i] {
                    throw InferenceError.invalidGraph(
                        "\(graphName) input '\(vi.name)' is declared as \(info.type) but receives \(formal[i])"
                    )
                }
            }
            if let initial = initializers[vi.name] {
                guard info.type == .tensor(initial.elementType) else {
                    throw InferenceError.invalidGraph(
                        "input '\(vi.name)' is declared as \(info.type) but its initializer is \(initial.elementType)"
                    )
                }
                defaulted.insert(vi.name)
            } else {
                inputInfos.append(info)
            }
            let slot = newSlot(vi.name, info.type)
            formalSlots.append(slot)
            inputSlots[vi.name] = slot
        }
        if let formal = formalInputTypes, formal.count != proto.input.count {
            throw InferenceError.invalidGraph(
                "\(graphName) declares \(proto.input.count) inputs, its operator passes \(formal.count)"
            )
        }
        var initialSlots: [Value?] = Array(repeating: nil, count: slotTypes.count)
        for (name, tensor) in initializers {
            if let slot = slotOf[name] {
                initialSlots[slot] = .tensor(tensor)
            } else {
                _ = newSlot(name, .tensor(tensor.elementType), constant: tensor)
                initialSlots.append(.tensor(tensor))
            }
        }

        // Operator counts report the model's own nodes; the internal domain is not the model's to use.
        for node in proto.node {
            let domain = node.domain.isEmpty || node.domain == onnxDomain ? onnxDomain : node.domain
            if domain == GraphFusion.internalDomain {
                let what = "operator \(domain).\(node.opType) is not supported (unknown domain '\(domain)')"
                throw InferenceError(.unsupportedOperator, "\(Self.label(node)): \(what)")
            }
            self.operatorCounts["\(domain):\(node.opType)", default: 0] += 1
        }
        // Fuse dense layers (MatMul + Add + activation) whose weights are constant.
        let fusion = GraphFusion.fuse(
            proto.node,
            constants: initializers.filter { !defaulted.contains($0.key) },
            graphOutputs: Set(proto.output.map(\.name)),
            onnxOpset: self.opsets[onnxDomain],
            mlOpset: self.opsets[onnxMLDomain]
        )
        let nodes = fusion.nodes
        let labels = fusion.labels

        // Topological order, counting values read by subgraphs from this scope as node inputs.
        var producer: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for output in node.output where !output.isEmpty {
                if producer[output] != nil || slotOf[output] != nil {
                    throw InferenceError.invalidGraph(
                        "\(labels[i]) produces '\(output)', which is already defined in the \(graphName)"
                    )
                }
                producer[output] = i
            }
        }
        var dependencies: [[String]] = []
        for node in nodes {
            var names = node.input.filter { !$0.isEmpty }
            for attribute in node.attribute {
                for g in (attribute.hasG ? [attribute.g] : []) + attribute.graphs {
                    names.append(contentsOf: Self.freeNames(of: g))
                }
            }
            dependencies.append(names)
        }
        var waiting = [Int](repeating: 0, count: nodes.count)
        var consumers: [[Int]] = Array(repeating: [], count: nodes.count)
        for (i, names) in dependencies.enumerated() {
            for name in Set(names) {
                if let p = producer[name] {
                    waiting[i] += 1
                    consumers[p].append(i)
                } else if slotOf[name] == nil, scope.lookup(name) == nil {
                    throw InferenceError.invalidGraph(
                        "\(labels[i]) reads '\(name)', which no node, initializer or graph input produces"
                    )
                }
            }
        }
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        var ready = (0..<nodes.count).filter { waiting[$0] == 0 }.reversed() as [Int]
        while let i = ready.popLast() {
            order.append(i)
            for c in consumers[i].reversed() {
                waiting[c] -= 1
                if waiting[c] == 0 { ready.append(c) }
            }
        }
        if order.count < nodes.count {
            let stuck = (0..<nodes.count).first { waiting[$0] > 0 }!
            throw InferenceError.invalidGraph("the \(graphName) has a cycle through \(labels[stuck])")
        }

        // Compile nodes in order.
        var steps: [CompiledGraph.Step] = []
        for index in order {
            let node = nodes[index]
            let domain = node.domain.isEmpty || node.domain == onnxDomain ? onnxDomain : node.domain
            let label = labels[index]
            // Internal operators run with the model's ai.onnx opset (they stand for ai.onnx nodes).
            let importedOpset = domain == GraphFusion.internalDomain ? self.opsets[onnxDomain] : self.opsets[domain]
            guard let opset = importedOpset else {
                if domain == onnxDomain || domain == onnxMLDomain {
                    throw InferenceError.invalidGraph("\(label) uses domain \(domain), which the model does not import")
                }
                throw InferenceError(
                    .unsupportedOperator,
                    "\(label): operator \(domain).\(node.opType) is not supported (unknown domain '\(domain)')"
                )
            }
            guard let definition = self.registry.definition(domain: domain, name: node.opType, opset: opset) else {
                let others = self.registry.definitions(domain: domain, name: node.opType)
                let supported =
                    others.isEmpty
                    ? ""
                    : "; supported for opsets "
                        + others.map { "\($0.opsets.lowerBound)-\($0.opsets.upperBound)" }.joined(separator: ", ")
                throw InferenceError(
                    .unsupportedOperator,
                    "\(label): operator \(domain).\(node.opType) (opset \(opset)) is not supported\(supported)"
                )
            }
            var attributes: [String: Attribute] = [:]
            for a in node.attribute {
                guard attributes[a.name] == nil else {
                    throw InferenceError(.invalidAttribute, "\(label): attribute '\(a.name)' appears twice")
                }
                attributes[a.name] = try a.makeAttribute(node: label)
            }
            // Resolve inputs (values from enclosing graphs become local slots filled at run time).
            var inputSlotsOfNode: [Int] = []
            var inputTypes: [ValueType?] = []
            var constantInputs: [Tensor?] = []
            func resolve(_ name: String) throws -> Int {
                if let s = slotOf[name] { return s }
                guard let type = scope.parent?.lookup(name) else {
                    throw InferenceError.invalidGraph("\(label) reads '\(name)', which is not defined")
                }
                if let value = scope.parent?.constant(name) {
                    // A constant of an enclosing graph becomes a local constant.
                    let s = newSlot(name, type, constant: value)
                    initialSlots.append(.tensor(value))
                    return s
                }
                let s = newSlot(name, type)
                initialSlots.append(nil)
                outerNames.append(name)
                outerSlots.append(s)
                return s
            }
            for name in node.input {
                if name.isEmpty {
                    inputSlotsOfNode.append(-1)
                    inputTypes.append(nil)
                    constantInputs.append(nil)
                } else {
                    let s = try resolve(name)
                    inputSlotsOfNode.append(s)
                    inputTypes.append(slotTypes[s])
                    constantInputs.append(constants[s])
                }
            }
            var implicit: [String] = []
            var subgraphError: InferenceError?
            let context = NodeContext(
                name: node.name,
                opType: node.opType,
                domain: domain,
                opset: opset,
                attributes: attributes,
                inputTypes: inputTypes,
                constantInputs: constantInputs,
                outputCount: node.output.count,
                compileSubgraph: { [scope] graph, types in
                    do {
                        let result = try self.compile(graph, formalInputTypes: types, outer: scope)
                        implicit.append(contentsOf: result.outerNames)
                        return Subgraph(
                            graph: result.graph,
                            outerNames: result.outerNames,
                            outputTypes: result.outputs.map(\.type)
                        )
                    } catch let error as InferenceError {
                        subgraphError = error
                        throw error
                    }
                }
            )
            let compiled: CompiledKernel
            do {
                compiled = try definition.compile(context)
            } catch let error as InferenceError {
                if let subgraphError, subgraphError == error { throw error }
                // Messages that already name the node (by its model op type, also for a fused node) pass unchanged.
                let opType = label.prefix { $0 != " " }
                if error.message.hasPrefix(label) || error.message.hasPrefix(opType) { throw error }
                throw InferenceError(error.code, "\(label): \(error.message)")
            }
            // Values the subgraphs read from this or enclosing scopes are appended as extra inputs.
            for name in implicit {
                let s = try resolve(name)
                inputSlotsOfNode.append(s)
                constantInputs.append(constants[s])
            }
            if let last = node.output.lastIndex(where: { !$0.isEmpty }), last >= compiled.outputTypes.count {
                throw InferenceError.invalidGraph(
                    "\(label) declares \(node.output.count) outputs, the operator produces \(compiled.outputTypes.count)"
                )
            }
            // A Cast to the type its input already has returns its input: its output names the same slot, and no
            // step runs (saves the per-step cost; sklearn classifiers end with two int64-to-int64 Casts).
            if domain == onnxDomain, node.opType == "Cast", node.input.count == 1, node.output.count == 1,
                !node.output[0].isEmpty, inputSlotsOfNode.count == 1, inputSlotsOfNode[0] >= 0,
                attributes.keys.allSatisfy({ $0 == "to" }),
                compiled.outputTypes.first == slotTypes[inputSlotsOfNode[0]]
            {
                let slot = inputSlotsOfNode[0]
                slotOf[node.output[0]] = slot
                scope.types[node.output[0]] = slotTypes[slot]
                scope.constants[node.output[0]] = constants[slot]
                continue
            }
            var outputSlotsOfNode: [Int] = []
            for (i, name) in node.output.enumerated() {
                if name.isEmpty || i >= compiled.outputTypes.count {
                    outputSlotsOfNode.append(-1)
                } else {
                    outputSlotsOfNode.append(newSlot(name, compiled.outputTypes[i]))
                    initialSlots.append(nil)
                }
            }
            // Fold nodes whose inputs are all constant and small.
            let constantArgs = inputSlotsOfNode.map { $0 >= 0 ? constants[$0] : nil }
            let allConstant = zip(inputSlotsOfNode, constantArgs).allSatisfy { $0 < 0 || $1 != nil }
            let foldSize = constantArgs.reduce(0) { $0 + ($1?.count ?? 0) }
            if allConstant, implicit.isEmpty, foldSize <= Self.foldingLimit,
                !node.input.isEmpty || node.opType == "Constant"
            {
                var results: [Value] = []
                do {
                    results = try Tensor.$elementLimit.withValue(Self.foldingLimit) {
                        try compiled.kernel.run(
                            KernelInputs(constantArgs.map { $0.map(Value.tensor) }),
                            ExecutionContext(threads: 1)
                        )
                    }
                } catch let error as InferenceError where error.code == .resourceLimit {
                    results = []  // Too large to evaluate at load time: computed when the model runs.
                } catch let error as InferenceError {
                    throw InferenceError(error.code, "\(label): \(error.message)")
                }
                if !results.isEmpty, results.allSatisfy({ $0.tensor != nil }) {
                    for (i, (slot, value)) in zip(outputSlotsOfNode, results).enumerated() where slot >= 0 {
                        initialSlots[slot] = value
                        if let t = value.tensor { setConstant(slot, node.output[i], t) }
                    }
                    continue
                }
            }
            steps.append(
                CompiledGraph.Step(
                    kernel: compiled.kernel,
                    inputs: inputSlotsOfNode,
                    outputs: outputSlotsOfNode,
                    releases: [],
                    label: label
                )
            )
        }

        // Outputs.
        var outputInfos: [ValueInfo] = []
        var outputSlots: [Int] = []
        for vi in proto.output {
            guard let slot = slotOf[vi.name] ?? (try? resolveOuter(vi.name)) else {
                throw InferenceError.invalidGraph("\(graphName) output '\(vi.name)' is not produced by any node")
            }
            var info = try Self.valueInfo(vi, what: "output '\(vi.name)'", required: false)
            let inferred = slotTypes[slot]
            if vi.type.value != nil, info.type != inferred {
                throw InferenceError.invalidGraph(
                    "output '\(vi.name)' is declared as \(info.type) but the graph computes \(inferred)"
                )
            }
            info.type = inferred
            outputInfos.append(info)
            outputSlots.append(slot)
        }
        func resolveOuter(_ name: String) throws -> Int {
            guard let type = scope.parent?.lookup(name) else { throw InferenceError.invalidGraph(name) }
            let s = newSlot(name, type)
            initialSlots.append(nil)
            outerNames.append(name)
            outerSlots.append(s)
            return s
        }

        // Lifetimes: release every slot after its last reader, except outputs.
        var lastUse = [Int](repeating: -1, count: slotTypes.count)
        for (i, step) in steps.enumerated() {
            for s in step.inputs where s >= 0 { lastUse[s] = i }
        }
        let kept = Set(outputSlots)
        for (slot, i) in lastUse.enumerated() where i >= 0 && !kept.contains(slot) {
            steps[i].releases.append(slot)
        }

        let graph = CompiledGraph(
            slotCount: slotTypes.count,
            initialSlots: initialSlots,
            inputSlots: formalSlots,
            outerSlots: outerSlots,
            outputSlots: outputSlots,
            steps: steps
        )
        return Result(
            graph: graph,
            inputs: inputInfos,
            outputs: outputInfos,
            inputSlots: inputSlots,
            defaultedInputs: defaulted,
            outerNames: outerNames
        )
    }

    /// `OpType 'name'` (or `OpType node` when unnamed) for messages.
    static func label(_ node: Onnx_NodeProto) -> String {
        node.name.isEmpty ? "\(node.opType) node" : "\(node.opType) node '\(node.name)'"
    }

    /// Names a graph reads that it does not define itself (values from enclosing scopes).
    static func freeNames(of graph: Onnx_GraphProto) -> [String] {
        var defined = Set(graph.input.map(\.name))
        defined.formUnion(graph.initializer.map(\.name))
        for node in graph.node { defined.formUnion(node.output) }
        var free: [String] = []
        for node in graph.node {
            for name in node.input where !name.isEmpty && !defined.contains(name) { free.append(name) }
            for attribute in node.attribute {
                for g in (attribute.hasG ? [attribute.g] : []) + attribute.graphs {
                    free.append(contentsOf: Self.freeNames(of: g).filter { !defined.contains($0) })
                }
            }
        }
        for output in graph.output where !defined.contains(output.name) { free.append(output.name) }
        return free
    }

    /// Converts a declared input or output.
    static func valueInfo(_ vi: Onnx_ValueInfoProto, what: String, required: Bool) throws -> ValueInfo {
        switch vi.type.value {
        case .tensorType(let t)?:
            guard let element = ElementType(onnxDataType: Int(t.elemType)) else {
                throw InferenceError(
                    .unsupportedModel,
                    "\(what) has element type \(ElementType.onnxName(Int(t.elemType))); supported: "
                        + "float, double, int64, int32, bool, string"
                )
            }
            let shape: [ValueInfo.Dimension]? =
                t.hasShape
                ? t.shape.dim.map { d in
                    switch d.value {
                    case .dimValue(let v)?: v >= 0 ? .fixed(Int(clamping: v)) : .unknown
                    case .dimParam(let p)?: p.isEmpty ? .unknown : .symbolic(p)
                    case nil: .unknown
                    }
                } : nil
            return ValueInfo(name: vi.name, type: .tensor(element), shape: shape)
        case .sequenceType(let s)?:
            if case .mapType(let m)? = s.elemType.value,
                let key = ElementType(onnxDataType: Int(m.keyType)), key == .string || key == .int64
            {
                return ValueInfo(name: vi.name, type: .mapSequence(keys: key), shape: nil)
            }
            throw InferenceError.unsupportedModel(
                "\(what) is a sequence; only ZipMap's sequences of maps are supported"
            )
        case nil:
            if required {
                throw InferenceError.invalidModel("\(what) has no type")
            }
            return ValueInfo(name: vi.name, type: .tensor(.float), shape: nil)
        default:
            throw InferenceError.unsupportedModel(
                "\(what) is not a tensor; only tensor inputs and outputs are supported"
            )
        }
    }
}
