import SlipwayInference

/// Linear models: LogisticRegression, Perceptron, LinearDiscriminantAnalysis, Ridge and Lasso.
extension TeachableSklearn {
    /// `coef_` (one row for two classes, one per class otherwise) and `intercept_`, checked against the classes.
    static func linearCoefficients(_ f: SklearnFields, classes: Int) throws -> (Matrix, [Double]) {
        let coef = try f.matrix("coef_")
        let rows = classes == 2 ? 1 : classes
        guard coef.rows == rows else {
            throw FormatError(
                "field 'coef_' has \(coef.rows) rows, expected \(rows) "
                    + (classes == 2 ? "(one row for 2 classes)" : "(one per class for \(classes) classes)")
            )
        }
        try Self.checkFeatures(coef.columns, field: "coef_")
        let intercept = try f.numberOrVector("intercept_")
        guard intercept.count == rows else {
            throw FormatError(
                "field 'intercept_' has \(intercept.count) values, expected \(rows) (one per row of "
                    + "'coef_')"
            )
        }
        return (coef, intercept)
    }

    /// The decision function `x · coefᵀ + intercept`, as `[-d, d]` for two classes so that its argmax is `d > 0`.
    static func linearScores(
        _ f: SklearnFields,
        classes: ClassLabels,
        _ g: inout GraphBuilder
    ) throws -> (
        String, Int
    ) {
        let (coef, intercept) = try Self.linearCoefficients(f, classes: classes.count)
        let decision = try g.affine(Self.input(&g), weights: coef.transposed(), bias: intercept)
        let scores = classes.count == 2 ? g.binaryScores(decision) : decision
        try g.label(g.argmax(scores), classes: classes)
        return (scores, coef.columns)
    }

    static func logisticRegression(_ f: SklearnFields, _ g: inout GraphBuilder) throws -> Int {
        let classes = try f.classes(maximum: 10_000)
        let params = try f.object("params")
        let multiClass = try params.string("multi_class")
        let solver = try params.string("solver")
        guard ["auto", "ovr", "multinomial", "warn"].contains(multiClass) else {
            throw FormatError("field 'params.multi_class' is '\(multiClass)', expected auto, ovr or multinomial")
        }
        // scikit-learn's predict_proba: one-vs-rest logistic scores unless the model was fitted multinomially.
        let ovr =
            multiClass == "ovr" || multiClass == "warn"
            || (multiClass == "auto" && (classes.count <= 2 || solver == "liblinear"))
        let (scores, features) = try Self.linearScores(f, classes: classes, &g)
        let probabilities: String
        if !ovr {
            probabilities = g.node("Softmax", [scores], [GraphBuilder.int("axis", 1)])
        } else if classes.count == 2 {
            probabilities = g.node("Sigmoid", [scores])
        } else {
            let e = g.node("Sigmoid", [scores])
            probabilities = g.node("Div", [e, try g.reduceSum(e, axis: 1)])
        }
        g.probabilities(probabilities, classes: classes.count)
        return features
    }

    /// Perceptron has no `predict_proba`: the model outputs `label` only.
    static func perceptron(_ f: SklearnFields, _ g: inout GraphBuilder) throws -> Int {
        let classes = try f.classes(maximum: 10_000)
        return try Self.linearScores(f, classes: classes, &g).1
    }

    /// scikit-learn's LDA `predict_proba`: the logistic of the decision for two classes, its softmax otherwise.
    static func linearDiscriminant(_ f: SklearnFields, _ g: inout GraphBuilder) throws -> Int {
        let classes = try f.classes(maximum: 10_000)
        let (scores, features) = try Self.linearScores(f, classes: classes, &g)
        let probabilities =
            classes.count == 2
            ? g.node("Sigmoid", [scores]) : g.node("Softmax", [scores], [GraphBuilder.int("axis", 1)])
        g.probabilities(probabilities, classes: classes.count)
        return features
    }

    /// Ridge and Lasso: `variable = x · coefᵀ + intercept`, `[N, targets]`.
    static func linearRegression(_ f: SklearnFields, _ g: inout GraphBuilder) throws -> Int {
        let coef: Matrix
        if case .array(let items) = try f.value("coef_"), case .array = items.first {
            coef = try f.matrix("coef_")
        } else {
            let values = try f.vector("coef_")
            coef = Matrix(rows: 1, columns: values.count, values: values)
        }
        try Self.checkFeatures(coef.columns, field: "coef_")
        let intercept = try f.numberOrVector("intercept_")
        guard intercept.count == coef.rows else {
            throw FormatError(
                "field 'intercept_' has \(intercept.count) values, expected \(coef.rows) (one per "
                    + "target of 'coef_')"
            )
        }
        let y = try g.affine(Self.input(&g), weights: coef.transposed(), bias: intercept)
        g.toFloat(y, output: Self.variableOutput)
        g.output(Self.variableOutput, .float, [nil, coef.rows])
        return coef.columns
    }
}
