import Testing

@testable import SlipwayInference

@Suite struct TreeEnsembleTests {
    /// A legacy-encoded single tree: node 0 tests feature 0 against 1.0; true → leaf 1, false → leaf 2.
    static func stump(
        mode: String = "BRANCH_LEQ",
        missing: [Int]? = nil,
        weights: [Float] = [10, 20]
    ) -> [String: Attribute] {
        var a: [String: Attribute] = [
            "nodes_treeids": .ints([0, 0, 0]),
            "nodes_nodeids": .ints([0, 1, 2]),
            "nodes_featureids": .ints([0, 0, 0]),
            "nodes_modes": .strings([mode, "LEAF", "LEAF"]),
            "nodes_values": .floats([1, 0, 0]),
            "nodes_truenodeids": .ints([1, 0, 0]),
            "nodes_falsenodeids": .ints([2, 0, 0]),
            "target_ids": .ints([0, 0]),
            "target_nodeids": .ints([1, 2]),
            "target_treeids": .ints([0, 0]),
            "target_weights": .floats(weights),
            "n_targets": .int(1),
        ]
        if let missing { a["nodes_missing_value_tracks_true"] = .ints(missing) }
        return a
    }

    static func regress(_ attributes: [String: Attribute], _ x: [Float], opset: Int = 3) throws -> [Float] {
        let out = try runOperator(
            "TreeEnsembleRegressor",
            domain: onnxMLDomain,
            opset: opset,
            attributes: attributes,
            inputs: [try Tensor(shape: [x.count, 1], floats: x)]
        )
        return out[0].tensor?.floats ?? []
    }

    @Test func matchesOnnxRuntimeOnGeneratedCases() throws {
        let cases = try MLFixtureCase.load("tree_cases.json")
        #expect(cases.count > 100)
        for c in cases { try c.check() }
    }

    @Test func singleRowsMatchTheBatch() throws {
        // One row per call takes the row-by-row path; 12 rows per call the tree-major path.
        for c in try MLFixtureCase.load("tree_cases.json") {
            let x = c.inputs[0]
            let columns = x.shape[1]
            for row in [0, 5, 11] {
                let one: Tensor
                switch x.storage {
                case .float(let v):
                    one = try Tensor(shape: [1, columns], floats: Array(v[(row * columns)..<((row + 1) * columns)]))
                case .double(let v):
                    one = try Tensor(shape: [1, columns], doubles: Array(v[(row * columns)..<((row + 1) * columns)]))
                default: continue
                }
                let out = try runOperator(
                    c.op,
                    domain: onnxMLDomain,
                    opset: c.opset,
                    attributes: c.attributes,
                    inputs: [one],
                    outputCount: c.outputs.count
                )
                let scores = try #require(out.last?.tensor)
                let expected = try #require(c.outputs.last)
                let width = expected.shape[1]
                let slice: Tensor
                switch expected.storage {
                case .float(let v):
                    slice = try Tensor(shape: [1, width], floats: Array(v[(row * width)..<((row + 1) * width)]))
                case .double(let v):
                    slice = try Tensor(shape: [1, width], doubles: Array(v[(row * width)..<((row + 1) * width)]))
                default: continue
                }
                expectClose(scores, slice, "\(c.name) row \(row)")
            }
        }
    }

    @Test func everyModeComparesLikeOnnxRuntime() throws {
        let x: [Float] = [0.5, 1, 1.5, .nan]
        let expected: [String: [Float]] = [
            "BRANCH_LEQ": [10, 10, 20, 20],
            "BRANCH_LT": [10, 20, 20, 20],
            "BRANCH_GTE": [20, 10, 10, 20],
            "BRANCH_GT": [20, 20, 10, 20],
            "BRANCH_EQ": [20, 10, 20, 20],
            // NaN != 1 is true.
            "BRANCH_NEQ": [10, 20, 10, 10],
        ]
        for (mode, values) in expected {
            #expect(try Self.regress(Self.stump(mode: mode), x) == values, "\(mode)")
        }
    }

