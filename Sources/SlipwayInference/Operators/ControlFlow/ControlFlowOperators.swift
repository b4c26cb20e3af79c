/// The operators of this family, registered in OperatorRegistry/standard.
package enum ControlFlowOperators {
    package static let all: [OperatorDefinition] = []
}
