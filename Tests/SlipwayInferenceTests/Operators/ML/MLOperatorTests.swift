import Testing

@testable import SlipwayInference

@Suite struct MLOperatorTests {
    static func run(
        _ op: String,
        opset: Int = 1,
        _ attributes: [String: Attribute],
        _ inputs: [Tensor],
        outputs: Int = 1
    ) throws -> [Value] {
        try runOperator(
            op,
            domain: onnxMLDomain,
            opset: opset,
            attributes: attributes,
            inputs: inputs,
            outputCount: outputs
        )
    }

    static func expectError(
        _ code: InferenceError.Code,
        mentioning text: String,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("expected a \(code) error mentioning \(text)")
        } catch let error as InferenceError {
            #expect(error.code == code, "\(error)")
            #expect(error.message.contains(text), "\(error.message) should mention \(text)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func matchesOnnxRuntimeOnGeneratedCases() throws {
        let cases = try MLFixtureCase.load("ml_cases.json")
        #expect(cases.count > 50)
        for c in cases { try c.check() }
    }

    @Test func zipMapBuildsOneMapPerRow() throws {
        let x = try Tensor(shape: [2, 3], floats: [0.1, 0.2, 0.7, 0.5, 0.5, 0])
        let out = try Self.run("ZipMap", ["classlabels_int64s": .ints([3, 5, 9])], [x])
        guard case .mapSequence(let maps) = out[0] else {
            Issue.record("expected a map sequence")
            return
        }
        #expect(maps.keys == .int64s([3, 5, 9]))
        #expect(maps.scores == x)
        #expect(maps.count == 2)
        let strings = try Self.run("ZipMap", ["classlabels_strings": .strings(["a", "b", "c"])], [x])
        #expect(strings[0].type == .mapSequence(keys: .string))
        Self.expectError(.runtimeFailure, mentioning: "class labels") {
            _ = try Self.run("ZipMap", ["classlabels_strings": .strings(["a", "b"])], [x])
        }
        Self.expectError(.invalidAttribute, mentioning: "classlabels") {
            _ = try Self.run("ZipMap", [:], [x])
        }
    }

    @Test func oneHotEncoderRejectsUnknownCategoriesWhenZerosIsOff() throws {
        let x = try Tensor(shape: [3], int64s: [1, 4, 3])
        let ok = try Self.run("OneHotEncoder", ["cats_int64s": .ints([1, 3]), "zeros": .int(1)], [x])
        #expect(ok[0].tensor?.floats == [1, 0, 0, 0, 0, 1])
        #expect(ok[0].tensor?.shape == [3, 2])
        Self.expectError(.runtimeFailure, mentioning: "category") {
            _ = try Self.run("OneHotEncoder", ["cats_int64s": .ints([1, 3]), "zeros": .int(0)], [x])
        }
        Self.expectError(.invalidAttribute, mentioning: "cats_strings") {
            _ = try Self.run("OneHotEncoder", ["cats_int64s": .ints([1]), "cats_strings": .strings(["a"])], [x])
        }
    }

    @Test func arrayFeatureExtractorChecksIndices() throws {
        let x = try Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let out = try Self.run("ArrayFeatureExtractor", [:], [x, try Tensor(shape: [2], int64s: [2, 0])])
        #expect(out[0].tensor == (try Tensor(shape: [2, 2], floats: [3, 1, 6, 4])))
        Self.expectError(.runtimeFailure, mentioning: "out of range") {
            _ = try Self.run("ArrayFeatureExtractor", [:], [x, try Tensor(shape: [1], int64s: [3])])
        }
    }

