import Testing

@testable import SlipwayInference

/// Compiles one node of `op` with the given attributes and runs it on `inputs` (constant inputs are also
/// passed as load-time constants when `constants` is true).
func runOperator(
    _ op: String,
    domain: String = onnxDomain,
    opset: Int? = nil,
    attributes: [String: Attribute] = [:],
    inputs: [Tensor?],
    outputCount: Int = 1,
    constants: Bool = false,
    threads: Int = 1
) throws -> [Value] {
    let version = opset ?? OperatorRegistry.newestOpsets[domain]!
    guard let definition = OperatorRegistry.standard.definition(domain: domain, name: op, opset: version) else {
        throw InferenceError(.unsupportedOperator, "no \(op) in \(domain) opset \(version)")
    }
    let context = NodeContext(
        name: "test",
        opType: op,
        domain: domain,
        opset: version,
        attributes: attributes,
        inputTypes: inputs.map { $0.map { .tensor($0.elementType) } },
        constantInputs: constants ? inputs : inputs.map { _ in nil },
        outputCount: outputCount,
        compileSubgraph: { _, _ in throw InferenceError(.unsupportedModel, "no subgraphs in kernel tests") }
    )
    let compiled = try definition.compile(context)
    let outputs = try compiled.kernel.run(
        KernelInputs(inputs.map { $0.map(Value.tensor) }),
        ExecutionContext(threads: threads)
    )
    for (value, type) in zip(outputs, compiled.outputTypes) {
        #expect(value.type == type, "\(op) declared \(type) but produced \(value.type)")
    }
    return outputs
}

/// Asserts that `body` throws an ``InferenceError`` with `code` whose message contains every fragment.
func expectError(
    _ code: InferenceError.Code,
    _ fragments: [String],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(code) error", sourceLocation: sourceLocation)
    } catch let error as InferenceError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(
                error.message.contains(fragment),
                "'\(error.message)' lacks '\(fragment)'",
                sourceLocation: sourceLocation
            )
        }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
