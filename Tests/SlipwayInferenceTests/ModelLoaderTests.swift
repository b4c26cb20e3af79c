import Foundation
import Testing

@testable import SlipwayInference

@Suite struct ModelLoaderTests {
    /// X → Add(X, X) → Relu → Y.
    static func addRelu(opset: Int64 = 17, ir: Int64 = 8) -> ModelBuilder {
        var b = ModelBuilder(irVersion: ir, opsets: [("", opset)])
        b.input("X")
        b.node("Add", ["X", "X"], ["S"], name: "add")
        b.node("Relu", ["S"], ["Y"], name: "relu")
        b.output("Y")
        return b
    }

    static func expectError(_ code: InferenceError.Code, containing text: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error containing '\(text)'")
        } catch let error as InferenceError {
            #expect(error.code == code, "\(error)")
            #expect(error.message.contains(text), "message was: \(error.message)")
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test func loadsAndRunsASmallGraph() throws {
        let model = try Self.addRelu().load()
        #expect(model.inputs.map(\.name) == ["X"])
        #expect(model.inputs[0].shape == [.symbolic("N"), .fixed(2)])
        #expect(model.outputs.map(\.type) == [.tensor(.float)])
        #expect(model.operatorCounts.map(\.name) == ["Add", "Relu"])
        let out = try InferenceSession(model: model).run(["X": try Tensor(shape: [2, 2], floats: [1, -2, 3, -4])])
        #expect(out["Y"]?.tensor == (try Tensor(shape: [2, 2], floats: [2, 0, 6, 0])))
    }

    @Test func acceptsNodesOutOfOrderAndDomainsListedTwice() throws {
        var b = ModelBuilder(opsets: [("", 13), ("ai.onnx", 17)])
        b.input("X")
        b.node("Relu", ["S"], ["Y"])
        b.node("Add", ["X", "X"], ["S"])
        b.output("Y")
        let model = try b.load()
        #expect(model.opsets["ai.onnx"] == 17)
        let out = try InferenceSession(model: model).run(["X": try Tensor(shape: [1, 2], floats: [1, -1])])
        #expect(out["Y"]?.tensor?.floats == [2, 0])
    }

    @Test func acceptsEveryIRVersionFrom3() throws {
        for ir in Int64(3)...14 { _ = try Self.addRelu(ir: ir).load() }
        Self.expectError(.unsupportedModel, containing: "IR version 15") { _ = try Self.addRelu(ir: 15).load() }
        Self.expectError(.unsupportedModel, containing: "IR version 2") { _ = try Self.addRelu(ir: 2).load() }
    }

    @Test func rejectsOpsetsOutsideTheSupportedRange() {
        Self.expectError(.unsupportedModel, containing: "ai.onnx opset 29") { _ = try Self.addRelu(opset: 29).load() }
        Self.expectError(.unsupportedOperator, containing: "Add") { _ = try Self.addRelu(opset: 5).load() }
        var b = Self.addRelu()
        b.proto.opsetImport.append(
            {
                var o = Onnx_OperatorSetIdProto()
                o.domain = "ai.onnx.ml"
                o.version = 6
                return o
            }()
        )
        Self.expectError(.unsupportedModel, containing: "ai.onnx.ml opset 6") { _ = try b.load() }
    }

    @Test func namesTheUnknownOperatorDomainOpsetAndNode() {
        var b = ModelBuilder()
        b.input("X")
        b.node("FancyOp", ["X"], ["Y"], name: "n1")
        b.output("Y")
        Self.expectError(.unsupportedOperator, containing: "FancyOp node 'n1': operator ai.onnx.FancyOp (opset 17)") {
            _ = try b.load()
        }
        var c = ModelBuilder(opsets: [("", 17), ("com.microsoft", 1)])
        c.input("X")
        c.node("Gelu", ["X"], ["Y"], domain: "com.microsoft")
        c.output("Y")
        Self.expectError(.unsupportedOperator, containing: "com.microsoft.Gelu") { _ = try c.load() }
    }

    @Test func rejectsUndefinedInputsCyclesAndDuplicateOutputs() {
        var undefined = ModelBuilder()
        undefined.input("X")
        undefined.node("Add", ["X", "Z"], ["Y"], name: "add")
        undefined.output("Y")
        Self.expectError(.invalidGraph, containing: "reads 'Z'") { _ = try undefined.load() }

        var cycle = ModelBuilder()
        cycle.input("X")
        cycle.node("Add", ["X", "B"], ["A"], name: "a")
        cycle.node("Relu", ["A"], ["B"], name: "b")
        cycle.output("B")
        Self.expectError(.invalidGraph, containing: "cycle") { _ = try cycle.load() }

        var twice = ModelBuilder()
        twice.input("X")
        twice.node("Relu", ["X"], ["Y"])
        twice.node("Relu", ["X"], ["Y"])
        twice.output("Y")
        Self.expectError(.invalidGraph, containing: "already defined") { _ = try twice.load() }

        var missingOutput = ModelBuilder()
        missingOutput.input("X")
        missingOutput.node("Relu", ["X"], ["Y"])
        missingOutput.output("Q")
        Self.expectError(.invalidGraph, containing: "output 'Q'") { _ = try missingOutput.load() }
    }

    @Test func rejectsMistypedAttributesAndTypeMismatches() {
        var b = ModelBuilder()
        b.input("X")
        b.node("LeakyRelu", ["X"], ["Y"], name: "lr", attributes: [ModelBuilder.stringAttribute("alpha", "big")])
        b.output("Y")
        Self.expectError(.invalidAttribute, containing: "'alpha'") { _ = try b.load() }

        var mixed = ModelBuilder()
        mixed.input("X")
        mixed.input("I", .int64)
        mixed.node("Add", ["X", "I"], ["Y"], name: "add")
        mixed.output("Y")
        Self.expectError(.invalidGraph, containing: "add") { _ = try mixed.load() }

        var declared = Self.addRelu()
        declared.proto.graph.output[0] = ModelBuilder.valueInfo("Y", .int64, nil)
        Self.expectError(.invalidGraph, containing: "declared as tensor(int64)") { _ = try declared.load() }
    }

    @Test func rejectsUnsupportedElementTypesAndExternalData() {
        var b = ModelBuilder()
        b.proto.graph.input.append(
            {
                var vi = ModelBuilder.valueInfo("X", .float, [2])
                vi.type.tensorType.elemType = 10  // float16
                return vi
            }()
        )
        b.node("Relu", ["X"], ["Y"])
        b.output("Y")
        Self.expectError(.unsupportedModel, containing: "float16") { _ = try b.load() }

        var external = Self.addRelu()
        var w = (try! Tensor(shape: [2], floats: [1, 2])).makeTensorProto(name: "W")
        w.floatData = []
        w.dataLocation = .external
        var entry = Onnx_StringStringEntryProto()
        entry.key = "location"
        entry.value = "weights.bin"
        w.externalData = [entry]
        external.proto.graph.initializer.append(w)
        Self.expectError(.unsupportedModel, containing: "external data") { _ = try external.load() }
    }

    @Test func rejectsInitializersWhoseDataDoesNotMatchTheirDimensions() {
        var b = Self.addRelu()
        var w = (try! Tensor(shape: [2], floats: [1, 2])).makeTensorProto(name: "W")
        w.dims = [3]
        b.proto.graph.initializer.append(w)
        Self.expectError(.invalidModel, containing: "initializer 'W' holds 2 elements") { _ = try b.load() }
        var huge = Self.addRelu()
        var h = (try! Tensor(shape: [2], floats: [1, 2])).makeTensorProto(name: "H")
        h.dims = [1 << 40, 1 << 40]
        huge.proto.graph.initializer.append(h)
        Self.expectError(.invalidModel, containing: "initializer 'H'") { _ = try huge.load() }
    }

    @Test func namesMissingFilesAndDirectoriesByPath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = [
            (dir.appendingPathComponent("missing.onnx").path, "does not exist"),
            (dir.appendingPathComponent("missing/inner.onnx").path, "does not exist"),
            (dir.path, "is a directory"),
        ]
        for (path, text) in cases {
            do {
                _ = try ModelLoader.load(contentsOf: path)
                Issue.record("expected \(path) to be rejected")
            } catch let error as InferenceError {
                #expect(error.code == .invalidModel)
                #expect(error.message.contains(path) && error.message.contains(text), "\(error.message)")
            }
        }
        let empty = dir.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        #expect(throws: InferenceError.self) { try ModelLoader.load(contentsOf: empty.path) }
    }

