import SlipwayInference

/// Translates the `model.json` that TeachableHub's SDK uploads for scikit-learn models into ONNX.
///
/// The file is written by th-sklearn-json (`th_sklearn_json.to_json(model, path)`), a pickle-free JSON serializer:
/// a `meta` discriminator, the fitted attributes (`coef_`, `classes_`, …) and `params` (`get_params()`). The
/// translation computes in float64 and writes the same outputs as skl2onnx with `zipmap=False`: classifiers give
/// `label` (sklearn's `classes_`, int64 or string, `[N]`) and, when the estimator has `predict_proba`,
/// `probabilities` (float `[N, classes]`); regressors give `variable` (float `[N, targets]`).
///
/// ```swift
/// let translated = try TeachableSklearn.translate(modelJSON)
/// let session = InferenceSession(model: try ModelLoader.load(bytes: translated.onnx))
/// let x = try Tensor(shape: [1, translated.featureCount], floats: [5.1, 3.5, 1.4, 0.2])
/// let label = try session.run([translated.inputName: x])["label"]
/// ```
public enum TeachableSklearn {
    /// The estimators that translate, by their scikit-learn class names.
    public static let supportedEstimators = [
        "LogisticRegression", "Perceptron", "LinearDiscriminantAnalysis", "QuadraticDiscriminantAnalysis", "SVC",
        "Ridge", "Lasso",
    ]

    /// The largest `model.json` accepted (64 MiB).
    public static let maximumSize = 64 << 20

    static let inputName = "input"
    static let labelOutput = "label"
    static let probabilitiesOutput = "probabilities"
    static let variableOutput = "variable"

    /// th-sklearn-json's `meta` values and the estimators they stand for.
    static let estimatorNames: [String: String] = [
        "lr": "LogisticRegression", "perceptron": "Perceptron", "lda": "LinearDiscriminantAnalysis",
        "qda": "QuadraticDiscriminantAnalysis", "svm": "SVC", "ridge-regression": "Ridge",
        "lasso-regression": "Lasso", "bernoulli-nb": "BernoulliNB", "gaussian-nb": "GaussianNB",
        "multinomial-nb": "MultinomialNB", "complement-nb": "ComplementNB", "decision-tree": "DecisionTreeClassifier",
        "gb": "GradientBoostingClassifier", "rf": "RandomForestClassifier", "mlp": "MLPClassifier",
        "linear-regression": "LinearRegression", "svr": "SVR", "decision-tree-regression": "DecisionTreeRegressor",
        "gb-regression": "GradientBoostingRegressor", "rf-regression": "RandomForestRegressor",
        "mlp-regression": "MLPRegressor",
    ]

    /// Translates th-sklearn-json's model.json into an ONNX model the engine runs.
    ///
    /// - Throws: `FormatError` naming the field and what was expected when the file is not valid JSON, lacks a
    ///   field, has one of the wrong type or shape, or holds an estimator other than `supportedEstimators`.
    public static func translate(_ modelJSON: [UInt8]) throws -> TranslatedModel {
        guard modelJSON.count <= Self.maximumSize else {
            throw FormatError("model.json is \(modelJSON.count) bytes, more than the \(Self.maximumSize) accepted")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(modelJSON, maximumDepth: 16)
        } catch {
            throw FormatError("model.json is not valid JSON: \(error)")
        }
        let fields = try SklearnFields(document)
        let meta = try fields.string("meta")
        guard let estimator = Self.estimatorNames[meta], Self.supportedEstimators.contains(estimator) else {
            let name = Self.estimatorNames[meta] ?? meta
            throw FormatError(
                "unsupported estimator '\(name)'; supported: "
                    + Self.supportedEstimators.joined(separator: ", ")
            )
        }
        var graph = GraphBuilder(name: estimator)
        let featureCount: Int
        let isClassifier: Bool
        switch meta {
        case "lr":
            featureCount = try Self.logisticRegression(fields, &graph)
            isClassifier = true
        case "perceptron":
            featureCount = try Self.perceptron(fields, &graph)
            isClassifier = true
        case "lda":
            featureCount = try Self.linearDiscriminant(fields, &graph)
            isClassifier = true
        case "qda":
            featureCount = try Self.quadraticDiscriminant(fields, &graph)
            isClassifier = true
        case "svm":
            featureCount = try Self.supportVectorClassifier(fields, &graph)
            isClassifier = true
        default:
            featureCount = try Self.linearRegression(fields, &graph)
            isClassifier = false
        }
        graph.graph.input.insert(
            GraphBuilder.valueInfo(Self.inputName, .float, [nil, featureCount]),
            at: 0
        )
        let onnx = try GraphBuilder.serialize(
            graph.graph,
            docString: "scikit-learn \(estimator) translated from th-sklearn-json's model.json"
        )
        return TranslatedModel(
            onnx: onnx,
            estimator: estimator,
            inputName: Self.inputName,
            featureCount: featureCount,
            isClassifier: isClassifier
        )
    }

    /// Checks a feature count read from a field.
    static func checkFeatures(_ count: Int, field: String) throws {
        guard count >= 1, count <= SklearnFields.maximumFeatures else {
            throw FormatError(
                "field '\(field)' gives \(count) features, expected 1 to \(SklearnFields.maximumFeatures)"
            )
        }
    }

    /// The model's input converted to float64.
    static func input(_ graph: inout GraphBuilder) -> String {
        graph.toDouble(Self.inputName)
    }
}
