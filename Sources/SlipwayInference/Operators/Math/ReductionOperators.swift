/// The operators of this family, registered in OperatorRegistry/standard.
package enum ReductionOperators {
    package static let all: [OperatorDefinition] =
        ReductionOperators.reduce + ReductionOperators.argExtremes + ReductionOperators.softmax
        + ReductionOperators.topK
}
