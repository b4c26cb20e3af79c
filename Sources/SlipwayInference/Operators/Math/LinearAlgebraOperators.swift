/// The operators of this family, registered in OperatorRegistry/standard.
package enum LinearAlgebraOperators {
    package static let all: [OperatorDefinition] = []
}
