import Foundation

/// Load-time rewrites of a graph's node list that merge chains of nodes into internal operators, so that a model
/// runs fewer, larger steps.
///
/// The one rewrite today is the dense layer: `MatMul(X, W)` with a constant 2-D float `W`, followed by `Add` of a
/// constant float bias `[N]` or `[1, N]`, optionally followed by `Relu`, `Sigmoid`, `Tanh` or `LeakyRelu`, becomes
/// one `FusedMatMul` node of the internal domain. Each intermediate value must be read by exactly one node (and by
/// no subgraph) and must not be a graph output, so that no one can observe that it is never materialized.
enum GraphFusion {
    /// The domain of the engine's internal operators; a model file cannot use it.
    static let internalDomain = "com.slipway.internal"
    /// The internal dense-layer operator: inputs `X, W1, B1, W2, B2, ...` (one or more layers, each feeding the
    /// next), attributes `activations` (strings) and `alphas` (floats), one per layer.
    static let fusedMatMul = "FusedMatMul"

    /// The node list after fusion, with the label each node's messages use (the first original node's label for
    /// a fused node, so that errors name a node of the model).
    struct Result {
        var nodes: [Onnx_NodeProto]
        var labels: [String]
    }

    /// The activations a dense layer can absorb.
    static let activations: Set<String> = ["Relu", "Sigmoid", "Tanh", "LeakyRelu"]

    /// Fuses the dense layers of `nodes`. `constants` are the initializers that graph inputs do not override;
    /// `onnxOpset` is the model's ai.onnx opset (fusion only applies where the operators it replaces exist).
    static func fuse(
        _ nodes: [Onnx_NodeProto],
        constants: [String: Tensor],
        graphOutputs: Set<String>,
        onnxOpset: Int?,
        mlOpset: Int? = nil
    ) -> Result {
        let labels = nodes.map(GraphCompiler.label)
        guard let opset = onnxOpset, (7...28).contains(opset) else { return Result(nodes: nodes, labels: labels) }

        // How many times each value is read (node inputs and subgraph references), and by which node.
        var reads: [String: Int] = [:]
        var reader: [String: Int] = [:]
        var producer: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for name in node.output where !name.isEmpty { producer[name] = i }
            for name in node.input where !name.isEmpty {
                reads[name, default: 0] += 1
                reader[name] = i
            }
            for attribute in node.attribute {
                for g in (attribute.hasG ? [attribute.g] : []) + attribute.graphs {
                    for name in GraphCompiler.freeNames(of: g) { reads[name, default: 0] += 2 }
                }
            }
        }
        /// The single node reading `name`, when exactly one node reads it once and it is not a graph output.
        func soleReader(of name: String) -> Int? {
            guard reads[name] == 1, !graphOutputs.contains(name), let r = reader[name] else { return nil }
            return r
        }
        func isONNX(_ node: Onnx_NodeProto) -> Bool { node.domain.isEmpty || node.domain == onnxDomain }