    @Test func rejectsGarbageTruncatedAndBitFlippedFiles() throws {
        Self.expectError(.invalidModel, containing: "empty") { _ = try ModelLoader.load(bytes: []) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let garbage = (0..<Int.random(in: 1..<512, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            do { _ = try ModelLoader.load(bytes: garbage) } catch is InferenceError {}
        }
        let zoo = Fixtures.zoo.appendingPathComponent("breast_cancer_mlp/model.onnx")
        let bytes = try Fixtures.bytes(zoo)
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 150)) {
            do { _ = try ModelLoader.load(bytes: Array(bytes[..<cut])) } catch is InferenceError {}
        }
        for _ in 0..<300 {
            var flipped = bytes
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let i = Int.random(in: 0..<flipped.count, using: &generator)
                flipped[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
            }
            do {
                let model = try ModelLoader.load(bytes: flipped)
                // A model that loads must run or fail with an InferenceError, never crash.
                let session = InferenceSession(model: model)
                var inputs: [String: Tensor] = [:]
                for info in model.inputs {
                    if case .tensor(let t) = info.type {
                        let shape = (info.shape ?? [.unknown]).map { d -> Int in
                            if case .fixed(let n) = d { min(n, 64) } else { 1 }
                        }
                        inputs[info.name] = try Tensor.zeros(t, shape: shape)
                    }
                }
                _ = try? session.run(inputs, outputNames: nil)
            } catch is InferenceError {}
        }
    }
}

extension ModelLoaderTests {
    @Test func rejectsNodesThatDeclareMoreOutputsThanTheOperatorHas() {
        var b = ModelBuilder()
        b.input("X")
        b.node("Relu", ["X"], ["Y", "Z"], name: "r")
        b.output("Y")
        Self.expectError(.invalidGraph, containing: "declares 2 outputs, the operator produces 1") { _ = try b.load() }
    }
}
