/// The operators of this family, registered in OperatorRegistry/standard.
package enum MLOperators {
    package static let all: [OperatorDefinition] =
        TreeEnsembleOperators.all + LinearOperators.all + SVMOperators.all + PreprocessingOperators.all
        + EncoderOperators.all + LabelEncoderOperators.all
}
