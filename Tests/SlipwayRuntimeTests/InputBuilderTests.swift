import Foundation
import SlipwayInference
import SlipwayRegistry
import Testing

@testable import SlipwayRuntime

/// Rows to engine inputs, against the shipped iris example (one `[?, 4]` float input and a schema).
@Suite struct InputBuilderTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func iris(schema: Bool = true) throws -> PreparedModel {
        let folder = self.root.appendingPathComponent("examples/iris")
        let model = try ModelLoader.load(contentsOf: folder.appendingPathComponent("model.onnx").path)
        let schemaText = try String(contentsOf: folder.appendingPathComponent("schema.json"), encoding: .utf8)
        let classesText = try String(contentsOf: folder.appendingPathComponent("classes.json"), encoding: .utf8)
        let now = Date()
        let registryModel = SlipwayRegistry.Model(owner: "acme", name: "iris", createdAt: now)
        let deployment = Deployment(
            modelID: registryModel.id,
            environmentID: UUID(),
            environmentName: "production",
            version: 1,
            artifactDigest: String(repeating: "0", count: 64),
            artifactSize: 1,
            summary: "iris",
            schema: schema ? schemaText : nil,
            classes: classesText,
            createdBy: .system,
            createdAt: now
        )
        return PreparedModel(
            model: registryModel,
            environment: "production",
            deployment: deployment,
            session: InferenceSession(model: model),
            schema: FeatureSchema.parse(deployment.schema),
            classes: PreparedModel.parseClasses(deployment.classes)
        )
    }

    @Test func placesFeaturesInTheSchemaOrder() throws {
        let model = try Self.iris()
        let rows = PredictionRows.features([
            ["petal_width": .number(0.2), "sepal_length": .number(5.1), "petal_length": .number(1.4), "sepal_width": .integer(3)]
        ])
        let inputs = try InputBuilder.inputs(for: model, rows: rows)
        let tensor = try #require(inputs["X"])
        #expect(tensor.shape == [1, 4])
        #expect(tensor.floats == [5.1, 3, 1.4, 0.2])
    }

    @Test func buildsNdarrayRows() throws {
        let model = try Self.iris(schema: false)
        let inputs = try InputBuilder.inputs(
            for: model,
            rows: .ndarray([[.number(5.1), .number(3.5), .number(1.4), .number(0.2)], [.integer(6), .integer(3), .integer(5), .integer(2)]])
        )
        #expect(inputs["X"]?.shape == [2, 4])
        let outputs = try model.session.run(inputs, outputNames: nil)
        let rows = OutputReader.rows(outputs, count: 2, classCount: 3)
        #expect(rows.count == 2)
        #expect(rows[0].label == .index(0))
        #expect(rows[0].probabilities?.count == 3)
        #expect(abs((rows[0].probabilities ?? []).reduce(0, +) - 1) < 1e-4)
    }

    @Test func listsEveryViolation() throws {
        let model = try Self.iris()
        let rows = PredictionRows.features([
            ["sepal_length": .string("long"), "sepal_width": .number(99), "petal_length": .number(1.4), "colour": .string("blue")],
            ["sepal_length": .number(5), "sepal_width": .number(3), "petal_length": .number(1), "petal_width": .number(-5)],
        ])
        do {
            _ = try InputBuilder.inputs(for: model, rows: rows)
            Issue.record("expected violations")
        } catch let error as PredictionInputError {
            let found = Set(error.violations.map { "\($0.row):\($0.feature):\($0.rule)" })
            #expect(found == ["0:colour:unknown", "0:sepal_length:type", "0:sepal_width:max", "0:petal_width:required", "1:petal_width:min"])
            #expect(error.violations.first { $0.rule == "max" }?.got == "99")
        }
    }

    @Test func checksNdarrayRowsAgainstTheSchemaToo() throws {
        let model = try Self.iris()
        do {
            _ = try InputBuilder.inputs(for: model, rows: .ndarray([[.number(5.1), .number(3.5), .number(1.4), .number(100)]]))
            Issue.record("expected a violation")
        } catch let error as PredictionInputError {
            #expect(error.violations.map(\.feature) == ["petal_width"])
        }
    }

    @Test(arguments: [
        (PredictionRows.ndarray([]), "ndarray"),
        (PredictionRows.ndarray([[.number(1), .number(2)]]), "ndarray"),
        (PredictionRows.ndarray([[.number(1), .number(2), .number(3), .number(4)], [.number(1)]]), "ndarray[1]"),
        (PredictionRows.ndarray([[.string("a"), .number(2), .number(3), .number(4)]]), "ndarray[0][0]"),
        (PredictionRows.features([["a": .number(1)]]), "features"),
    ])
    func refusesRowsThatDoNotFitNamingTheField(_ rows: PredictionRows, field: String) throws {
        let model = try Self.iris(schema: false)
        do {
            _ = try InputBuilder.inputs(for: model, rows: rows)
            Issue.record("expected an error for \(field)")
        } catch let error as PredictionInputError {
            #expect(error.violations.isEmpty)
            #expect(error.field == field, "\(error.message)")
        }
    }

    @Test func parsesClassesInBothForms() {
        #expect(PreparedModel.parseClasses(#"{"0": "no", "1": "yes"}"#) == ["no", "yes"])
        #expect(PreparedModel.parseClasses(#"["no", "yes"]"#) == ["no", "yes"])
        #expect(PreparedModel.parseClasses(nil) == nil)
    }
}

extension InputBuilderTests {
    @Test func refusesNonFiniteNumbersWhereTheSchemaApplies() throws {
        let model = try Self.iris()
        do {
            _ = try InputBuilder.inputs(
                for: model,
                rows: .ndarray([[.number(.nan), .number(3.5), .number(.infinity), .number(0.2)]])
            )
            Issue.record("expected violations")
        } catch let error as PredictionInputError {
            #expect(error.violations.map(\.feature) == ["sepal_length", "petal_length"])
            #expect(error.violations.allSatisfy { $0.rule == "type" && $0.expected == "a finite number" })
        }
    }
}
