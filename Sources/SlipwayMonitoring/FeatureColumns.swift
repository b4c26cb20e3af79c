import SlipwayInference
import SlipwayRuntime

/// Reads the input features out of the tensors a model ran on, whichever surface sent them.
///
/// Names: one 2-D input `[N, F]` gives F features named by the schema's `ndarray` order when it has F names, else
/// `x0` … `x(F-1)`; several inputs (one per feature, `[N]` or `[N, 1]`) are named after the inputs; an input of
/// several columns among several inputs gives `name[0]`, `name[1]`, …. At most ``maximumFeatures`` features are
/// read.
enum FeatureColumns {
    /// Features beyond this many are not tracked (wide inputs such as images).
    static let maximumFeatures = 256

    /// One feature's values.
    enum Values {
        /// Numbers; NaN is a missing value.
        case numbers([Double])
        /// Categories (strings, and booleans as `true`/`false`).
        case categories([String])
    }

    /// `x0`, `x1`, …: the names of an unnamed matrix's columns, made once.
    static let positionalNames: [String] = (0..<maximumFeatures).map { "x\($0)" }

    /// The names of a 2-D input's `width` columns: the schema's order when it has `width` names, else `x0` …
    /// (at most ``maximumFeatures``).
    static func names(width: Int, order: [String]?) -> ArraySlice<String> {
        if let order, order.count == width { return order.prefix(self.maximumFeatures) }
        if width <= self.maximumFeatures { return self.positionalNames.prefix(width) }
        return self.positionalNames[...]
    }

    /// The features of `inputs`, in order.
    static func columns(_ inputs: [String: Tensor], order: [String]?) -> [(name: String, values: Values)] {
        if inputs.count == 1, let (name, tensor) = inputs.first {
            let width = tensor.shape.count >= 2 ? tensor.shape.dropFirst().reduce(1, *) : 1
            let names: [String]
            if let order, order.count == width {
                names = order
            } else if tensor.shape.count >= 2 {
                names = (0..<width).map { "x\($0)" }
            } else {
                names = [order?.first ?? name]
            }
            return self.split(tensor, names: names)
        }
        var result: [(name: String, values: Values)] = []
        let position = Dictionary((order ?? []).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let names = inputs.keys.sorted { (position[$0] ?? Int.max, $0) < (position[$1] ?? Int.max, $1) }
        for name in names {
            let tensor = inputs[name]!
            let width = tensor.shape.count >= 2 ? tensor.shape.dropFirst().reduce(1, *) : 1
            let columnNames = width == 1 ? [name] : (0..<width).map { "\(name)[\($0)]" }
            result += self.split(tensor, names: columnNames)
            if result.count >= self.maximumFeatures { break }
        }
        return Array(result.prefix(self.maximumFeatures))
    }

    /// Splits a row-major `[N, width]` tensor into its columns.
    static func split(_ tensor: Tensor, names: [String]) -> [(name: String, values: Values)] {
        let width = names.count
        guard width > 0, tensor.count % width == 0 else { return [] }
        let rows = tensor.count / width
        let kept = min(width, self.maximumFeatures)
        func numbers(_ read: (Int) -> Double) -> [(name: String, values: Values)] {
            (0..<kept).map { column in
                (names[column], .numbers((0..<rows).map { read($0 * width + column) }))
            }
        }
        func categories(_ read: (Int) -> String) -> [(name: String, values: Values)] {
            (0..<kept).map { column in
                (names[column], .categories((0..<rows).map { read($0 * width + column) }))
            }
        }
        switch tensor.storage {
        case .float(let values): return numbers { Double(values[$0]) }
        case .double(let values): return numbers { values[$0] }
        case .int64(let values): return numbers { Double(values[$0]) }
        case .int32(let values): return numbers { Double(values[$0]) }
        case .bool(let values): return categories { values[$0] ? "true" : "false" }
        case .string(let values): return categories { values[$0] }
        }
    }

    /// The positional order of a prepared model's features: the schema's, else the inputs' names when there is one
    /// input per schema feature.
    static func order(of prepared: PreparedModel) -> [String]? {
        if let order = prepared.schema?.order { return order }
        let inputs = prepared.session.model.inputs.map(\.name)
        if inputs.count > 1, let schema = prepared.schema, Set(inputs).isSubset(of: Set(schema.features.keys)) {
            return inputs
        }
        return nil
    }
}
