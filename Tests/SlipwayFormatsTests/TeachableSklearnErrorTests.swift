import Foundation
import SlipwayFormats
import SlipwayInference
import Testing

/// Bad model.json files: each is a `FormatError` naming the field and what was expected, never a crash.
struct TeachableSklearnErrorTests {
    static func error(_ json: String) -> String? {
        do {
            _ = try TeachableSklearn.translate(Array(json.utf8))
            return nil
        } catch let error as FormatError {
            return error.description
        } catch {
            return "unexpected \(type(of: error)): \(error)"
        }
    }

    static let logistic = """
        {"meta": "lr", "classes_": [0, 1, 2], "coef_": [[1, 2], [3, 4], [5, 6]], "intercept_": [0.1, 0.2, 0.3],
         "n_iter_": [10], "params": {"multi_class": "auto", "solver": "lbfgs"}}
        """

    static func logistic(replacing old: String, with new: String) -> String {
        Self.logistic.replacingOccurrences(of: old, with: new)
    }

    static let svc = """
        {"meta": "svm", "classes_": [0, 1], "support_vectors_": [[0, 1], [1, 0], [1, 1]], "_n_support": [2, 1],
         "_dual_coef_": [[0.5, -0.25, -0.25]], "_intercept_": [0.1], "_probA": [-1.5], "_probB": [0.1],
         "_gamma": 0.5, "params": {"kernel": "rbf", "degree": 3, "coef0": 0.0, "break_ties": false}}
        """

    @Test func acceptsTheHandWrittenModels() throws {
        #expect(Self.error(Self.logistic) == nil)
        #expect(Self.error(Self.svc) == nil)
        let translated = try TeachableSklearn.translate(Array(Self.logistic.utf8))
        #expect(translated.featureCount == 2)
        #expect(translated.estimator == "LogisticRegression")
    }

    @Test func rejectsWhatIsNotJSON() {
        #expect(Self.error("{\"meta\": ")?.hasPrefix("model.json is not valid JSON") == true)
        #expect(Self.error("")?.hasPrefix("model.json is not valid JSON") == true)
        #expect(Self.error("[1, 2]") == "model.json must be an object")
        #expect(Self.error("{}") == "field 'meta' is missing")
        #expect(Self.error("{\"meta\": 3}") == "field 'meta' must be a string, found a number")
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(Self.error(deep)?.hasPrefix("model.json is not valid JSON") == true)
    }

    @Test func namesUnsupportedEstimators() {
        let supported =
            "supported: LogisticRegression, Perceptron, LinearDiscriminantAnalysis, "
            + "QuadraticDiscriminantAnalysis, SVC, Ridge, Lasso"
        #expect(Self.error("{\"meta\": \"rf\"}") == "unsupported estimator 'RandomForestClassifier'; \(supported)")
        #expect(Self.error("{\"meta\": \"gaussian-nb\"}") == "unsupported estimator 'GaussianNB'; \(supported)")
        #expect(Self.error("{\"meta\": \"xgb\"}") == "unsupported estimator 'xgb'; \(supported)")
    }

