/// The operators of this family, registered in OperatorRegistry/standard.
package enum ElementwiseOperators {
    package static let all: [OperatorDefinition] =
        ElementwiseOperators.binary + ElementwiseOperators.logic + ElementwiseOperators.unary
        + ElementwiseOperators.cast
}