    @Test func missingValuesFollowTheTrueBranchOnlyWhenTracked() throws {
        #expect(try Self.regress(Self.stump(missing: [1, 0, 0]), [.nan, 2]) == [10, 20])
        #expect(try Self.regress(Self.stump(missing: [0, 0, 0]), [.nan, 2]) == [20, 20])
        #expect(try Self.regress(Self.stump(mode: "BRANCH_GT", missing: [1, 0, 0]), [.nan, 0]) == [10, 20])
    }

    @Test func aggregatesAndBaseValues() throws {
        // Two stumps: tree 0 gives 10/20, tree 1 gives 1/3.
        var a = Self.stump()
        a["nodes_treeids"] = .ints([0, 0, 0, 1, 1, 1])
        a["nodes_nodeids"] = .ints([0, 1, 2, 0, 1, 2])
        a["nodes_featureids"] = .ints([0, 0, 0, 0, 0, 0])
        a["nodes_modes"] = .strings(["BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"])
        a["nodes_values"] = .floats([1, 0, 0, 2, 0, 0])
        a["nodes_truenodeids"] = .ints([1, 0, 0, 1, 0, 0])
        a["nodes_falsenodeids"] = .ints([2, 0, 0, 2, 0, 0])
        a["target_ids"] = .ints([0, 0, 0, 0])
        a["target_nodeids"] = .ints([1, 2, 1, 2])
        a["target_treeids"] = .ints([0, 0, 1, 1])
        a["target_weights"] = .floats([10, 20, 1, 3])
        let x: [Float] = [0, 1.5, 3]
        a["aggregate_function"] = .string("SUM")
        #expect(try Self.regress(a, x) == [11, 21, 23])
        a["aggregate_function"] = .string("AVERAGE")
        #expect(try Self.regress(a, x) == [5.5, 10.5, 11.5])
        a["aggregate_function"] = .string("MIN")
        #expect(try Self.regress(a, x) == [1, 1, 3])
        a["aggregate_function"] = .string("MAX")
        a["base_values"] = .floats([100])
        #expect(try Self.regress(a, x) == [110, 120, 120])
    }

    @Test func binaryClassifierWithWeightsForOneClass() throws {
        var a = Self.stump()
        a["target_ids"] = nil
        a["target_nodeids"] = nil
        a["target_treeids"] = nil
        a["target_weights"] = nil
        a["n_targets"] = nil
        a["class_ids"] = .ints([0, 0])
        a["class_nodeids"] = .ints([1, 2])
        a["class_treeids"] = .ints([0, 0])
        a["classlabels_int64s"] = .ints([4, 9])
        let x = try Tensor(shape: [2, 1], floats: [0, 2])
        // All-positive weights: probability of the positive class, label when > 0.5.
        a["class_weights"] = .floats([0.25, 0.75])
        var out = try runOperator("TreeEnsembleClassifier", domain: onnxMLDomain, opset: 3, attributes: a, inputs: [x])
        #expect(out[0].tensor?.int64s == [4, 9])
        #expect(out[1].tensor?.floats == [0.75, 0.25, 0.25, 0.75])
        // Mixed signs with LOGISTIC: scores [sigmoid(-s), sigmoid(s)], label when s > 0.
        a["class_weights"] = .floats([-2, 1])
        a["post_transform"] = .string("LOGISTIC")
        out = try runOperator("TreeEnsembleClassifier", domain: onnxMLDomain, opset: 3, attributes: a, inputs: [x])
        #expect(out[0].tensor?.int64s == [4, 9])
        let z = out[1].tensor?.floats ?? []
        #expect(abs(z[0] - 0.880797) < 1e-5 && abs(z[1] - 0.119203) < 1e-5)
        #expect(abs(z[2] - 0.268941) < 1e-5 && abs(z[3] - 0.731059) < 1e-5)
        // Mixed signs without a transform: [-s, s].
        a["post_transform"] = .string("NONE")
        out = try runOperator("TreeEnsembleClassifier", domain: onnxMLDomain, opset: 3, attributes: a, inputs: [x])
        #expect(out[1].tensor?.floats == [2, -2, -1, 1])
        // Weights for class 1 only keep two score slots: ONNX Runtime reports [0, s].
        a["class_ids"] = .ints([1, 1])
        a["class_weights"] = .floats([0.25, 0.75])
        out = try runOperator("TreeEnsembleClassifier", domain: onnxMLDomain, opset: 3, attributes: a, inputs: [x])
        #expect(out[0].tensor?.int64s == [4, 9])
        #expect(out[1].tensor?.floats == [0, 0.25, 0, 0.75])
    }

