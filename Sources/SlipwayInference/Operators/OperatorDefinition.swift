/// One operator the engine implements: its domain, name, the opset versions it covers and how to compile a node.
package struct OperatorDefinition: Sendable {
    /// `ai.onnx` or `ai.onnx.ml`.
    package var domain: String
    /// The operator type.
    package var name: String
    /// The opset versions of `domain` under which this implementation is correct.
    package var opsets: ClosedRange<Int>
    /// Compiles a node into a kernel, validating attributes and inferring output types.
    package var compile: @Sendable (NodeContext) throws -> CompiledKernel

    package init(
        _ domain: String,
        _ name: String,
        opsets: ClosedRange<Int>,
        compile: @escaping @Sendable (NodeContext) throws -> CompiledKernel
    ) {
        self.domain = domain
        self.name = name
        self.opsets = opsets
        self.compile = compile
    }
}

/// The standard ONNX domain name used by the registry (the empty domain in a model means this one).
package let onnxDomain = "ai.onnx"
/// The ONNX-ML domain name.
package let onnxMLDomain = "ai.onnx.ml"
