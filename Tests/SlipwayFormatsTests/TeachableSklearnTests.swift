import Foundation
import SlipwayFormats
import SlipwayInference
import Testing

/// Translates every th-sklearn-json fixture (made by scripts/make-teachablehub-fixtures.py with scikit-learn 1.3)
/// and compares the engine's outputs with scikit-learn's predict / predict_proba on held-out rows.
struct TeachableSklearnTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/teachablehub")

    static let fixtures: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: Self.root.path)) ?? []).sorted()

    static func bytes(_ name: String, _ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.root.appendingPathComponent(name).appendingPathComponent(file)))
    }

    static func numbers(_ value: JSONValue?) -> [Double] {
        guard case .array(let items) = value else { return [] }
        return items.compactMap { item in
            switch item {
            case .int(let i): Double(i)
            case .double(let d): d
            case .float(let f): Double(f)
            default: nil
            }
        }
    }

    static func rows(_ value: JSONValue?) -> [[Double]] {
        guard case .array(let items) = value else { return [] }
        return items.map { Self.numbers($0) }
    }

    @Test func findsTheFixtures() {
        #expect(Self.fixtures.count >= 16)
        for estimator in TeachableSklearn.supportedEstimators {
            let prefix =
                switch estimator {
                case "LogisticRegression": "logistic_regression"
                case "LinearDiscriminantAnalysis": "lda"
                case "QuadraticDiscriminantAnalysis": "qda"
                default: estimator.lowercased()
                }
            #expect(Self.fixtures.contains { $0.hasPrefix(prefix) }, "no fixture for \(estimator)")
        }
    }

    @Test(arguments: Self.fixtures)
    func matchesScikitLearn(_ name: String) throws {
        let expected = try JSONValue.parse(try Self.bytes(name, "expected.json"))
        let translated = try TeachableSklearn.translate(try Self.bytes(name, "model.json"))
        guard case .string(let estimator) = expected["estimator"] else {
            Issue.record("expected.json has no estimator")
            return
        }
        #expect(translated.estimator == estimator)
        let inputs = Self.rows(expected["inputs"])
        let n = inputs.count
        #expect(n > 0)
        #expect(translated.featureCount == inputs[0].count)
        let model = try ModelLoader.load(bytes: translated.onnx)
        #expect(model.inputs.map(\.name) == [translated.inputName])
        for threads in [1, 2] {
            let session = InferenceSession(model: model, options: SessionOptions(threads: threads))
            let x = try Tensor(shape: [n, translated.featureCount], floats: inputs.flatMap { $0.map(Float.init) })
            let outputs = try session.run([translated.inputName: x])
            if translated.isClassifier {
                let label = try #require(outputs["label"]?.tensor)
                #expect(label.shape == [n])
                switch expected["predict"] {
                case .array(let items) where items.first.map({ if case .string = $0 { true } else { false } }) == true:
                    let names = items.map { if case .string(let s) = $0 { s } else { "" } }
                    #expect(label.strings == names, "\(name): labels")
                default:
                    #expect(label.int64s == Self.numbers(expected["predict"]).map { Int64($0) }, "\(name): labels")
                }
                if let proba = expected["predict_proba"] {
                    let want = Self.rows(proba)
                    let got = try #require(outputs["probabilities"]?.tensor)
                    #expect(got.shape == [n, want[0].count])
                    let values = try #require(got.floats)
                    var worst = 0.0
                    for (i, row) in want.enumerated() {
                        for (c, p) in row.enumerated() {
                            worst = max(worst, abs(Double(values[i * row.count + c]) - p))
                        }
                    }
                    #expect(worst <= 1e-6, "\(name): probabilities differ by \(worst)")
                } else {
                    #expect(outputs.keys.sorted() == ["label"], "\(name): a model without predict_proba")
                }
            } else {
                let variable = try #require(outputs["variable"]?.tensor)
                #expect(variable.shape == [n, 1])
                let values = try #require(variable.floats)
                let want = Self.numbers(expected["predict"])
                // float32 output: relative 1e-6 (sklearn's targets here are in the hundreds)
                for (got, value) in zip(values, want) {
                    #expect(abs(Double(got) - value) <= 1e-6 * max(1, abs(value)), "\(name): \(got) vs \(value)")
                }
            }
        }
    }

    @Test func keepsStringClassLabels() throws {
        let translated = try TeachableSklearn.translate(try Self.bytes("svc_rbf_iris", "model.json"))
        #expect(translated.isClassifier)
        let model = try ModelLoader.load(bytes: translated.onnx)
        #expect(model.outputs.map(\.name) == ["label", "probabilities"])
        let session = InferenceSession(model: model)
        let outputs = try session.run(["input": try Tensor(shape: [1, 4], floats: [5.1, 3.5, 1.4, 0.2])])
        #expect(outputs["label"]?.tensor?.strings == ["setosa"])
    }

    @Test func translatesMultiTargetRegression() throws {
        let json = """
            {"meta": "ridge-regression", "coef_": [[1, 2], [3, 4]], "intercept_": [0.5, -1],
             "params": {"alpha": 1.0}}
            """
        let translated = try TeachableSklearn.translate(Array(json.utf8))
        #expect(translated.estimator == "Ridge")
        #expect(!translated.isClassifier)
        let session = InferenceSession(model: try ModelLoader.load(bytes: translated.onnx))
        let outputs = try session.run(["input": try Tensor(shape: [2, 2], floats: [1, 1, 2, 0])])
        #expect(outputs["variable"]?.tensor?.shape == [2, 2])
        #expect(outputs["variable"]?.tensor?.floats == [3.5, 6, 2.5, 5])
    }

    @Test func runsAnEmptyBatch() throws {
        for name in ["svc_rbf_iris", "qda_iris", "logistic_regression_ovr_iris"] {
            let translated = try TeachableSklearn.translate(try Self.bytes(name, "model.json"))
            let session = InferenceSession(model: try ModelLoader.load(bytes: translated.onnx))
            let outputs = try session.run(["input": try Tensor(shape: [0, 4], floats: [])])
            #expect(outputs["label"]?.tensor?.shape == [0])
            #expect(outputs["probabilities"]?.tensor?.shape == [0, 3])
        }
    }
}