    @Test func parallelRowsMatchSingleThread() throws {
        let cases = try MLFixtureCase.load("tree_cases.json")
        for c in cases where c.name.hasPrefix("classifier_1") || c.name.hasPrefix("regressor_3") {
            var big = c
            // 600 rows: the 12 fixture rows repeated.
            let x = c.inputs[0]
            let rows = 600
            let reps = rows / x.shape[0]
            switch x.storage {
            case .float(let v):
                big.inputs = [
                    try Tensor(shape: [rows, x.shape[1]], floats: Array([[Float]](repeating: v, count: reps).joined()))
                ]
            case .double(let v):
                big.inputs = [
                    try Tensor(
                        shape: [rows, x.shape[1]],
                        doubles: Array([[Double]](repeating: v, count: reps).joined())
                    )
                ]
            default: continue
            }
            let one = try runOperator(
                c.op,
                domain: onnxMLDomain,
                opset: c.opset,
                attributes: c.attributes,
                inputs: big.inputs,
                outputCount: c.outputs.count,
                threads: 1
            )
            let two = try runOperator(
                c.op,
                domain: onnxMLDomain,
                opset: c.opset,
                attributes: c.attributes,
                inputs: big.inputs,
                outputCount: c.outputs.count,
                threads: 2
            )
            for (a, b) in zip(one, two) {
                expectClose(a.tensor!, b.tensor!, "\(c.name) 1 vs 2 threads", rtol: 0, atol: 0)
            }
            // And every block of 12 rows agrees with the small run.
            let small = try runOperator(
                c.op,
                domain: onnxMLDomain,
                opset: c.opset,
                attributes: c.attributes,
                inputs: c.inputs,
                outputCount: c.outputs.count
            )
            let scores = try #require(small.last?.tensor)
            let tiled = try Tensor(
                shape: [rows, scores.shape[1]],
                floats: Array([[Float]](repeating: scores.floats ?? [], count: reps).joined())
            )
            expectClose(try #require(one.last?.tensor), tiled, "\(c.name) tiled", rtol: 0, atol: 0)
        }
    }

    @Test func treeEnsembleConformanceExamples() throws {
        // test_ai_onnx_ml_tree_ensemble_set_membership from the ONNX backend tests.
        let a: [String: Attribute] = [
            "n_targets": .int(4),
            "aggregate_function": .int(1),
            "membership_values": .tensor(
                Tensor(unchecked: [8], elements: [1.2, 3.7, 8, 9, .nan, 12, 7, .nan] as [Float])
            ),
            "post_transform": .int(0),
            "tree_roots": .ints([0]),
            "nodes_modes": .tensor(Tensor(unchecked: [3], elements: [0, 6, 6] as [Int32])),
            "nodes_featureids": .ints([0, 0, 0]),
            "nodes_splits": .tensor(Tensor(unchecked: [3], elements: [11, 232344, .nan] as [Float])),
            "nodes_trueleafs": .ints([0, 1, 1]),
            "nodes_truenodeids": .ints([1, 0, 1]),
            "nodes_falseleafs": .ints([1, 0, 1]),
            "nodes_falsenodeids": .ints([2, 2, 3]),
            "leaf_targetids": .ints([0, 1, 2, 3]),
            "leaf_weights": .tensor(Tensor(unchecked: [4], elements: [1, 10, 1000, 100] as [Float])),
        ]
        let x = try Tensor(shape: [6, 1], floats: [1.2, 3.4, -0.12, .nan, 12, 7])
        let out = try runOperator("TreeEnsemble", domain: onnxMLDomain, opset: 5, attributes: a, inputs: [x])
        #expect(
            out[0].tensor?.floats
                == [1, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 1000, 0, 0, 0, 1000, 0, 0, 10, 0, 0]
        )
    }

