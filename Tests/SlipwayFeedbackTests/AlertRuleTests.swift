import Crypto
import Foundation
import HTTPTypes
import SlipwayAPI
import SlipwayFeedback
import SlipwayRegistry
import SlipwayRuntime
import Testing

@Suite("Alert rules, webhook signatures and PII redaction")
struct AlertRuleTests {
    @Test func compactAndFieldFormsAgree() throws {
        let compact = try AlertRule.parse(compact: "p99_ms > 20 over 5m in staging", name: "slow")
        let fields = try AlertRule.make(
            name: "slow",
            metric: "p99_ms",
            op: ">",
            threshold: 20,
            window: "5m",
            environment: "staging"
        )
        #expect(compact == fields)
        #expect(compact.windowSeconds == 300 && compact.compact == "p99_ms > 20 over 5m in staging")
        let defaults = try AlertRule.parse(compact: "key_metric <= 0.8", name: "quality")
        #expect(defaults.environment == "production" && defaults.windowSeconds == 300)
        #expect(AlertRule.Comparison.lessOrEqual.holds(0.8, 0.8) && !AlertRule.Comparison.less.holds(0.8, 0.8))
    }

    @Test func badRulesNameTheField() {
        let cases: [(String, String)] = [
            ("p99_ms", "rule"), ("p99_ms > x", "rule"), ("speed > 1", "metric"), ("p99_ms => 1", "op"),
            ("p99_ms > 1 over 0m", "window"), ("p99_ms > 1 over 30s", "window"), ("p99_ms > 1 over 8d", "window"),
            ("p99_ms > 1 over", "rule"), ("p99_ms > 1 at noon", "rule"), ("error_rate > 1.5", "threshold"),
            ("drift > -1", "threshold"), ("p99_ms > 1 in Bad_Env", "environment"),
        ]
        for (text, field) in cases {
            #expect(throws: APIError.self, "\(text)") { try AlertRule.parse(compact: text, name: "r") }
            do {
                _ = try AlertRule.parse(compact: text, name: "r")
            } catch let error as APIError {
                #expect(error.field == field, "\(text): \(error.detail)")
                #expect(error.status == .badRequest)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(throws: APIError.self) { try AlertRule.parse(compact: "p99_ms > 1", name: nil) }
        #expect(AlertRule.formatWindow(3_600) == "1h" && AlertRule.formatWindow(90) == "90s")
    }

    @Test func signatureIsTheHMACOfTheBody() {
        let body = Data(#"{"event":"alert.firing"}"#.utf8)
        let signature = WebhookSender.signature(of: body, secret: "key")
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data("key".utf8)))
        #expect(signature == "sha256=" + code.map { String(format: "%02x", $0) }.joined())
        #expect(signature.count == 7 + 64)
    }

    @Test func piiFeaturesAreRedactedByNameAndPosition() {
        let schema = FeatureSchema(
            features: [
                "age": .init(name: "age"), "email": .init(name: "email", isPII: true),
                "zip": .init(name: "zip", isPII: true),
            ],
            order: ["age", "email", "zip"]
        )
        let named = RecordConversion.redact(
            .features([["age": .integer(40), "email": .string("a@b.c"), "zip": .string("1000")]]),
            schema: schema
        )
        #expect(
            named
                == .array([
                    .object(["age": .integer(40), "email": RecordConversion.redacted, "zip": RecordConversion.redacted])
                ])
        )
        let positional = RecordConversion.redact(
            .ndarray([[.integer(40), .string("a@b.c"), .string("1000")]]),
            schema: schema
        )
        #expect(positional == .array([.array([.integer(40), RecordConversion.redacted, RecordConversion.redacted])]))
        // Without an order, which column is PII cannot be told: every positional value is redacted.
        let unordered = FeatureSchema(features: schema.features, order: nil)
        let blind = RecordConversion.redact(.ndarray([[.integer(40), .string("x")]]), schema: unordered)
        #expect(blind == .array([.array([RecordConversion.redacted, RecordConversion.redacted])]))
        let plain = RecordConversion.redact(.ndarray([[.integer(1)]]), schema: nil)
        #expect(plain == .array([.array([.integer(1)])]))
    }

    @Test func outputRowsBecomeLabelsOrValues() {
        let classes = ["a", "b"]
        let rows = RecordConversion.predictions(
            [
                OutputReader.Row(probabilities: [0.2, 0.8], label: .index(1), values: []),
                OutputReader.Row(probabilities: [0.7, 0.3], label: nil, values: []),
            ],
            classes: classes
        )
        #expect(
            rows == [
                OutcomePrediction(label: "b", probabilities: [0.2, 0.8]),
                OutcomePrediction(label: "a", probabilities: [0.7, 0.3]),
            ]
        )
        let regression = RecordConversion.predictions(
            [OutputReader.Row(probabilities: nil, label: nil, values: [.number(3.5)])],
            classes: nil
        )
        #expect(regression == [OutcomePrediction(value: 3.5)])
    }
}