        var removed = Set<Int>()
        var replacement: [Int: (node: Onnx_NodeProto, label: String)] = [:]
        for (i, matmul) in nodes.enumerated() where matmul.opType == "MatMul" && isONNX(matmul) {
            guard matmul.input.count == 2, matmul.output.count == 1, matmul.attribute.isEmpty,
                !matmul.input[0].isEmpty, let w = constants[matmul.input[1]], w.elementType == .float, w.rank == 2,
                w.count > 0, !removed.contains(i), replacement[i] == nil,
                let a = soleReader(of: matmul.output[0])
            else { continue }
            let add = nodes[a]
            guard add.opType == "Add", isONNX(add), add.input.count == 2, add.output.count == 1,
                add.attribute.isEmpty, !add.output[0].isEmpty
            else { continue }
            let biasName = add.input[0] == matmul.output[0] ? add.input[1] : add.input[0]
            guard let bias = constants[biasName], bias.elementType == .float,
                bias.shape == [w.shape[1]] || bias.shape == [1, w.shape[1]]
            else { continue }
            var output = add.output[0]
            var activation = "None"
            var alpha: Float = 0.01
            var activationIndex: Int?
            if let r = soleReader(of: output), Self.activations.contains(nodes[r].opType), isONNX(nodes[r]) {
                let act = nodes[r]
                var usable = act.input.count == 1 && act.output.count == 1 && !act.output[0].isEmpty
                for attribute in act.attribute {
                    if act.opType == "LeakyRelu", attribute.name == "alpha", attribute.type == .float {
                        alpha = attribute.f
                    } else {
                        usable = false
                    }
                }
                if usable {
                    activation = act.opType
                    output = act.output[0]
                    activationIndex = r
                }
            }
            var fused = Onnx_NodeProto()
            fused.name = matmul.name
            fused.opType = Self.fusedMatMul
            fused.domain = Self.internalDomain
            fused.input = [matmul.input[0], matmul.input[1], biasName]
            fused.output = [output]
            var scalerIndices: [Int] = []
            // A Cast to float between the Scaler and the MatMul changes nothing (a Scaler's output is float).
            var scaled = matmul.input[0]
            var castIndex: Int?
            if let c = producer[scaled], Self.isCastToFloat(nodes[c]), soleReader(of: scaled) == i {
                castIndex = c
                scaled = nodes[c].input[0]
            }
            if let s = producer[scaled], let mlOpset, let attributes = Self.scalerAttributes(nodes[s], mlOpset),
                soleReader(of: scaled) == (castIndex ?? i), !removed.contains(s), replacement[s] == nil
            {
                // The Scaler feeding the layer scales each tile of rows just before it is multiplied.
                fused.input[0] = nodes[s].input[0]
                fused.attribute.append(contentsOf: attributes)
                scalerIndices = [s] + (castIndex.map { [$0] } ?? [])
            }
            var activationAttribute = Onnx_AttributeProto()
            activationAttribute.name = "activations"
            activationAttribute.type = .strings
            activationAttribute.strings = [Data(activation.utf8)]
            var alphaAttribute = Onnx_AttributeProto()
            alphaAttribute.name = "alphas"
            alphaAttribute.type = .floats
            alphaAttribute.floats = [alpha]
            fused.attribute += [activationAttribute, alphaAttribute]
            // The fused node takes the Add's (or activation's) place, where all its inputs are defined.
            let position = activationIndex ?? a
            replacement[position] = (fused, labels[i])
            removed.insert(i)
            removed.insert(a)
            if let activationIndex, activationIndex != position { removed.insert(activationIndex) }
            removed.formUnion(scalerIndices)
        }
        if replacement.isEmpty { return Result(nodes: nodes, labels: labels) }
        // A removed node is never a replacement's position (a Scaler is never an Add or an activation).
        var result = Result(nodes: [], labels: [])
        for (i, node) in nodes.enumerated() {
            if let r = replacement[i] {
                result.nodes.append(r.node)
                result.labels.append(r.label)
            } else if !removed.contains(i) {
                result.nodes.append(node)
                result.labels.append(labels[i])
            }
        }
        return Self.chainLayers(result, constants: constants, graphOutputs: graphOutputs)
    }

    /// Merges fused layers that feed each other (the first's output read only by the second) into one node, so
    /// that a tile of rows passes through every layer while it is in cache, in one parallel pass.
    static func chainLayers(_ input: Result, constants: [String: Tensor], graphOutputs: Set<String>) -> Result {
        var nodes = input.nodes
        var labels = input.labels
        func isFused(_ node: Onnx_NodeProto) -> Bool {
            node.domain == Self.internalDomain && node.opType == Self.fusedMatMul
        }
        while true {
            var reads: [String: Int] = [:]
            var reader: [String: Int] = [:]
            for (i, node) in nodes.enumerated() {
                for name in node.input where !name.isEmpty {
                    reads[name, default: 0] += 1
                    reader[name] = i
                }
                for attribute in node.attribute {
                    for g in (attribute.hasG ? [attribute.g] : []) + attribute.graphs {
                        for name in GraphCompiler.freeNames(of: g) { reads[name, default: 0] += 2 }
                    }
                }
            }
            var merged = false
            for (i, first) in nodes.enumerated() where isFused(first) {
                let name = first.output[0]
                guard reads[name] == 1, !graphOutputs.contains(name), let j = reader[name], j != i else { continue }
                let second = nodes[j]
                guard isFused(second), second.input[0] == name,
                    !second.attribute.contains(where: { $0.name.hasPrefix("scaler_") }),
                    let last = constants[first.input[first.input.count - 2]],
                    let next = constants[second.input[1]], last.shape[1] == next.shape[0]
                else { continue }
                var chained = first
                chained.input += second.input.dropFirst()
                chained.output = second.output
                for (index, attribute) in chained.attribute.enumerated() {
                    guard let other = second.attribute.first(where: { $0.name == attribute.name }) else { continue }
                    if attribute.name == "activations" { chained.attribute[index].strings += other.strings }
                    if attribute.name == "alphas" { chained.attribute[index].floats += other.floats }
                }
                // The chained node takes the second's place, where all its inputs are defined.
                nodes[j] = chained
                labels[j] = labels[i]
                nodes.remove(at: i)
                labels.remove(at: i)
                merged = true
                break
            }
            if !merged { return Result(nodes: nodes, labels: labels) }
        }
    }

    /// Whether `node` is an ai.onnx `Cast` to float with no other attribute.
    static func isCastToFloat(_ node: Onnx_NodeProto) -> Bool {
        node.opType == "Cast" && (node.domain.isEmpty || node.domain == onnxDomain) && node.input.count == 1
            && node.output.count == 1 && !node.input[0].isEmpty && node.attribute.count == 1
            && node.attribute[0].name == "to" && node.attribute[0].type == .int && node.attribute[0].i == 1
    }

    /// The attributes that carry a fusable `Scaler` node into a FusedMatMul (`scaler_offset`, `scaler_scale`,
    /// `scaler_opset`, `scaler_name`), or `nil` when the node is not a plain ai.onnx.ml Scaler.
    static func scalerAttributes(_ node: Onnx_NodeProto, _ mlOpset: Int) -> [Onnx_AttributeProto]? {
        guard node.opType == "Scaler", node.domain == onnxMLDomain, node.input.count == 1, node.output.count == 1,
            !node.input[0].isEmpty
        else { return nil }
        var result: [Onnx_AttributeProto] = []
        for attribute in node.attribute {
            guard attribute.name == "offset" || attribute.name == "scale", attribute.type == .floats else { return nil }
            var renamed = attribute
            renamed.name = "scaler_" + attribute.name
            result.append(renamed)
        }
        var opset = Onnx_AttributeProto()
        opset.name = "scaler_opset"
        opset.type = .int
        opset.i = Int64(mlOpset)
        var name = Onnx_AttributeProto()
        name.name = "scaler_name"
        name.type = .string
        name.s = Data(node.name.utf8)
        return result + [opset, name]
    }
}
