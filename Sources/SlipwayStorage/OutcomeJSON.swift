import Foundation
import SlipwayRegistry

/// The JSON text of prediction outcomes, written by hand: every prediction request stores one outcome, and
/// `JSONEncoder` was the largest cost of storing them. Keys are written in sorted order like `SQLValues.json`, and the
/// rows read back through `JSONDecoder` as before (a test checks the round trip); non-finite numbers, which JSON cannot
/// carry, go through `SQLValues.json` and fail the same way.
enum OutcomeJSON {
    /// `["a","b"]`.
    static func classes(_ classes: [String]) -> String {
        var out = "["
        for (index, name) in classes.enumerated() {
            if index > 0 { out += "," }
            Self.string(name, into: &out)
        }
        return out + "]"
    }

    /// `[{"label":…,"probabilities":[…],"value":…}, …]` with absent members left out.
    static func predictions(_ predictions: [OutcomePrediction]) throws -> String {
        let finite = predictions.allSatisfy { prediction in
            (prediction.value?.isFinite ?? true) && (prediction.probabilities?.allSatisfy(\.isFinite) ?? true)
        }
        guard finite else { return try SQLValues.json(predictions) }
        var out = "["
        for (index, prediction) in predictions.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            var first = true
            if let label = prediction.label {
                out += "\"label\":"
                Self.string(label, into: &out)
                first = false
            }
            if let probabilities = prediction.probabilities {
                out += first ? "\"probabilities\":[" : ",\"probabilities\":["
                for (position, probability) in probabilities.enumerated() {
                    if position > 0 { out += "," }
                    out += probability.description
                }
                out += "]"
                first = false
            }
            if let value = prediction.value {
                out += first ? "\"value\":" : ",\"value\":"
                out += value.description
            }
            out += "}"
        }
        return out + "]"
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as is.
    static func string(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
