import Testing

@testable import SlipwayRegistry

@Suite struct DeploymentInputTests {
    let schema =
        #"{"features": {"age": {"type": "integer", "min": 0, "max": 120, "help": "years"}, "city": {"type": "string", "allowed": ["a", "b"], "pii": true}}, "ndarray": [["age", "city"]]}"#

    @Test func acceptsACompleteDeployment() throws {
        let input = DeploymentInput(
            summary: "  first model  ",
            schema: self.schema,
            samples: #"{"ndarray": [[30, "a"]], "features": [{"age": 30, "city": "a"}]}"#,
            classes: #"{"0": "no", "1": "yes"}"#,
            context: #"{"git": {"commit": "abc"}}"#,
            params: "{}"
        )
        #expect(try input.validate() == "first model")
    }

    @Test func acceptsExpectedOutputsOnePerRow() throws {
        let input = DeploymentInput(
            summary: "x",
            schema: self.schema,
            samples:
                #"{"ndarray": [[30, "a"], [40, "b"], [50, "a"], [60, "b"]], "expected": ["yes", 0, 0.5, [0.1, 0.9]]}"#
        )
        #expect(try input.validate() == "x")
    }

    @Test func acceptsClassesAsAList() throws {
        #expect(throws: Never.self) { try DeploymentInput(summary: "x", classes: #"["no", "yes"]"#).validate() }
    }

    @Test(arguments: [
        (DeploymentInput(summary: nil), "summary"),
        (DeploymentInput(summary: "   "), "summary"),
        (DeploymentInput(summary: "two\nlines"), "summary"),
        (DeploymentInput(summary: "x", format: "pickle"), "format"),
        (DeploymentInput(summary: "x", schema: "{not json"), "schema"),
        (DeploymentInput(summary: "x", schema: "[1]"), "schema"),
        (DeploymentInput(summary: "x", schema: #"{"featurez": {}}"#), "schema.featurez"),
        (DeploymentInput(summary: "x", schema: #"{"features": {"a": {"type": "decimal"}}}"#), "schema.features.a.type"),
        (DeploymentInput(summary: "x", schema: #"{"features": {"a": {"colour": 1}}}"#), "schema.features.a.colour"),
        (DeploymentInput(summary: "x", schema: #"{"features": {"a": {"min": "1"}}}"#), "schema.features.a.min"),
        (DeploymentInput(summary: "x", schema: #"{"features": {"a": {"min": 5, "max": 1}}}"#), "schema.features.a.min"),
        (
            DeploymentInput(summary: "x", schema: #"{"features": {"a": {"maxlength": -1}}}"#),
            "schema.features.a.maxlength"
        ),
        (DeploymentInput(summary: "x", schema: #"{"features": {"a": {"pii": 1}}}"#), "schema.features.a.pii"),
        (DeploymentInput(summary: "x", schema: #"{"features": {"a": {}}, "ndarray": [["b"]]}"#), "schema.ndarray"),
        (DeploymentInput(summary: "x", schema: #"{"ndarray": [["a", "a"]]}"#), "schema.ndarray"),
        (DeploymentInput(summary: "x", samples: "{}"), "samples"),
        (DeploymentInput(summary: "x", samples: #"{"ndarray": [[1, 2], [3]]}"#), "samples.ndarray"),
        (DeploymentInput(summary: "x", samples: #"{"ndarray": []}"#), "samples.ndarray"),
        (DeploymentInput(summary: "x", samples: #"{"features": [{"a": 1}]}"#), "samples.features"),
        (DeploymentInput(summary: "x", samples: #"{"rows": []}"#), "samples.rows"),
        (DeploymentInput(summary: "x", samples: #"{"ndarray": [[1], [2]], "expected": [1]}"#), "samples.expected"),
        (DeploymentInput(summary: "x", samples: #"{"ndarray": [[1]], "expected": "a"}"#), "samples.expected"),
        (DeploymentInput(summary: "x", samples: #"{"ndarray": [[1]], "expected": [{"a": 1}]}"#), "samples.expected.0"),
        (DeploymentInput(summary: "x", samples: #"{"ndarray": [[1]], "expected": [[]]}"#), "samples.expected.0"),
        (DeploymentInput(summary: "x", classes: #"{"zero": "no"}"#), "classes.zero"),
        (DeploymentInput(summary: "x", classes: #"{"0": 1}"#), "classes.0"),
        (DeploymentInput(summary: "x", classes: "[]"), "classes"),
        (DeploymentInput(summary: "x", context: "[]"), "context"),
        (DeploymentInput(summary: "x", params: "3"), "params"),
    ])
    func rejectsBadFieldsNamingThem(_ input: DeploymentInput, field: String) {
        do {
            _ = try input.validate()
            Issue.record("expected \(field) to be rejected")
        } catch let error as RegistryError {
            #expect(error.code == .invalidInput)
            #expect(error.field == field, "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
