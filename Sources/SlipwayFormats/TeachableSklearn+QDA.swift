import Foundation
import SlipwayInference

/// QuadraticDiscriminantAnalysis, with the same arithmetic as scikit-learn's `_decision_function`.
extension TeachableSklearn {
    static func quadraticDiscriminant(_ f: SklearnFields, _ g: inout GraphBuilder) throws -> Int {
        let classes = try f.classes(maximum: 256)
        let k = classes.count
        let means = try f.matrix("means_")
        guard means.rows == k else {
            throw FormatError("field 'means_' has \(means.rows) rows, expected \(k) (one per class)")
        }
        let features = means.columns
        try Self.checkFeatures(features, field: "means_")
        let priors = try f.vector("priors_")
        guard priors.count == k else {
            throw FormatError("field 'priors_' has \(priors.count) values, expected \(k) (one per class)")
        }
        guard priors.allSatisfy({ $0 > 0 }) else {
            throw FormatError("field 'priors_' must hold positive values")
        }
        guard case .array(let scalingList) = try f.value("scalings_"), scalingList.count == k else {
            throw FormatError("field 'scalings_' must be an array of \(k) arrays (one per class)")
        }
        guard case .array(let rotationList) = try f.value("rotations_"), rotationList.count == k else {
            throw FormatError("field 'rotations_' must be an array of \(k) matrices (one per class)")
        }
        guard k * features * features <= SklearnFields.maximumElements else {
            throw FormatError(
                "fields 'rotations_' hold \(k) × \(features) × \(features) values, more than the "
                    + "\(SklearnFields.maximumElements) accepted"
            )
        }
        let x = Self.input(&g)
        var norms: [String] = []
        var logScalings: [Double] = []
        for c in 0..<k {
            let scalings = try SklearnFields.vector(scalingList[c], name: "'scalings_[\(c)]'")
            let rotation = try SklearnFields.matrix(rotationList[c], name: "'rotations_[\(c)]'")
            guard rotation.rows == features, rotation.columns == scalings.count, !scalings.isEmpty else {
                throw FormatError(
                    "field 'rotations_[\(c)]' is \(rotation.rows) × \(rotation.columns), expected "
                        + "\(features) × \(scalings.count) (features × the length of 'scalings_[\(c)]')"
                )
            }
            guard scalings.allSatisfy({ $0 > 0 }) else {
                throw FormatError("field 'scalings_[\(c)]' must hold positive values (collinear variables?)")
            }
            // R * S ** -0.5, column by column, as scikit-learn multiplies it.
            var weights = rotation
            for r in 0..<rotation.rows {
                for col in 0..<rotation.columns {
                    weights.values[r * rotation.columns + col] = rotation[r, col] * pow(scalings[col], -0.5)
                }
            }
            logScalings.append(scalings.reduce(0) { $0 + log($1) })
            let mean = try g.doubles("mean", [1, features], Array(means.values[(c * features)..<((c + 1) * features)]))
            let w = try g.doubles("scaled_rotation", [features, weights.columns], weights.values)
            let projected = g.node("MatMul", [g.node("Sub", [x, mean]), w])
            norms.append(try g.reduceSum(g.node("Mul", [projected, projected]), axis: 1))
        }
        let norm2 = g.node("Concat", norms, [GraphBuilder.int("axis", 1)])
        // -0.5 * (norm2 + u) + log(priors)
        let u = try g.doubles("log_scalings", [k], logScalings)
        let half = try g.scalar("minus_half", -0.5)
        let logPriors = try g.doubles("log_priors", [k], priors.map { log($0) })
        let values = g.node("Add", [g.node("Mul", [g.node("Add", [norm2, u]), half]), logPriors])
        try g.label(g.argmax(values), classes: classes)
        g.probabilities(g.node("Softmax", [values], [GraphBuilder.int("axis", 1)]), classes: k)
        return features
    }
}
