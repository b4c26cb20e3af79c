import SlipwayRegistry

extension FeatureSchema {
    /// Parses a deployment's schema JSON text (already checked by `DeploymentInput.validate` at deploy time).
    ///
    /// - Returns: `nil` when there is no schema or it names no features and no order.
    public static func parse(_ text: String?) -> FeatureSchema? {
        guard let text, let tree = try? JSONTree.parse(text, field: "schema", limit: .max), let object = tree.object
        else { return nil }
        var features: [String: Feature] = [:]
        for (name, rules) in object["features"]?.object ?? [:] {
            let rules = rules.object ?? [:]
            var required = true
            if case .bool(let value)? = rules["required"] { required = value }
            var pii = false
            if case .bool(let value)? = rules["pii"] { pii = value }
            features[name] = Feature(
                name: name,
                type: rules["type"]?.string.flatMap(FeatureType.init(rawValue:)),
                allowed: rules["allowed"]?.array,
                minimum: rules["min"]?.number,
                maximum: rules["max"]?.number,
                minimumLength: rules["minlength"]?.number.map { Int($0) },
                maximumLength: rules["maxlength"]?.number.map { Int($0) },
                help: rules["help"]?.string,
                isPII: pii,
                isRequired: required
            )
        }
        let order = object["ndarray"]?.array?.first?.array?.compactMap(\.string)
        if features.isEmpty && order == nil { return nil }
        return FeatureSchema(features: features, order: order)
    }
}

extension PreparedModel {
    /// Class labels by output index from a deployment's classes JSON (`{"0": "setosa"}` or `["setosa", …]`).
    public static func parseClasses(_ text: String?) -> [String]? {
        guard let text, let tree = try? JSONTree.parse(text, field: "classes", limit: .max) else { return nil }
        if let labels = tree.array { return labels.compactMap(\.string) }
        guard let map = tree.object, !map.isEmpty else { return nil }
        let indices = map.keys.compactMap(Int.init)
        guard let last = indices.max() else { return nil }
        return (0...last).map { map[String($0)]?.string ?? String($0) }
    }
}
