import Foundation
import Testing

@testable import SlipwayInference

@Suite struct GraphFusionTests {
    /// A deterministic pseudo-random float generator (values in -2..<2).
    struct Numbers {
        var state: UInt64

        mutating func next() -> Float {
            self.state = self.state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(self.state >> 40) / Float(1 << 24) * 4 - 2
        }

        mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in self.next() } }
    }

    /// X → MatMul(W) → Add(B) → activation → Y; `exposeProduct` also makes the MatMul output a graph output,
    /// which must keep the nodes apart.
    static func denseLayer(
        k: Int,
        n: Int,
        activation: String?,
        biasShape: [Int]? = nil,
        biasFirst: Bool = false,
        exposeProduct: Bool = false,
        seed: UInt64 = 1
    ) throws -> ModelBuilder {
        var numbers = Numbers(state: seed)
        var b = ModelBuilder(opsets: [("", 17)])
        b.input("X", .float, nil)
        b.initializer("W", try Tensor(shape: [k, n], floats: numbers.floats(k * n)))
        b.initializer("B", try Tensor(shape: biasShape ?? [n], floats: numbers.floats(n)))
        b.node("MatMul", ["X", "W"], ["P"], name: "mm")
        b.node("Add", biasFirst ? ["B", "P"] : ["P", "B"], [activation == nil ? "Y" : "S"], name: "add")
        if let activation {
            let attributes = activation == "LeakyRelu" ? [ModelBuilder.floatAttribute("alpha", 0.3)] : []
            b.node(activation, ["S"], ["Y"], name: "act", attributes: attributes)
        }
        b.output("Y")
        if exposeProduct { b.output("P") }
        return b
    }

    static func run(_ model: Model, _ x: Tensor, threads: Int = 1) throws -> Tensor? {
        let session = InferenceSession(model: model, options: SessionOptions(threads: threads))
        return try session.run(["X": x])["Y"]?.tensor
    }

    @Test func fusedLayerMatchesSeparateNodes() throws {
        var numbers = Numbers(state: 7)
        for activation in [nil, "Relu", "Sigmoid", "Tanh", "LeakyRelu"] {
            for (k, n) in [(3, 1), (5, 2), (30, 64), (7, 12), (9, 5), (16, 8)] {
                for biasShape in [[n], [1, n]] {
                    let fused = try Self.denseLayer(k: k, n: n, activation: activation, biasShape: biasShape).load()
                    let separate = try Self.denseLayer(
                        k: k,
                        n: n,
                        activation: activation,
                        biasShape: biasShape,
                        exposeProduct: true
                    ).load()
                    #expect(fused.graph.steps.count == 1)
                    #expect(separate.graph.steps.count == (activation == nil ? 2 : 3))
                    for shape in [[1, k], [7, k], [300, k], [2, 3, k]] {
                        let x = try Tensor(shape: shape, floats: numbers.floats(shape.reduce(1, *)))
                        var results: [Tensor?] = []
                        for threads in [1, 2] {
                            let got = try Self.run(fused, x, threads: threads)
                            let want = try Self.run(separate, x, threads: threads)
                            #expect(got != nil && got == want, "\(activation ?? "none") k=\(k) n=\(n) \(shape)")
                            results.append(got)
                        }
                        // A row's result does not depend on how rows were split across threads.
                        #expect(results[0] == results[1])
                    }
                }
            }
        }
    }

    @Test func fusesABiasGivenAsTheFirstAddInput() throws {
        let fused = try Self.denseLayer(k: 4, n: 3, activation: "Relu", biasFirst: true).load()
        let separate = try Self.denseLayer(k: 4, n: 3, activation: "Relu", biasFirst: true, exposeProduct: true).load()
        #expect(fused.graph.steps.count == 1)
        let x = try Tensor(shape: [5, 4], floats: (0..<20).map { Float($0) * 0.37 - 3 })
        #expect(try Self.run(fused, x) == Self.run(separate, x))
    }

    @Test func keepsAOneDimensionalProductBroadcastByA2DBias() throws {
        let model = try Self.denseLayer(k: 2, n: 3, activation: nil, biasShape: [1, 3]).load()
        #expect(model.graph.steps.count == 1)
        let y = try Self.run(model, try Tensor(shape: [2], floats: [1, 2]))
        let separate = try Self.denseLayer(k: 2, n: 3, activation: nil, biasShape: [1, 3], exposeProduct: true).load()
        let want = try Self.run(separate, try Tensor(shape: [2], floats: [1, 2]))
        #expect(y?.shape == [1, 3])
        #expect(y == want)
    }

    @Test func doesNotFuseWhenTheProductIsAGraphOutput() throws {
        let model = try Self.denseLayer(k: 4, n: 3, activation: "Relu", exposeProduct: true).load()
        #expect(model.graph.steps.map(\.label) == ["MatMul node 'mm'", "Add node 'add'", "Relu node 'act'"])
    }

    @Test func doesNotFuseWhenTheProductHasTwoReaders() throws {
        var b = try Self.denseLayer(k: 4, n: 3, activation: "Relu")
        b.node("Neg", ["P"], ["Z"], name: "neg")
        b.output("Z")
        let model = try b.load()
        #expect(model.graph.steps.count == 4)
        #expect(model.graph.steps.contains { $0.label == "MatMul node 'mm'" })
    }

    @Test func leavesTheActivationOutWhenTheSumHasTwoReaders() throws {
        var b = try Self.denseLayer(k: 4, n: 3, activation: "Sigmoid")
        b.output("S")
        let model = try b.load()
        #expect(model.graph.steps.map(\.label) == ["MatMul node 'mm'", "Sigmoid node 'act'"])
        let x = try Tensor(shape: [2, 4], floats: (0..<8).map { Float($0) - 4 })
        let out = try InferenceSession(model: model).run(["X": x])
        let reference = try Self.denseLayer(k: 4, n: 3, activation: "Sigmoid", exposeProduct: true).load()
        let separate = try InferenceSession(model: reference).run(["X": x])
        #expect(out["Y"]?.tensor == separate["Y"]?.tensor)
    }

    @Test func doesNotFuseAnOverridableBias() throws {
        var b = try Self.denseLayer(k: 4, n: 3, activation: nil)
        b.input("B", .float, [3])
        let model = try b.load()
        #expect(model.graph.steps.count == 2)
    }

    @Test func countsTheModelsOwnOperators() throws {
        let model = try Self.denseLayer(k: 4, n: 3, activation: "Tanh").load()
        #expect(model.operatorCounts.map(\.name) == ["Add", "MatMul", "Tanh"])
        #expect(model.operatorCounts.allSatisfy { $0.domain == onnxDomain && $0.count == 1 })
    }

    @Test func runtimeErrorsNameTheMatMulNode() throws {
        let model = try Self.denseLayer(k: 4, n: 3, activation: "Relu").load()
        ModelLoaderTests.expectError(.runtimeFailure, containing: "MatMul node 'mm'") {
            _ = try Self.run(model, try Tensor(shape: [2, 5], floats: [Float](repeating: 1, count: 10)))
        }
    }

    @Test func loadErrorsNameTheMatMulNode() throws {
        var b = try Self.denseLayer(k: 4, n: 3, activation: "Relu")
        b.proto.graph.input[0] = ModelBuilder.valueInfo("X", .double, nil)
        ModelLoaderTests.expectError(.invalidGraph, containing: "MatMul 'mm' (ai.onnx opset 17): input 1") {
            _ = try b.load()
        }
    }

    @Test func rejectsTheInternalDomainInAModel() throws {
        var b = ModelBuilder(opsets: [("", 17), (GraphFusion.internalDomain, 17)])
        b.input("X", .float, [1, 2])
        b.initializer("W", try Tensor(shape: [2, 2], floats: [1, 2, 3, 4]))
        b.initializer("B", try Tensor(shape: [2], floats: [1, 2]))
        b.node(
            GraphFusion.fusedMatMul,
            ["X", "W", "B"],
            ["Y"],
            domain: GraphFusion.internalDomain,
            attributes: [ModelBuilder.stringAttribute("activation", "Relu")]
        )
        b.output("Y")
        ModelLoaderTests.expectError(.unsupportedOperator, containing: "unknown domain") { _ = try b.load() }
    }

    @Test func leavesTheInternalOperatorOutOfTheOperatorList() {
        let markdown = OperatorRegistry.standard.markdown()
        #expect(!markdown.contains(GraphFusion.fusedMatMul))
        #expect(!markdown.contains(GraphFusion.internalDomain))
        #expect(markdown.contains("| MatMul |"))
    }

    /// X → Scaler → MatMul → Add → Relu → Y (ai.onnx.ml imported); `expose` adds graph outputs that keep nodes apart.
    static func scaledLayer(
        k: Int,
        n: Int,
        offset: [Float],
        scale: [Float],
        input: ElementType = .float,
        expose: [String] = [],
        cast: Bool = false
    ) throws -> ModelBuilder {
        var numbers = Numbers(state: 3)
        var b = ModelBuilder(opsets: [("", 17), (onnxMLDomain, 1)])
        b.input("X", input, nil)
        b.initializer("W", try Tensor(shape: [k, n], floats: numbers.floats(k * n)))
        b.initializer("B", try Tensor(shape: [n], floats: numbers.floats(n)))
        var offsetAttribute = Onnx_AttributeProto()
        offsetAttribute.name = "offset"
        offsetAttribute.type = .floats
        offsetAttribute.floats = offset
        var scaleAttribute = Onnx_AttributeProto()
        scaleAttribute.name = "scale"
        scaleAttribute.type = .floats
        scaleAttribute.floats = scale
        b.node(
            "Scaler",
            ["X"],
            ["Z"],
            domain: onnxMLDomain,
            name: "scaler",
            attributes: [offsetAttribute, scaleAttribute]
        )
        if cast { b.node("Cast", ["Z"], ["C"], name: "cast", attributes: [ModelBuilder.intAttribute("to", 1)]) }
        b.node("MatMul", [cast ? "C" : "Z", "W"], ["P"], name: "mm")
        b.node("Add", ["P", "B"], ["S"], name: "add")
        b.node("Relu", ["S"], ["Y"], name: "act")
        b.output("Y")
        for name in expose { b.output(name) }
        return b
    }

    @Test func fusedScalerMatchesSeparateNodes() throws {
        var numbers = Numbers(state: 11)
        let k = 6
        for (offset, scale) in [([0.5], [2]), ([1, 2, 3, 4, 5, 6], [0.5]), ([], [1, -1, 2, -2, 3, -3])]
            as [([Float], [Float])]
        {
            let fused = try Self.scaledLayer(k: k, n: 20, offset: offset, scale: scale).load()
            let apart = try Self.scaledLayer(k: k, n: 20, offset: offset, scale: scale, expose: ["Z", "P"]).load()
            #expect(fused.graph.steps.count == 1)
            #expect(fused.graph.steps.first?.label == "MatMul node 'mm'")
            #expect(apart.graph.steps.count == 4)
            #expect(fused.operatorCounts.map(\.name) == ["Add", "MatMul", "Relu", "Scaler"])
            for shape in [[1, k], [5, k], [150, k], [k]] {
                let x = try Tensor(shape: shape, floats: numbers.floats(shape.reduce(1, *)))
                for threads in [1, 2] {
                    let got = try Self.run(fused, x, threads: threads)
                    let want = try Self.run(apart, x, threads: threads)
                    #expect(got != nil && got == want, "\(offset) \(scale) \(shape)")
                }
            }
        }
    }

    @Test func fusesAScalerBehindACastToFloat() throws {
        let fused = try Self.scaledLayer(k: 3, n: 4, offset: [1, 0, -1], scale: [3], cast: true).load()
        let apart = try Self.scaledLayer(k: 3, n: 4, offset: [1, 0, -1], scale: [3], expose: ["Z"], cast: true).load()
        #expect(fused.graph.steps.count == 1)
        #expect(apart.graph.steps.count == 2)  // Scaler, then the fused layer; the Cast runs no step.
        let x = try Tensor(shape: [2, 3], floats: [1, 2, 3, -4, 5, 6])
        let got = try Self.run(fused, x)
        let want = try Self.run(apart, x)
        #expect(got != nil && got == want)
    }

    @Test func fusedScalerConvertsOtherInputTypesLikeTheScaler() throws {
        let fused = try Self.scaledLayer(k: 3, n: 4, offset: [1], scale: [2], input: .int64).load()
        let apart = try Self.scaledLayer(k: 3, n: 4, offset: [1], scale: [2], input: .int64, expose: ["Z"]).load()
        #expect(fused.graph.steps.count == 1)
        let x = try Tensor(shape: [2, 3], int64s: [1, 2, 3, -4, 5, 6])
        let got = try InferenceSession(model: fused).run(["X": x])["Y"]?.tensor
        let want = try InferenceSession(model: apart).run(["X": x])["Y"]?.tensor
        #expect(got != nil && got == want)
    }

    @Test func fusedScalerReportsTheScalersErrors() throws {
        let model = try Self.scaledLayer(k: 3, n: 4, offset: [1, 2], scale: [2]).load()
        ModelLoaderTests.expectError(.runtimeFailure, containing: "attribute 'offset' has 2 values for 3 features") {
            _ = try Self.run(model, try Tensor(shape: [1, 3], floats: [1, 2, 3]))
        }
    }

    @Test func sameTypeCastsRunNoStep() throws {
        var b = ModelBuilder(opsets: [("", 17)])
        b.input("X", .int64, [nil, 2])
        b.node("Cast", ["X"], ["A"], name: "same", attributes: [ModelBuilder.intAttribute("to", 7)])
        b.node("Neg", ["A"], ["B"], name: "neg")
        b.node("Cast", ["B"], ["C"], name: "same2", attributes: [ModelBuilder.intAttribute("to", 7)])
        b.node("Cast", ["C"], ["D"], name: "toFloat", attributes: [ModelBuilder.intAttribute("to", 1)])
        b.output("C", .int64)
        b.output("D", .float)
        b.output("A", .int64)
        let model = try b.load()
        #expect(model.graph.steps.map(\.label) == ["Neg node 'neg'", "Cast node 'toFloat'"])
        #expect(model.operatorCounts.first { $0.name == "Cast" }?.count == 3)
        let x = try Tensor(shape: [1, 2], int64s: [3, -4])
        let out = try InferenceSession(model: model).run(["X": x])
        #expect(out["C"]?.tensor == (try Tensor(shape: [1, 2], int64s: [-3, 4])))
        #expect(out["D"]?.tensor == (try Tensor(shape: [1, 2], floats: [-3, 4])))
        #expect(out["A"]?.tensor == x)
    }

    /// X → three dense layers (Relu, none, Sigmoid) → Y; `expose` adds graph outputs that keep layers apart.
    static func threeLayers(widths: [Int], biasRank: Int = 1, expose: [String] = []) throws -> ModelBuilder {
        var numbers = Numbers(state: 5)
        var b = ModelBuilder(opsets: [("", 17)])
        b.input("X", .float, nil)
        var current = "X"
        for (l, activation) in ["Relu", "None", "Sigmoid"].enumerated() {
            let (k, n) = (widths[l], widths[l + 1])
            b.initializer("W\(l)", try Tensor(shape: [k, n], floats: numbers.floats(k * n)))
            b.initializer("B\(l)", try Tensor(shape: biasRank == 1 ? [n] : [1, n], floats: numbers.floats(n)))
            b.node("MatMul", [current, "W\(l)"], ["P\(l)"], name: "mm\(l)")
            let sum = activation == "None" ? "H\(l)" : "S\(l)"
            b.node("Add", ["P\(l)", "B\(l)"], [sum], name: "add\(l)")
            if activation != "None" { b.node(activation, [sum], ["H\(l)"], name: "act\(l)") }
            current = "H\(l)"
        }
        b.node("Identity", [current], ["Y"], name: "out")
        b.output("Y")
        for name in expose { b.output(name) }
        return b
    }

    @Test func chainsLayersThatFeedEachOther() throws {
        var numbers = Numbers(state: 13)
        for biasRank in [1, 2] {
            let widths = [7, 20, 9, 1]
            let chained = try Self.threeLayers(widths: widths, biasRank: biasRank).load()
            let apart = try Self.threeLayers(widths: widths, biasRank: biasRank, expose: ["H0", "H1"]).load()
            #expect(chained.graph.steps.map(\.label) == ["MatMul node 'mm0'", "Identity node 'out'"])
            #expect(apart.graph.steps.count == 4)
            for shape in [[1, 7], [3, 7], [200, 7], [2, 3, 7], [7]] {
                let x = try Tensor(shape: shape, floats: numbers.floats(shape.reduce(1, *)))
                for threads in [1, 2] {
                    let got = try Self.run(chained, x, threads: threads)
                    let want = try Self.run(apart, x, threads: threads)
                    #expect(got != nil && got == want, "bias rank \(biasRank) \(shape)")
                }
            }
        }
    }

    @Test func chainStopsAtAnExposedLayer() throws {
        let model = try Self.threeLayers(widths: [4, 8, 8, 2], expose: ["H1"]).load()
        #expect(model.graph.steps.map(\.label) == ["MatMul node 'mm0'", "MatMul node 'mm2'", "Identity node 'out'"])
        ModelLoaderTests.expectError(.runtimeFailure, containing: "MatMul node 'mm0'") {
            _ = try Self.run(model, try Tensor(shape: [1, 5], floats: [1, 2, 3, 4, 5]))
        }
    }
}
