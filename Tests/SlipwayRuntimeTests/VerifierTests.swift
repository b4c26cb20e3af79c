import Foundation
import SlipwayInference
import SlipwayRegistry
import SlipwayStorage
import Testing

@testable import SlipwayRuntime

@Suite(.timeLimit(.minutes(2))) struct VerifierTests {
    static let schema = try! String(
        contentsOf: RuntimeWorld.root.appendingPathComponent("examples/iris/schema.json"),
        encoding: .utf8
    )
    static let classes = #"{"0": "setosa", "1": "versicolor", "2": "virginica"}"#

    /// The shipped example's samples with expected outputs: labels, an index and probabilities.
    static let samples = """
        {"ndarray": [[5.1, 3.5, 1.4, 0.2], [5.0, 2.0, 3.5, 1.0], [6.9, 3.2, 5.7, 2.3]],
         "features": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2},
                      {"sepal_length": 5.0, "sepal_width": 2.0, "petal_length": 3.5, "petal_width": 1.0},
                      {"sepal_length": 6.9, "sepal_width": 3.2, "petal_length": 5.7, "petal_width": 2.3}],
         "expected": ["setosa", 1, "virginica"]}
        """

    @Test func verifiesTheShippedExampleAndStoresTheReport() async throws {
        try await RuntimeWorld.with { world, host in
            let deployment = try await world.deploy(schema: Self.schema, samples: Self.samples, classes: Self.classes)
            let recorded = try #require(try await host.verify(deployment))
            #expect(recorded.status == .verified, "\(recorded.statusReason ?? "")")
            let stored = try #require(try await world.repository.deployment(id: deployment.id))
            #expect(stored.status == .verified)
            let report = try JSONValue.parse(try #require(stored.verification))
            guard case .array(let rows) = report["samples"] else {
                Issue.record("no samples in the report")
                return
            }
            #expect(rows.count == 6)
            #expect(rows[0]["form"] == .string("ndarray"))
            #expect(rows[3]["form"] == .string("features"))
            #expect(rows[0]["latency_us"] != nil)
            #expect(report["engine"]?["inputs"] != nil)
            #expect(report["total_latency_us"] != nil)
            // The verified session stays warm.
            #expect(host.isLoaded(deployment.id))
        }
    }

    @Test func matchesExpectedNumbersWithinTolerance() throws {
        // ONNX Runtime's probabilities for the first row are 0.98157942, 0.01842056, 0.0000000146.
        let close = Self.verify(samples: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]], "expected": [[0.981579, 0.018421, 0]]}"#)
        #expect(close.status == .verified, "\(close.reason ?? "")")
        // examples/iris/expected.json rounds to four decimals: 0.0184 is 2e-5 off, beyond 1e-5 + 1e-4 × 0.0184.
        let rounded = Self.verify(samples: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]], "expected": [[0.9816, 0.0184, 0]]}"#)
        #expect(rounded.reason?.contains("value 1 differs") == true, "\(rounded.reason ?? "")")
    }

    @Test func failsAnArtifactTheEngineCannotLoad() async throws {
        try await RuntimeWorld.with { world, host in
            let deployment = try await world.deploy(bytes: Data("not an onnx model".utf8), samples: Self.samples)
            let recorded = try #require(try await host.verify(deployment))
            #expect(recorded.status == .failed)
            #expect(
                recorded.statusReason?.contains("the artifact cannot be loaded") == true,
                "\(recorded.statusReason ?? "")"
            )
            #expect(recorded.verification?.contains("error") == true)
        }
    }

    @Test func failsASchemaThatDoesNotFitTheModelInput() {
        let schema =
            #"{"features": {"a": {"type": "float"}, "b": {"type": "float"}, "c": {"type": "float"}}, "ndarray": [["a", "b", "c"]]}"#
        let outcome = Self.verify(schema: schema, samples: #"{"ndarray": [[1, 2, 3]]}"#)
        #expect(outcome.status == .failed)
        #expect(outcome.reason == "model input 'X' has shape [?, 4]; expected [?, 3] (schema.ndarray has 3 features)")
    }

    @Test func failsAStringFeatureForANumericInput() {
        let schema =
            #"{"features": {"a": {"type": "float"}, "b": {"type": "float"}, "c": {"type": "float"}, "city": {"type": "string"}}, "ndarray": [["a", "b", "c", "city"]]}"#
        let outcome = Self.verify(schema: schema, samples: #"{"ndarray": [[1, 2, 3, "x"]]}"#)
        #expect(outcome.status == .failed)
        #expect(
            outcome.reason?.contains("feature 'city' is a string but model input 'X' takes float") == true,
            "\(outcome.reason ?? "")"
        )
    }

    @Test func failsASampleOfTheWrongWidthNamingIt() {
        let outcome = Self.verify(samples: #"{"ndarray": [[1, 2, 3, 4], [1, 2, 3]]}"#)
        #expect(outcome.status == .failed)
        #expect(
            outcome.reason == "samples.ndarray[1]: the model's input 'X' takes 4 values per row, got 3",
            "\(outcome.reason ?? "")"
        )
    }

    @Test func failsASampleThatBreaksTheSchemaRules() {
        let outcome = Self.verify(schema: Self.schema, samples: #"{"ndarray": [[5.1, 3.5, 1.4, 9.9]]}"#)
        #expect(outcome.status == .failed)
        #expect(outcome.reason?.hasPrefix("samples.ndarray[0]: ") == true, "\(outcome.reason ?? "")")
        #expect(outcome.reason?.contains("petal_width") == true, "\(outcome.reason ?? "")")
    }

    @Test func failsOnAnExpectedOutputMismatch() async throws {
        let samples = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [6.9, 3.2, 5.7, 2.3]], "expected": ["setosa", "setosa"]}"#
        try await RuntimeWorld.with { world, host in
            let deployment = try await world.deploy(samples: samples, classes: Self.classes)
            let recorded = try #require(try await host.verify(deployment))
            #expect(recorded.status == .failed)
            #expect(
                recorded.statusReason == "samples.ndarray[1]: expected class 'setosa', got 'virginica' (output 'label')"
            )
            #expect(!host.isLoaded(deployment.id))
        }
        let probabilities = Self.verify(samples: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]], "expected": [[0.5, 0.5, 0.0]]}"#)
        #expect(
            probabilities.reason?.hasPrefix("samples.ndarray[0]: expected [0.5, 0.5, 0.0], got [") == true,
            "\(probabilities.reason ?? "")"
        )
    }

    @Test func feedsOneInputPerFeature() throws {
        let schema = #"""
            {"features": {"numeric": {}, "color_band": {"type": "integer"}, "proline_level": {"type": "string"}}}
            """#
        let samples = #"{"features": [{"numeric": 1, "color_band": 1, "proline_level": "high"}]}"#
        let data = try RuntimeWorld.fixture("Tests/Fixtures/zoo/wine_column_transformer/model.onnx")
        var deployment = Self.deployment(schema: schema, samples: samples)
        // `numeric` is a [?, 4] input: one feature per input does not fit it, and the reason says so.
        var outcome = Verifier.verify(deployment) { data }
        #expect(outcome.reason?.contains("model input 'numeric' has shape [?, 4]") == true, "\(outcome.reason ?? "")")
        deployment.schema = #"{"features": {"color_band": {"type": "string"}}}"#
        outcome = Verifier.verify(deployment) { data }
        #expect(
            outcome.reason?.contains("model input 'numeric' is not a schema feature") == true,
            "\(outcome.reason ?? "")"
        )
    }

    @Test func recordsAConflictQuietlyWhenAnotherNodeVerifiedFirst() async throws {
        try await RuntimeWorld.with { world, host in
            let deployment = try await world.deploy(samples: Self.samples, classes: Self.classes)
            _ = try await world.registry.recordVerification(of: deployment, status: .verified, reason: nil)
            #expect(try await host.verify(deployment) == nil)
        }
    }

    @Test func activatesOnVerificationAndServesAtOnce() async throws {
        try await RuntimeWorld.with { world, host in
            let deployment = try await world.deploy(
                schema: Self.schema,
                samples: Self.samples,
                classes: Self.classes,
                activateOnVerify: true
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await host.run() }
                host.verifySoon(deployment)
                try await ModelHostTests.eventually { await ModelHostTests.activeID(host) == deployment.id }
                group.cancelAll()
            }
        }
    }

    // MARK: Helpers

    static func deployment(
        schema: String? = nil,
        samples: String?,
        classes: String? = VerifierTests.classes
    ) -> Deployment {
        Deployment(
            modelID: UUID(),
            environmentID: UUID(),
            environmentName: "production",
            artifactDigest: "",
            artifactSize: 0,
            summary: "test",
            schema: schema,
            samples: samples,
            classes: classes,
            createdBy: .system,
            createdAt: Date()
        )
    }

    static func verify(schema: String? = nil, samples: String?) -> Verifier.Outcome {
        let data = try! RuntimeWorld.fixture("examples/iris/model.onnx")
        return Verifier.verify(Self.deployment(schema: schema, samples: samples)) { data }
    }
}
