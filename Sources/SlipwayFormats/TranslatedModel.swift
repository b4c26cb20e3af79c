/// An ONNX model translated from another format, with what the serving layer needs to know about it.
public struct TranslatedModel: Sendable {
    /// The serialized ONNX `ModelProto`.
    public var onnx: [UInt8]
    /// The original estimator's class name, for example `LogisticRegression`.
    public var estimator: String
    /// The model's single input: float32 of shape `[N, featureCount]`.
    public var inputName: String
    /// The number of features of one row.
    public var featureCount: Int
    /// Whether the model is a classifier (outputs `label`, and `probabilities` when the estimator has them) or a
    /// regressor (outputs `variable`).
    public var isClassifier: Bool

    /// Creates a translated model.
    public init(onnx: [UInt8], estimator: String, inputName: String, featureCount: Int, isClassifier: Bool) {
        self.onnx = onnx
        self.estimator = estimator
        self.inputName = inputName
        self.featureCount = featureCount
        self.isClassifier = isClassifier
    }
}