    @Test func namesMissingAndMistypedFields() {
        #expect(Self.error(Self.logistic(replacing: "\"coef_\"", with: "\"coef\"")) == "field 'coef_' is missing")
        #expect(
            Self.error(Self.logistic(replacing: "[[1, 2], [3, 4], [5, 6]]", with: "\"abc\""))
                == "field 'coef_' must be an array of arrays of numbers, found a string"
        )
        #expect(
            Self.error(Self.logistic(replacing: "[[1, 2], [3, 4], [5, 6]]", with: "[[1, 2], [3, true], [5, 6]]"))
                == "field 'coef_[1][1]' must be a number, found a boolean"
        )
        #expect(
            Self.error(Self.logistic(replacing: "\"solver\": \"lbfgs\"", with: "\"solver\": null"))
                == "field 'params.solver' must be a string, found null"
        )
        #expect(
            Self.error(Self.logistic(replacing: "\"multi_class\": \"auto\"", with: "\"multi_class\": \"ova\""))
                == "field 'params.multi_class' is 'ova', expected auto, ovr or multinomial"
        )
        #expect(
            Self.error(Self.logistic(replacing: "[0.1, 0.2, 0.3]", with: "[0.1, NaN, 0.3]"))
                == "field 'intercept_[1]' must be finite, found nan"
        )
        #expect(
            Self.error(Self.logistic(replacing: "[0, 1, 2]", with: "[0, 1.5, 2]"))
                == "field 'classes_[1]' must be a whole number or a string, found a fractional number"
        )
    }

    @Test func namesInconsistentShapes() {
        #expect(
            Self.error(Self.logistic(replacing: "[[1, 2], [3, 4], [5, 6]]", with: "[[1, 2], [3, 4]]"))
                == "field 'coef_' has 2 rows, expected 3 (one per class for 3 classes)"
        )
        #expect(
            Self.error(Self.logistic(replacing: "[[1, 2], [3, 4], [5, 6]]", with: "[[1, 2], [3], [5, 6]]"))
                == "field 'coef_[1]' has 1 values, expected 2 like row 0"
        )
        #expect(
            Self.error(Self.logistic(replacing: "[0.1, 0.2, 0.3]", with: "[0.1]"))
                == "field 'intercept_' has 1 values, expected 3 (one per row of 'coef_')"
        )
        #expect(
            Self.error(Self.logistic(replacing: "[0, 1, 2]", with: "[0]"))
                == "field 'classes_' lists 1 classes, expected 2 to 10000"
        )
        #expect(
            Self.error(Self.logistic(replacing: "[0, 1, 2]", with: "[0, 1, 1]"))
                == "field 'classes_' lists a class twice"
        )
        #expect(
            Self.error(Self.svc.replacingOccurrences(of: "[2, 1]", with: "[2, 2]"))
                == "field '_n_support' must list 2 positive counts (one per class) adding up to the 3 rows of "
                + "'support_vectors_'"
        )
        #expect(
            Self.error(Self.svc.replacingOccurrences(of: "[[0.5, -0.25, -0.25]]", with: "[[0.5, -0.25]]"))
                == "field '_dual_coef_' is 1 × 2, expected 1 × 3 (classes - 1 × support vectors)"
        )
        #expect(
            Self.error(Self.svc.replacingOccurrences(of: "\"_probB\": [0.1]", with: "\"_probB\": []"))
                == "fields '_probA' and '_probB' have 1 and 0 values, expected 1 each (one per pair of classes), "
                + "or none for SVC(probability=False)"
        )
        #expect(
            Self.error(Self.svc.replacingOccurrences(of: "\"rbf\"", with: "\"precomputed\""))
                == "field 'params.kernel' is 'precomputed', expected linear, poly, rbf or sigmoid"
        )
        #expect(
            Self.error(
                Self.svc.replacingOccurrences(
                    of: "[[0, 1], [1, 0], [1, 1]]",
                    with: "{\"meta\": \"csr\", \"data\": [], \"indices\": [], \"indptr\": [], \"_shape\": [3, 2]}"
                )
            ) == "field 'support_vectors_' is a sparse matrix; SVC fitted on sparse data is not supported"
        )
    }

    @Test func rejectsAbsurdCounts() {
        #expect(
            Self.error(Self.svc.replacingOccurrences(of: "[2, 1]", with: "[1e300, 1]"))
                == "field '_n_support' must list 2 positive counts (one per class) adding up to the 3 rows of "
                + "'support_vectors_'"
        )
        let many = (0..<33).map(String.init).joined(separator: ", ")
        #expect(
            Self.error(Self.svc.replacingOccurrences(of: "\"classes_\": [0, 1]", with: "\"classes_\": [\(many)]"))
                == "field 'classes_' lists 33 classes, expected 2 to 32"
        )
        #expect(
            Self.error(
                Self.svc.replacingOccurrences(of: "\"degree\": 3", with: "\"degree\": 1e9")
                    .replacingOccurrences(of: "\"rbf\"", with: "\"poly\"")
            ) == "field 'params.degree' is 1000000000.0, expected a whole number from 0 to 32"
        )
    }

    @Test func rejectsAbsurdSizes() {
        let wide = "[" + Array(repeating: "0", count: 100_001).joined(separator: ",") + "]"
        #expect(
            Self.error("{\"meta\": \"ridge-regression\", \"coef_\": \(wide), \"intercept_\": 1.0, \"params\": {}}")
                == "field 'coef_' gives 100001 features, expected 1 to 100000"
        )
        let huge = [UInt8](repeating: 32, count: TeachableSklearn.maximumSize + 1)
        #expect(throws: FormatError.self) { try TeachableSklearn.translate(huge) }
        let qda = """
            {"meta": "qda", "classes_": [0, 1], "means_": [[0, 0], [1, 1]], "priors_": [0.5, 0.5],
             "scalings_": [[1, 0], [1, 1]], "rotations_": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]], "params": {}}
            """
        #expect(
            Self.error(qda)
                == "field 'scalings_[0]' must hold positive values (collinear variables?)"
        )
        #expect(Self.error(qda.replacingOccurrences(of: "[[1, 0], [1, 1]]", with: "[[1, 2], [1, 1]]")) == nil)
    }

    /// Truncated and corrupted copies of every fixture: a `FormatError` or a model that loads, nothing else.
    @Test func survivesDamagedFiles() throws {
        var generator = SeededGenerator(state: 0x9E37_79B9_7F4A_7C15)
        for name in TeachableSklearnTests.fixtures {
            let original = try TeachableSklearnTests.bytes(name, "model.json")
            var damaged: [[UInt8]] = [200, 1000, original.count / 2, original.count - 1].map {
                Array(original.prefix(min($0, original.count)))
            }
            for _ in 0..<20 {
                var copy = original
                let at = Int.random(in: 0..<copy.count, using: &generator)
                copy[at] = Array("0-9e.,[]{}\"x ".utf8).randomElement(using: &generator)!
                damaged.append(copy)
            }
            for bytes in damaged {
                do {
                    let translated = try TeachableSklearn.translate(bytes)
                    _ = try ModelLoader.load(bytes: translated.onnx)
                } catch is FormatError {
                    continue
                } catch {
                    Issue.record("\(name): \(type(of: error)): \(error)")
                }
            }
        }
    }
}

/// A fixed-seed xorshift generator, so that the damaged files are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state ^= self.state << 13
        self.state ^= self.state >> 7
        self.state ^= self.state << 17
        return self.state
    }
}
