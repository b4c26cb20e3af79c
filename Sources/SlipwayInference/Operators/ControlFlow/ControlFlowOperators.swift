/// The operators of this family, registered in ``OperatorRegistry/standard``.
package enum ControlFlowOperators {
    package static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Scan", opsets: 9...28, compile: ScanKernel.compile),
        OperatorDefinition(onnxDomain, "Loop", opsets: 11...28, compile: LoopKernel.compile),
    ]
}
