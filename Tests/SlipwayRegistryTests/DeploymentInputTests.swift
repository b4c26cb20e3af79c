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

    @Test func countsReferenceRowsInEitherForm() throws {
        let positional = DeploymentInput(
            summary: "x",
            schema: self.schema,
            reference: #"[[30, "a"], [null, "b"], [41.0, "c"]]"#
        )
        #expect(try positional.validated() == DeploymentInput.Validated(summary: "x", referenceRows: 3))
        let named = DeploymentInput(
            summary: "x",
            schema: self.schema,
            reference: #"[{"age": 30, "city": "a"}, {"age": 5}]"#
        )
        #expect(try named.validated().referenceRows == 2)
        #expect(try DeploymentInput(summary: "x", reference: "[[1.5, 2], [3, 4]]").validated().referenceRows == 2)
        #expect(try DeploymentInput(summary: "x").validated().referenceRows == nil)
    }

    @Test func acceptsTenThousandReferenceRowsButNoMore() throws {
        func rows(_ count: Int) -> String {
            "[" + Array(repeating: "[1, 2]", count: count).joined(separator: ",") + "]"
        }
        #expect(try DeploymentInput(summary: "x", reference: rows(10_000)).validated().referenceRows == 10_000)
        do {
            _ = try DeploymentInput(summary: "x", reference: rows(10_001)).validated()
            Issue.record("10,001 reference rows were accepted")
        } catch let error as RegistryError {
            #expect(error.field == "reference")
            #expect(error.message.contains("at most 10000"), "\(error.message)")
        }
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
        (DeploymentInput(summary: "x", reference: "{not json"), "reference"),
        (DeploymentInput(summary: "x", reference: "[]"), "reference"),
        (DeploymentInput(summary: "x", reference: #"{"ndarray": [[1]]}"#), "reference"),
        (DeploymentInput(summary: "x", reference: "[[1, 2], [3]]"), "reference[1]"),
        (DeploymentInput(summary: "x", reference: #"[[1, 2], {"a": 1}]"#), "reference[1]"),
        (DeploymentInput(summary: "x", reference: #"[{"a": 1}]"#), "reference[0]"),
        (
            DeploymentInput(
                summary: "x",
                schema: #"{"features": {"age": {"type": "integer"}}, "ndarray": [["age"]]}"#,
                reference: "[[1], [2, 3]]"
            ), "reference[1]"
        ),
        (
            DeploymentInput(
                summary: "x",
                schema: #"{"features": {"age": {"type": "integer"}}, "ndarray": [["age"]]}"#,
                reference: #"[[1], ["old"]]"#
            ), "reference[1].age"
        ),
        (
            DeploymentInput(
                summary: "x",
                schema: #"{"features": {"age": {"type": "integer"}}}"#,
                reference: #"[{"age": 3}, {"height": 1.8}]"#
            ), "reference[1].height"
        ),
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
