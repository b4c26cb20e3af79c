/// The operators of this family, registered in OperatorRegistry/standard.
package enum TensorOperators {
    package static let all: [OperatorDefinition] = []
}
