import Foundation
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime

/// Formats scored rows and row errors into a job's result and error files.
///
/// CSV results: `row` (the 0-based input row index), then for classifiers `class` and one `probability_<class>`
/// column per class (every class, in the deployment's order; `order`, `limit` and `threshold` do not apply), for
/// regressors `value` (or `value_0`, `value_1`, … for several outputs). JSONL results: `{"row": i, "predictions":
/// …}` with the same per-row shape as the prediction API (options applied). Errors: CSV `row,field,problem`.
struct BatchResultWriter {
    let format: BatchJob.Format
    let classes: [String]?
    let descending: Bool
    let limit: Int
    let threshold: Double
    private var wroteHeader = false

    init(job: BatchJob, classes: [String]?) {
        self.format = job.format
        self.classes = classes
        self.descending = job.descending
        self.limit = job.limit
        self.threshold = job.threshold
    }

    static let errorHeader = "row,field,problem\n"

    static func errorLine(row: Int, field: String, problem: String) -> String {
        "\(row),\(Self.csv(field)),\(Self.csv(problem))\n"
    }

    /// Result lines for `rows` (index and outputs), with the CSV header before the first.
    mutating func lines(_ rows: [(Int, OutputReader.Row)]) -> String {
        var text = ""
        for (index, row) in rows {
            switch self.format {
            case .csv:
                if !self.wroteHeader {
                    text += self.csvHeader(for: row)
                    self.wroteHeader = true
                }
                text += self.csvLine(index, row)
            case .jsonl:
                let line = JSONValue.object([("row", .int(Int64(index))), ("predictions", self.prediction(row))])
                text += line.serialized() + "\n"
            }
        }
        return text
    }

    func csvHeader(for row: OutputReader.Row) -> String {
        if let classes = self.classes {
            if let probabilities = row.probabilities, probabilities.count == classes.count {
                return "row,class," + classes.map { Self.csv("probability_\($0)") }.joined(separator: ",") + "\n"
            }
            return "row,class\n"
        }
        if row.values.count == 1 { return "row,value\n" }
        return "row," + row.values.indices.map { "value_\($0)" }.joined(separator: ",") + "\n"
    }

    func csvLine(_ index: Int, _ row: OutputReader.Row) -> String {
        if let classes = self.classes {
            if let probabilities = row.probabilities, probabilities.count == classes.count {
                let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
                return "\(index),\(Self.csv(classes[best])),"
                    + probabilities.map { String($0) }.joined(separator: ",") + "\n"
            }
            if case .index(let label)? = row.label, label >= 0, Int(label) < classes.count {
                return "\(index),\(Self.csv(classes[Int(label)]))\n"
            }
            if case .name(let label)? = row.label { return "\(index),\(Self.csv(label))\n" }
        }
        return "\(index)," + row.values.map(Self.text).joined(separator: ",") + "\n"
    }

    /// The prediction API's per-row shape.
    func prediction(_ row: OutputReader.Row) -> JSONValue {
        if let classes = self.classes, let probabilities = row.probabilities, probabilities.count == classes.count {
            var items = zip(classes, probabilities).filter { $0.1 >= self.threshold }
            items.sort { self.descending ? $0.1 > $1.1 : $0.1 < $1.1 }
            if self.limit >= 0 { items = Array(items.prefix(self.limit)) }
            return .array(items.map { .object([("className", .string($0.0)), ("probability", .double($0.1))]) })
        }
        if let classes = self.classes, case .index(let index)? = row.label, index >= 0, Int(index) < classes.count {
            return .array([.object([("className", .string(classes[Int(index)])), ("probability", .double(1))])])
        }
        return .array(
            row.values.map { value in
                switch value {
                case .number(let value): .double(value)
                case .integer(let value): .int(value)
                case .string(let value): .string(value)
                case .bool(let value): .bool(value)
                }
            }
        )
    }

    static func text(_ value: OutputReader.OutputValue) -> String {
        switch value {
        case .number(let value): String(value)
        case .integer(let value): String(value)
        case .string(let value): Self.csv(value)
        case .bool(let value): String(value)
        }
    }

    /// A CSV field, quoted when it holds a comma, quote or line break.
    static func csv(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
