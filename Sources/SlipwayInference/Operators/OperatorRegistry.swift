/// The operators the engine implements, looked up by domain and name.
package struct OperatorRegistry: Sendable {
    private var definitions: [Key: [OperatorDefinition]]

    private struct Key: Hashable {
        var domain: String
        var name: String
    }

    /// Creates a registry from operator definitions.
    package init(_ definitions: [OperatorDefinition]) {
        var table: [Key: [OperatorDefinition]] = [:]
        for d in definitions { table[Key(domain: d.domain, name: d.name), default: []].append(d) }
        self.definitions = table
    }

    /// Every operator of the engine.
    package static let standard = OperatorRegistry(
        ElementwiseOperators.all + ReductionOperators.all + TensorOperators.all + LinearAlgebraOperators.all
            + ControlFlowOperators.all + MLOperators.all
    )

    /// The newest opset of each domain the engine knows (the newest the `onnx` 1.23 package defines).
    package static let newestOpsets: [String: Int] = [onnxDomain: 28, onnxMLDomain: 5]
    /// The oldest opset of each domain a model may import; each operator then states the opsets it covers
    /// (most start at ai.onnx 7).
    package static let oldestOpsets: [String: Int] = [onnxDomain: 1, onnxMLDomain: 1]

    /// The definition of `name` in `domain` covering `opset`.
    package func definition(domain: String, name: String, opset: Int) -> OperatorDefinition? {
        self.definitions[Key(domain: domain, name: name)]?.first { $0.opsets.contains(opset) }
    }

    /// All definitions of `name` in `domain` (any opset), for error messages.
    package func definitions(domain: String, name: String) -> [OperatorDefinition] {
        self.definitions[Key(domain: domain, name: name)] ?? []
    }

    /// Every definition, sorted by domain then name.
    package var all: [OperatorDefinition] {
        self.definitions.values.flatMap { $0 }.sorted {
            ($0.domain, $0.name, $0.opsets.lowerBound) < ($1.domain, $1.name, $1.opsets.lowerBound)
        }
    }
}
