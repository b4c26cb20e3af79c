import SlipwayInference

/// Reads a model's outputs row by row: class probabilities, labels and raw values, whatever the export's layout.
public enum OutputReader {
    /// What one row of outputs says.
    public struct Row: Sendable, Equatable {
        /// Class probabilities by class index, when the model gives them.
        public var probabilities: [Double]?
        /// The predicted label (a class index or name), when the model gives one.
        public var label: Label?
        /// The first output's values for this row (the label, the regression value(s), …).
        public var values: [OutputValue]

        /// Creates a row.
        public init(probabilities: [Double]?, label: Label?, values: [OutputValue]) {
            self.probabilities = probabilities
            self.label = label
            self.values = values
        }
    }

    /// A predicted label.
    public enum Label: Sendable, Equatable {
        case index(Int64)
        case name(String)
    }

    /// One raw output value.
    public enum OutputValue: Sendable, Equatable {
        case number(Double)
        case integer(Int64)
        case string(String)
        case bool(Bool)
    }

    /// Splits `outputs` into `rows` rows.
    ///
    /// Probabilities come from a float tensor `[N, C]` (skl2onnx with `zipmap=False`, onnxmltools) or a ZipMap map
    /// sequence; the label from an integer or string tensor `[N]`/`[N, 1]`.
    public static func rows(_ outputs: [(String, Value)], count rows: Int, classCount: Int?) -> [Row] {
        var probabilities: [[Double]]?
        var labels: [Label]?
        for (_, value) in outputs {
            switch value {
            case .mapSequence(let sequence):
                let scores = sequence.scores
                if probabilities == nil, scores.shape.count == 2, scores.shape[0] == rows,
                    let values = self.doubles(scores)
                {
                    let width = scores.shape[1]
                    probabilities = (0..<rows).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
                }
            case .tensor(let tensor):
                let shape = tensor.shape
                guard shape.first == rows || (rows == 1 && shape.isEmpty) else { continue }
                let width = shape.count >= 2 ? shape.dropFirst().reduce(1, *) : 1
                if probabilities == nil, width > 1 || classCount == 1,
                    classCount.map({ $0 == width }) ?? (width > 1),
                    let values = self.doubles(tensor)
                {
                    probabilities = (0..<rows).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
                } else if labels == nil, width == 1 {
                    if let values = tensor.int64s {
                        labels = values.map { .index($0) }
                    } else if let values = tensor.int32s {
                        labels = values.map { .index(Int64($0)) }
                    } else if let values = tensor.strings {
                        labels = values.map { .name($0) }
                    }
                }
            }
        }
        let first = outputs.first.map(\.1)
        return (0..<rows).map { row in
            Row(
                probabilities: probabilities?[row],
                label: labels?[row],
                values: first.map { self.values(of: $0, row: row, rows: rows) } ?? []
            )
        }
    }

    static func doubles(_ tensor: Tensor) -> [Double]? {
        if let values = tensor.floats { return values.map(Double.init) }
        return tensor.doubles
    }

    static func values(of value: Value, row: Int, rows: Int) -> [OutputValue] {
        guard case .tensor(let tensor) = value, tensor.shape.first == rows, rows > 0 else {
            if case .mapSequence(let sequence) = value, sequence.scores.shape.count == 2,
                row < sequence.scores.shape[0], let values = self.doubles(sequence.scores)
            {
                let width = sequence.scores.shape[1]
                return values[(row * width)..<((row + 1) * width)].map { .number($0) }
            }
            return []
        }
        let width = (tensor.shape.isEmpty ? 1 : tensor.shape.reduce(1, *)) / rows
        let range = (row * width)..<((row + 1) * width)
        if let values = tensor.floats { return values[range].map { .number(Double($0)) } }
        if let values = tensor.doubles { return values[range].map { .number($0) } }
        if let values = tensor.int64s { return values[range].map { .integer($0) } }
        if let values = tensor.int32s { return values[range].map { .integer(Int64($0)) } }
        if let values = tensor.strings { return values[range].map { .string($0) } }
        if let values = tensor.bools { return values[range].map { .bool($0) } }
        return []
    }
}
