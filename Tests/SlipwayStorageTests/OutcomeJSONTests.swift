import Foundation
import SlipwayRegistry
import Testing

@testable import SlipwayStorage

@Suite("Outcome JSON")
struct OutcomeJSONTests {
    @Test func roundTripsThroughJSONDecoder() throws {
        let predictions = [
            OutcomePrediction(label: "se\"to/sa\\\n\u{01}é", probabilities: [0.1, 1, 1e-300, 0.333_333_333_333_333_3]),
            OutcomePrediction(value: -2.5e10),
            OutcomePrediction(label: "b"),
            OutcomePrediction(probabilities: []),
            OutcomePrediction(),
        ]
        let text = try OutcomeJSON.predictions(predictions)
        #expect(try JSONDecoder().decode([OutcomePrediction].self, from: Data(text.utf8)) == predictions)
        #expect(try OutcomeJSON.predictions([]) == "[]")
        let classes = ["a", "b\"c", "ü", ""]
        #expect(try JSONDecoder().decode([String].self, from: Data(OutcomeJSON.classes(classes).utf8)) == classes)
        #expect(
            try OutcomeJSON.predictions([OutcomePrediction(label: "x", value: 1)]) == #"[{"label":"x","value":1.0}]"#
        )
    }

    @Test func nonFiniteNumbersFailAsBefore() {
        #expect(throws: (any Error).self) { try OutcomeJSON.predictions([OutcomePrediction(value: .nan)]) }
        #expect(throws: (any Error).self) {
            try OutcomeJSON.predictions([OutcomePrediction(probabilities: [0.5, .infinity])])
        }
    }
}
