import Foundation
import SlipwayRegistry
import SlipwayRuntime

/// Turns prediction records into what the feedback layer stores: compact outcomes and (sampled) log entries with
/// PII redacted. Runs on the background flush, never on the request's path.
public enum RecordConversion {
    /// What replaces a PII feature's value.
    public static let redacted = JSONTree.string("[redacted]")

    /// The outcome record of a request, `nil` when it never got as far as a model.
    public static func outcome(of record: PredictionRecord) -> PredictionOutcome? {
        guard let prepared = record.prepared else { return nil }
        return PredictionOutcome(
            requestID: record.requestID,
            modelID: prepared.model.id,
            environment: prepared.environment,
            version: prepared.deployment.version,
            at: record.receivedAt,
            status: record.status,
            latency: record.latency,
            classes: prepared.classes,
            predictions: record.succeeded ? record.outputs.map { self.predictions($0, classes: prepared.classes) } : nil
        )
    }

    /// What each output row predicted: the label (class name when the deployment has classes), probabilities, or
    /// the first numeric value for models without classes.
    public static func predictions(_ rows: [OutputReader.Row], classes: [String]?) -> [OutcomePrediction] {
        rows.map { row in
            var prediction = OutcomePrediction(probabilities: row.probabilities)
            switch row.label {
            case .name(let name):
                prediction.label = name
            case .index(let index):
                if let classes, index >= 0, Int(index) < classes.count {
                    prediction.label = classes[Int(index)]
                } else {
                    prediction.label = String(index)
                }
            case nil:
                if let probabilities = row.probabilities, let classes, probabilities.count == classes.count,
                    let best = probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] })
                {
                    prediction.label = classes[best]
                }
            }
            // A regressor: no label, no probabilities, a number.
            if prediction.label == nil, row.probabilities == nil {
                switch row.values.first {
                case .number(let value): prediction.value = value
                case .integer(let value): prediction.value = Double(value)
                default: break
                }
            }
            return prediction
        }
    }

    /// The rows as sent with every feature marked `pii: true` replaced by `"[redacted]"`. Positional rows are
    /// redacted by the schema's `ndarray` order; without an order, a schema with any PII feature redacts every
    /// positional value (which column holds what cannot be told).
    public static func redact(_ rows: PredictionRows, schema: FeatureSchema?) -> JSONTree {
        let pii = Set(schema.map { $0.features.values.filter(\.isPII).map(\.name) } ?? [])
        switch rows {
        case .features(let objects):
            return .array(
                objects.map { object in
                    var copy = object
                    for name in pii where copy[name] != nil { copy[name] = self.redacted }
                    return .object(copy)
                }
            )
        case .ndarray(let arrays):
            if pii.isEmpty { return .array(arrays.map { .array($0) }) }
            let positions: Set<Int>? = schema?.order.map { order in
                Set(order.indices.filter { pii.contains(order[$0]) })
            }
            return .array(
                arrays.map { values in
                    .array(
                        values.indices.map { index in
                            positions.map { $0.contains(index) } ?? true ? self.redacted : values[index]
                        }
                    )
                }
            )
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// JSON text of a value (`null` if it cannot be encoded).
    static func json(_ value: some Encodable) -> String {
        (try? self.encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    /// The log entry of a request, PII redacted; `nil` when it never got as far as a model.
    public static func logEntry(of record: PredictionRecord) -> PredictionLogEntry? {
        guard let prepared = record.prepared else { return nil }
        let inputs = record.rows.map { self.redact($0, schema: prepared.schema) } ?? .null
        let outputs: String =
            record.succeeded
            ? record.outputs.map { self.json(self.predictions($0, classes: prepared.classes)) } ?? "null"
            : self.json(["error": record.errorCode ?? "error"])
        return PredictionLogEntry(
            modelID: prepared.model.id,
            environment: prepared.environment,
            version: prepared.deployment.version,
            requestID: record.requestID,
            at: record.receivedAt,
            keyName: record.keyName,
            inputs: self.json(inputs),
            outputs: outputs,
            latency: record.latency,
            status: record.status
        )
    }
}