    @Test func labelEncoderDefaultsAndNaNKeys() throws {
        let attributes: [String: Attribute] = [
            "keys_floats": .floats([.nan, 1]), "values_int64s": .ints([7, 8]), "default_int64": .int(-5),
        ]
        let x = try Tensor(shape: [3], floats: [.nan, 1, 2])
        // NaN keys match NaN from opset 4 on, never before (ONNX Runtime).
        #expect(try Self.run("LabelEncoder", opset: 4, attributes, [x])[0].tensor?.int64s == [7, 8, -5])
        #expect(try Self.run("LabelEncoder", opset: 2, attributes, [x])[0].tensor?.int64s == [-5, 8, -5])
        Self.expectError(.invalidAttribute, mentioning: "values_*") {
            _ = try Self.run(
                "LabelEncoder",
                opset: 2,
                ["keys_strings": .strings(["a", "b"]), "values_int64s": .ints([1])],
                [try Tensor(shape: [1], strings: ["a"])]
            )
        }
        Self.expectError(.invalidAttribute, mentioning: "keys_*") {
            _ = try Self.run(
                "LabelEncoder",
                opset: 2,
                ["keys_strings": .strings(["a"]), "values_int64s": .ints([1])],
                [try Tensor(shape: [1], int64s: [1])]
            )
        }
        Self.expectError(.invalidAttribute, mentioning: "keys_tensor") {
            _ = try Self.run(
                "LabelEncoder",
                opset: 2,
                ["keys_tensor": .tensor(Tensor(unchecked: [1], elements: [Int64(1)])), "values_int64s": .ints([1])],
                [try Tensor(shape: [1], int64s: [1])]
            )
        }
    }

    @Test func linearAndSVMRejectBadAttributes() {
        let x = try? Tensor(shape: [1, 2], floats: [1, 2])
        Self.expectError(.invalidAttribute, mentioning: "coefficients") {
            _ = try Self.run(
                "LinearClassifier",
                [
                    "coefficients": .floats([1, 2, 3]), "intercepts": .floats([0, 0]),
                    "classlabels_ints": .ints([0, 1]),
                ],
                [x!],
                outputs: 2
            )
        }
        Self.expectError(.runtimeFailure, mentioning: "features") {
            _ = try Self.run(
                "LinearRegressor",
                ["coefficients": .floats([1, 2, 3]), "targets": .int(1)],
                [x!]
            )
        }
        Self.expectError(.invalidAttribute, mentioning: "vectors_per_class") {
            _ = try Self.run(
                "SVMClassifier",
                [
                    "coefficients": .floats([1, 1]), "rho": .floats([0]), "vectors_per_class": .ints([1, 1, 1]),
                    "support_vectors": .floats([1, 2, 3, 4, 5, 6]), "classlabels_ints": .ints([0, 1]),
                ],
                [x!],
                outputs: 2
            )
        }
        Self.expectError(.invalidAttribute, mentioning: "kernel_type") {
            _ = try Self.run(
                "SVMRegressor",
                ["coefficients": .floats([1, 1]), "rho": .floats([0]), "kernel_type": .string("CUBIC")],
                [x!]
            )
        }
        Self.expectError(.invalidAttribute, mentioning: "prob_b") {
            _ = try Self.run(
                "SVMClassifier",
                [
                    "coefficients": .floats([1, 1]), "rho": .floats([0]), "vectors_per_class": .ints([1, 1]),
                    "support_vectors": .floats([1, 2, 3, 4]), "classlabels_ints": .ints([0, 1]),
                    "prob_a": .floats([1]),
                ],
                [x!],
                outputs: 2
            )
        }
    }

    @Test func preprocessingRejectsBadAttributes() {
        let x = try? Tensor(shape: [1, 2], floats: [1, 2])
        Self.expectError(.invalidAttribute, mentioning: "norm") {
            _ = try Self.run("Normalizer", ["norm": .string("L3")], [x!])
        }
        Self.expectError(.runtimeFailure, mentioning: "scale") {
            _ = try Self.run("Scaler", ["scale": .floats([1, 2, 3])], [x!])
        }
        Self.expectError(.invalidAttribute, mentioning: "imputed_value_floats") {
            _ = try Self.run("Imputer", [:], [x!])
        }
        Self.expectError(.invalidAttribute, mentioning: "inputdimensions") {
            _ = try Self.run("FeatureVectorizer", ["inputdimensions": .ints([1, 2])], [x!])
        }
        Self.expectError(.unsupportedOperator, mentioning: "input 0") {
            _ = try Self.run("Binarizer", [:], [try Tensor(shape: [1], strings: ["a"])])
        }
    }
}