    @Test func treeEnsemblePostTransformsFollowTheSpecNumbering() throws {
        // Tree 0 (a stump) gives target 0 weight 1 when x <= 1 (else 2); tree 1 (a single leaf) gives target 1
        // weight 3.
        func run(_ transform: Int, aggregate: Int = 1) throws -> [Float] {
            let a: [String: Attribute] = [
                "n_targets": .int(2),
                "aggregate_function": .int(aggregate),
                "post_transform": .int(transform),
                "tree_roots": .ints([0, 1]),
                "nodes_modes": .tensor(Tensor(unchecked: [2], elements: [0, 0] as [Int32])),
                "nodes_featureids": .ints([0, 0]),
                "nodes_splits": .tensor(Tensor(unchecked: [2], elements: [1, 0] as [Float])),
                "nodes_trueleafs": .ints([1, 1]),
                "nodes_truenodeids": .ints([0, 1]),
                "nodes_falseleafs": .ints([1, 1]),
                "nodes_falsenodeids": .ints([2, 1]),
                "leaf_targetids": .ints([0, 1, 0]),
                "leaf_weights": .tensor(Tensor(unchecked: [3], elements: [1, 3, 2] as [Float])),
            ]
            let x = try Tensor(shape: [1, 1], floats: [0])
            return try runOperator("TreeEnsemble", domain: onnxMLDomain, opset: 5, attributes: a, inputs: [x])[0]
                .tensor?.floats ?? []
        }
        #expect(try run(0) == [1, 3])
        // 1 is SOFTMAX in the ONNX specification (ONNX Runtime swaps 1 and 2).
        let softmax = try run(1)
        #expect(abs(softmax[0] - 0.1192029) < 1e-6 && abs(softmax[1] - 0.8807971) < 1e-6)
        let logistic = try run(2)
        #expect(abs(logistic[0] - 0.7310586) < 1e-6 && abs(logistic[1] - 0.9525741) < 1e-6)
        // AVERAGE divides by the number of trees.
        #expect(try run(0, aggregate: 0) == [0.5, 1.5])
        #expect(throws: InferenceError.self) { try run(5) }
    }

    @Test func equalityModesWithMissingValues() throws {
        // EQ cannot be rewritten: NaN goes to the true branch only through the missing-value flag.
        #expect(try Self.regress(Self.stump(mode: "BRANCH_EQ", missing: [1, 0, 0]), [.nan, 1, 2]) == [10, 10, 20])
        #expect(try Self.regress(Self.stump(mode: "BRANCH_NEQ", missing: [1, 0, 0]), [.nan, 1, 2]) == [10, 20, 10])
        #expect(try Self.regress(Self.stump(mode: "BRANCH_LT", missing: [1, 0, 0]), [.nan, 1, 0]) == [10, 20, 10])
        #expect(try Self.regress(Self.stump(mode: "BRANCH_GTE", missing: [1, 0, 0]), [.nan, 1, 0]) == [10, 10, 20])
    }

    // MARK: Bad attributes

