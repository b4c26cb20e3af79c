import Foundation
import SlipwayRegistry

extension FeatureSchema {
    /// Parses a deployment's stored schema (`{"features": {name: rules}, "ndarray": [[names]]}`), already checked
    /// by `DeploymentInput.validate()` when it was deployed.
    ///
    /// - Throws: ``RuntimeError`` (`.loadFailed`) naming the field that does not parse.
    public static func parse(_ text: String) throws -> FeatureSchema {
        let tree: JSONTree
        do {
            tree = try JSONTree.parse(text, field: "schema", limit: DeploymentInput.maximumJSONFieldSize)
        } catch {
            throw RuntimeError(.loadFailed, "the deployment's schema is not valid JSON: \(error)")
        }
        guard let object = tree.object else {
            throw RuntimeError(.loadFailed, "the deployment's schema is not a JSON object")
        }
        var features: [String: Feature] = [:]
        for (name, rules) in object["features"]?.object ?? [:] {
            let rules = rules.object ?? [:]
            var type: FeatureType?
            if let typeName = rules["type"]?.string {
                guard let parsed = FeatureType(rawValue: typeName) else {
                    throw RuntimeError(.loadFailed, "schema.features.\(name).type '\(typeName)' is not a feature type")
                }
                type = parsed
            }
            let isRequired: Bool
            if case .bool(let flag) = rules["required"] { isRequired = flag } else { isRequired = true }
            let isPII: Bool
            if case .bool(let flag) = rules["pii"] { isPII = flag } else { isPII = false }
            features[name] = Feature(
                name: name,
                type: type,
                allowed: rules["allowed"]?.array,
                minimum: rules["min"]?.number,
                maximum: rules["max"]?.number,
                minimumLength: rules["minlength"]?.number.map { Int($0) },
                maximumLength: rules["maxlength"]?.number.map { Int($0) },
                help: rules["help"]?.string,
                isPII: isPII,
                isRequired: isRequired
            )
        }
        let order = object["ndarray"]?.array?.first?.array?.compactMap(\.string)
        return FeatureSchema(features: features, order: order)
    }
}

/// Class labels by output index, parsed from a deployment's `classes` (`["a", "b"]` or `{"0": "a", "1": "b"}`).
enum ClassLabels {
    /// The labels, or `nil` when there are none; indices missing from an object map are labelled by their number.
    static func parse(_ text: String?) -> [String]? {
        guard let text,
            let tree = try? JSONTree.parse(text, field: "classes", limit: DeploymentInput.maximumJSONFieldSize)
        else { return nil }
        if let labels = tree.array { return labels.map { $0.string ?? "" } }
        guard let map = tree.object else { return nil }
        let indexed = map.compactMap { key, value in Int(key).map { ($0, value.string ?? "") } }
        guard let last = indexed.map(\.0).max(), last < 1 << 20 else { return nil }
        var labels = (0...last).map(String.init)
        for (index, label) in indexed where index >= 0 { labels[index] = label }
        return labels
    }
}
