import Foundation
import SlipwayInference
import Testing

@testable import SlipwayFormats

/// The engine's `SVMClassifier` (ai.onnx.ml, float32 like ONNX Runtime) given the same libsvm model as scikit-learn:
/// its Platt scaling and pairwise coupling reproduce scikit-learn's probabilities up to float32 precision. The
/// translator does not use it (it computes in float64 to stay within 1e-6), but both follow libsvm.
struct SVMClassifierCouplingTests {
    static func floats(_ name: String, _ values: [Double]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .floats
        a.floats = values.map { Float($0) }
        return a
    }

    static func flat(_ value: JSONValue?) -> [Double] {
        guard case .array(let rows) = value else { return [] }
        return rows.flatMap { row -> [Double] in
            if case .array = row { return Self.flat(row) }
            return SklearnFields.number(row).map { [$0] } ?? []
        }
    }

    @Test(arguments: ["svc_rbf_iris", "svc_rbf_breast_cancer", "svc_poly_iris", "svc_linear_iris"])
    func reproducesScikitLearnProbabilities(_ name: String) throws {
        let model = try JSONValue.parse(try TeachableSklearnTests.bytes(name, "model.json"))
        let expected = try JSONValue.parse(try TeachableSklearnTests.bytes(name, "expected.json"))
        let params = try #require(model["params"])
        guard case .string(let kernel) = params["kernel"], case .array(let classes) = model["classes_"] else {
            Issue.record("fixture without kernel or classes")
            return
        }
        let inputs = TeachableSklearnTests.rows(expected["inputs"])
        let features = inputs[0].count
        var g = GraphBuilder(name: "svc")
        g.input("input", .float, [nil, features])
        var attributes = [
            Self.floats(
                "kernel_params",
                [
                    SklearnFields.number(model["_gamma"] ?? .null) ?? 0,
                    SklearnFields.number(params["coef0"] ?? .null) ?? 0,
                    SklearnFields.number(params["degree"] ?? .null) ?? 0,
                ]
            ),
            GraphBuilder.ints("vectors_per_class", Self.flat(model["_n_support"]).map { Int($0) }),
            Self.floats("support_vectors", Self.flat(model["support_vectors_"])),
            Self.floats("coefficients", Self.flat(model["_dual_coef_"])),
            Self.floats("rho", Self.flat(model["_intercept_"])),
            Self.floats("prob_a", Self.flat(model["_probA"])),
            Self.floats("prob_b", Self.flat(model["_probB"])),
        ]
        var kernelType = Onnx_AttributeProto()
        kernelType.name = "kernel_type"
        kernelType.type = .string
        kernelType.s = Data(kernel.uppercased().utf8)
        attributes.append(kernelType)
        if case .string = classes[0] {
            var labels = Onnx_AttributeProto()
            labels.name = "classlabels_strings"
            labels.type = .strings
            labels.strings = classes.map { if case .string(let s) = $0 { Data(s.utf8) } else { Data() } }
            attributes.append(labels)
        } else {
            attributes.append(GraphBuilder.ints("classlabels_ints", Self.flat(model["classes_"]).map { Int($0) }))
        }
        var node = Onnx_NodeProto()
        node.opType = "SVMClassifier"
        node.domain = "ai.onnx.ml"
        node.input = ["input"]
        node.output = ["label", "probabilities"]
        node.attribute = attributes
        g.graph.node.append(node)
        let stringLabels = if case .string = classes[0] { true } else { false }
        g.output("label", stringLabels ? .string : .int64, [nil])
        g.output("probabilities", .float, [nil, classes.count])
        let bytes = try GraphBuilder.serialize(g.graph, docString: "SVMClassifier", mlOpset: 1)
        let session = InferenceSession(model: try ModelLoader.load(bytes: bytes))
        let x = try Tensor(shape: [inputs.count, features], floats: inputs.flatMap { $0.map(Float.init) })
        let outputs = try session.run(["input": x])
        let got = try #require(outputs["probabilities"]?.tensor?.floats)
        let want = Self.flat(expected["predict_proba"])
        let worst = zip(got, want).map { abs(Double($0) - $1) }.max() ?? 1
        #expect(got.count == want.count)
        // float32 kernels and coupling: within 1e-4 of scikit-learn's float64 (1e-6 needs the translator's float64)
        #expect(worst <= 1e-4, "\(name): SVMClassifier probabilities differ by \(worst)")
    }
}
