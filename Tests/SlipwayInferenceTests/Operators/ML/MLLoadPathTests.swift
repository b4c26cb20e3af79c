import Foundation
import Testing

@testable import SlipwayInference

/// Attributes kept as the protobuf decoded them, and the packed LinearClassifier scores.
@Suite struct MLLoadPathTests {
    static func context(_ attributes: [String: Attribute]) -> NodeContext {
        NodeContext(
            name: "n",
            opType: "Op",
            domain: onnxMLDomain,
            opset: 1,
            attributes: attributes,
            inputTypes: [],
            constantInputs: [],
            outputCount: 1,
            compileSubgraph: { _, _ in throw InferenceError(.unsupportedModel, "no subgraphs") }
        )
    }

    static func proto(ints name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values
        return a
    }

    static func proto(strings name: String, _ values: [String]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .strings
        a.strings = values.map { Data($0.utf8) }
        return a
    }

    @Test func protoListsAreConvertedOnAccess() throws {
        let ints = try Self.proto(ints: "i", [1, -2, 3]).makeAttribute(node: "n")
        let strings = try Self.proto(strings: "s", ["LEAF", "BRANCH_LEQ", "é"]).makeAttribute(node: "n")
        #expect(ints.typeName == "ints")
        #expect(strings.typeName == "strings")
        let ctx = Self.context(["i": ints, "s": strings, "converted": .ints([4, 5])])
        #expect(try ctx.ints("i") == [1, -2, 3])
        #expect(try ctx.int64s("i") == [1, -2, 3])
        #expect(try ctx.int64s("converted") == [4, 5])
        #expect(try ctx.int64s("missing", default: [7]) == [7])
        #expect(try ctx.strings("s") == ["LEAF", "BRANCH_LEQ", "é"])
        #expect(try ctx.mappedStrings("s") { $0.count } == [4, 10, 2])
        #expect(try ctx.mappedStrings("missing") { $0.count } == nil)
        do {
            _ = try ctx.int64s("s")
            Issue.record("expected a type error")
        } catch let error as InferenceError {
            #expect(error.code == .invalidAttribute)
            #expect(error.message.contains("'s'") && error.message.contains("ints"), "\(error.message)")
        }
        do {
            _ = try ctx.mappedStrings("i") { $0.count }
            Issue.record("expected a type error")
        } catch let error as InferenceError {
            #expect(error.code == .invalidAttribute)
            #expect(error.message.contains("strings"), "\(error.message)")
        }
    }

    @Test func legacyModeNamesMapToTheirCodes() {
        let names = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "LEAF"]
        for (code, name) in names.enumerated() {
            var s = name
            #expect(s.withUTF8 { TreeEnsembleOperators.legacyModeCode(UnsafeRawBufferPointer($0)) } == Int8(code))
        }
        for bad in [
            "", "LEAF ", "leaf", "BRANCH_", "BRANCH_LTE", "BRANCH_XY", "BRANCX_LEQ", "BRANCH_LEQQ", "BRANCH_NE",
        ] {
            var s = bad
            #expect(s.withUTF8 { TreeEnsembleOperators.legacyModeCode(UnsafeRawBufferPointer($0)) } == -1, "\(bad)")
        }
    }

    @Test func legacyTreeModesAreReadFromProtoBytes() throws {
        // One tree: node 0 splits on feature 0 at 0.5 (mode given as protobuf bytes), leaves 1 and 2.
        var attributes: [String: Attribute] = [:]
        for a in [
            Self.proto(ints: "nodes_treeids", [0, 0, 0]),
            Self.proto(ints: "nodes_nodeids", [0, 1, 2]),
            Self.proto(ints: "nodes_featureids", [0, 0, 0]),
            Self.proto(strings: "nodes_modes", ["BRANCH_LT", "LEAF", "LEAF"]),
            Self.proto(ints: "nodes_truenodeids", [1, 0, 0]),
            Self.proto(ints: "nodes_falsenodeids", [2, 0, 0]),
            Self.proto(ints: "target_ids", [0, 0]),
            Self.proto(ints: "target_nodeids", [1, 2]),
            Self.proto(ints: "target_treeids", [0, 0]),
        ] {
            attributes[a.name] = try a.makeAttribute(node: "n")
        }
        attributes["nodes_values"] = .floats([0.5, 0, 0])
        attributes["target_weights"] = .floats([10, 20])
        let x = try Tensor(shape: [3, 1], floats: [0.25, 0.5, 0.75])
        let out = try runOperator(
            "TreeEnsembleRegressor",
            domain: onnxMLDomain,
            opset: 1,
            attributes: attributes,
            inputs: [x]
        )
        #expect(out[0].tensor?.floats == [10, 20, 20])
        attributes["nodes_modes"] = try Self.proto(strings: "nodes_modes", ["BRANCH_LTE", "LEAF", "LEAF"])
            .makeAttribute(node: "n")
        do {
            _ = try runOperator(
                "TreeEnsembleRegressor",
                domain: onnxMLDomain,
                opset: 1,
                attributes: attributes,
                inputs: [x]
            )
            Issue.record("expected an invalid mode error")
        } catch let error as InferenceError {
            #expect(error.code == .invalidAttribute)
            #expect(error.message.contains("BRANCH_LTE"), "\(error.message)")
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 8, 10, 12, 13, 16, 17, 21])
    func linearClassifierScoresMatchTheDotProducts(classes: Int) throws {
        for features in [1, 3, 64] {
            for (rows, threads) in [(3, 1), (300, 2)] {
                let weights = (0..<(classes * features)).map { Float(($0 * 7919) % 23) / 11 - 1 }
                let bias = (0..<classes).map { Float($0) / 10 }
                let x = (0..<(rows * features)).map { Float(($0 * 104_729) % 31) / 15 - 1 }
                let labels = (0..<Int64(max(classes, 2))).map { $0 * 3 }
                let out = try runOperator(
                    "LinearClassifier",
                    domain: onnxMLDomain,
                    opset: 1,
                    attributes: [
                        "coefficients": .floats(weights), "intercepts": .floats(bias),
                        "classlabels_ints": .ints(labels.map { Int($0) }),
                    ],
                    inputs: [try Tensor(shape: [rows, features], floats: x)],
                    outputCount: 2,
                    threads: threads
                )
                let width = classes == 1 ? 2 : classes
                let scores = try #require(out[1].tensor)
                #expect(scores.shape == [rows, width])
                let got = scores.floats ?? []
                let predicted = out[0].tensor?.int64s ?? []
                for n in 0..<rows {
                    var expected = [Float](repeating: 0, count: classes)
                    for c in 0..<classes {
                        var sum: Float = 0
                        for f in 0..<features { sum += x[n * features + f] * weights[c * features + f] }
                        expected[c] = sum + bias[c]
                    }
                    if classes == 1 {
                        #expect(abs(got[n * 2 + 1] - expected[0]) < 1e-4)
                        #expect(predicted[n] == (expected[0] > 0 ? labels[1] : labels[0]))
                        continue
                    }
                    for c in 0..<classes {
                        #expect(abs(got[n * classes + c] - expected[c]) < 1e-4, "row \(n) class \(c)")
                    }
                    let best = expected.indices.max { expected[$0] < expected[$1] } ?? 0
                    #expect(abs(expected[Int(predicted[n] / 3)] - expected[best]) < 1e-4)
                }
            }
        }
    }
}