    static func expectAttributeError(
        _ attributes: [String: Attribute],
        mentioning text: String,
        op: String = "TreeEnsembleRegressor",
        opset: Int = 3
    ) {
        do {
            _ = try runOperator(
                op,
                domain: onnxMLDomain,
                opset: opset,
                attributes: attributes,
                inputs: [try Tensor(shape: [1, 1], floats: [0])]
            )
            Issue.record("expected an invalidAttribute error mentioning \(text)")
        } catch let error as InferenceError {
            #expect(error.code == .invalidAttribute, "\(error)")
            #expect(error.message.contains(text), "\(error.message) should mention \(text)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func rejectsMismatchedAttributeLengths() {
        var a = Self.stump()
        a["nodes_values"] = .floats([1, 0])
        Self.expectAttributeError(a, mentioning: "nodes_values")
        a = Self.stump()
        a["target_nodeids"] = .ints([1])
        Self.expectAttributeError(a, mentioning: "target_nodeids")
        a = Self.stump()
        a["nodes_missing_value_tracks_true"] = .ints([1])
        Self.expectAttributeError(a, mentioning: "nodes_missing_value_tracks_true")
    }

    @Test func rejectsDanglingNodeReferences() {
        var a = Self.stump()
        a["nodes_truenodeids"] = .ints([7, 0, 0])
        Self.expectAttributeError(a, mentioning: "nodes_truenodeids")
        a = Self.stump()
        a["target_nodeids"] = .ints([1, 5])
        Self.expectAttributeError(a, mentioning: "target_nodeids")
        a = Self.stump()
        a["target_ids"] = .ints([0, 3])
        Self.expectAttributeError(a, mentioning: "target_ids")
        a = Self.stump()
        a["nodes_truenodeids"] = .ints([0, 0, 0])
        Self.expectAttributeError(a, mentioning: "itself")
    }

    @Test func rejectsCycles() {
        // 0 → 1 → 0 (node 1 is a branch whose true child is the root).
        var a = Self.stump()
        a["nodes_modes"] = .strings(["BRANCH_LEQ", "BRANCH_LEQ", "LEAF"])
        a["nodes_truenodeids"] = .ints([1, 0, 0])
        a["nodes_falsenodeids"] = .ints([2, 2, 0])
        a["target_nodeids"] = .ints([2, 2])
        Self.expectAttributeError(a, mentioning: "cycle")
    }

    @Test func rejectsUnknownModes() {
        Self.expectAttributeError(Self.stump(mode: "BRANCH_XYZ"), mentioning: "nodes_modes")
        var a = Self.stump()
        a["aggregate_function"] = .string("MEDIAN")
        Self.expectAttributeError(a, mentioning: "aggregate_function")
        a = Self.stump()
        a["post_transform"] = .string("SIGMOID")
        Self.expectAttributeError(a, mentioning: "post_transform")
        a = Self.stump()
        a["nodes_values"] = .ints([1, 0, 0])
        Self.expectAttributeError(a, mentioning: "nodes_values")
    }

    @Test func rejectsBadTreeEnsembleAttributes() {
        let base: [String: Attribute] = [
            "n_targets": .int(1),
            "tree_roots": .ints([0]),
            "nodes_modes": .tensor(Tensor(unchecked: [1], elements: [0] as [Int32])),
            "nodes_featureids": .ints([0]),
            "nodes_splits": .tensor(Tensor(unchecked: [1], elements: [1] as [Float])),
            "nodes_trueleafs": .ints([1]),
            "nodes_truenodeids": .ints([0]),
            "nodes_falseleafs": .ints([1]),
            "nodes_falsenodeids": .ints([1]),
            "leaf_targetids": .ints([0, 0]),
            "leaf_weights": .tensor(Tensor(unchecked: [2], elements: [1, 2] as [Float])),
        ]
        var a = base
        a["nodes_modes"] = .tensor(Tensor(unchecked: [1], elements: [9] as [Int32]))
        Self.expectAttributeError(a, mentioning: "nodes_modes", op: "TreeEnsemble", opset: 5)
        a = base
        a["nodes_falsenodeids"] = .ints([2])
        Self.expectAttributeError(a, mentioning: "nodes_falsenodeids", op: "TreeEnsemble", opset: 5)
        a = base
        a["tree_roots"] = .ints([3])
        Self.expectAttributeError(a, mentioning: "tree_roots", op: "TreeEnsemble", opset: 5)
        a = base
        a["leaf_targetids"] = .ints([0, 1])
        Self.expectAttributeError(a, mentioning: "leaf_targetids", op: "TreeEnsemble", opset: 5)
        a = base
        a["nodes_modes"] = .tensor(Tensor(unchecked: [1], elements: [6] as [Int32]))
        Self.expectAttributeError(a, mentioning: "membership_values", op: "TreeEnsemble", opset: 5)
    }

    @Test func rejectsTooFewFeatureColumnsAtRuntime() throws {
        var a = Self.stump()
        a["nodes_featureids"] = .ints([3, 0, 0])
        #expect(throws: InferenceError.self) { try Self.regress(a, [1]) }
    }
}
