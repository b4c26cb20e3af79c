import Foundation
import Testing

@testable import SlipwayInference

/// Runs every model of the zoo (`scripts/make-zoo.py`: scikit-learn, XGBoost and LightGBM exports) and compares
/// with ONNX Runtime's outputs: labels equal, scores within the model's tolerance (absolute or relative).
@Suite struct ZooTests {
    static let models: [String] = (try? Fixtures.directories(in: Fixtures.zoo)) ?? []

    @Test func zooIsPresent() {
        #expect(Self.models.count >= 40, "expected the committed model zoo under Tests/Fixtures/zoo")
    }

    @Test(arguments: Self.models)
    func matchesONNXRuntime(_ name: String) throws {
        let directory = Fixtures.zoo.appendingPathComponent(name)
        let expected = try JSONValue.parse(Fixtures.bytes(directory.appendingPathComponent("expected.json")))
        let model = try ModelLoader.load(contentsOf: directory.appendingPathComponent("model.onnx").path)
        let request = try InferenceRequest.decode(.object([("inputs", expected["inputs"] ?? .null)]))
        let tolerance =
            switch expected["tolerance"] {
            case .double(let d)?: d
            default: 1e-5
            }
        for threads in [1, 2] {
            let session = InferenceSession(model: model, options: SessionOptions(threads: threads))
            let outputs = try session.run(request.inputDictionary, outputNames: nil)
            guard case .array(let wanted)? = expected["outputs"] else {
                Issue.record("expected.json has no outputs")
                return
            }
            #expect(outputs.count == wanted.count)
            for (want, (name, value)) in zip(wanted, outputs) {
                guard case .string(let wantName)? = want["name"] else { continue }
                #expect(name == wantName)
                let got: Tensor
                var wantJSON = want
                if case .string("MAP")? = want["datatype"] {
                    guard case .mapSequence(let maps) = value else {
                        Issue.record("\(name): expected a sequence of maps, got \(value.type)")
                        continue
                    }
                    let keys: [JSONValue] =
                        switch maps.keys {
                        case .strings(let s): s.map { .string($0) }
                        case .int64s(let k): k.map { .int($0) }
                        }
                    #expect(JSONValue.array(keys) == want["keys"], "\(name): map keys differ")
                    got = maps.scores
                    wantJSON = .object([
                        ("name", .string(name)), ("datatype", .string("FP32")),
                        ("shape", want["shape"] ?? .null), ("data", want["data"] ?? .null),
                    ])
                } else {
                    guard let t = value.tensor else {
                        Issue.record("\(name): expected a tensor, got \(value.type)")
                        continue
                    }
                    got = t
                }
                let wantTensor = try InferenceRequest.decodeTensor(wantJSON, at: "expected \(name)").tensor
                if let why = compare(got, wantTensor, rtol: tolerance, atol: tolerance) {
                    Issue.record("\(name) (threads \(threads)): \(why)")
                }
            }
        }
    }

    /// Empty batches, non-finite values and wrong inputs: a result or a clear error, never a crash.
    @Test(arguments: Self.models)
    func handlesEmptyBatchesNonFiniteValuesAndWrongInputs(_ name: String) throws {
        let directory = Fixtures.zoo.appendingPathComponent(name)
        let model = try ModelLoader.load(contentsOf: directory.appendingPathComponent("model.onnx").path)
        let session = InferenceSession(model: model)
        func batch(_ rows: Int, fill: Double) throws -> [String: Tensor] {
            var inputs: [String: Tensor] = [:]
            for info in model.inputs {
                guard case .tensor(let type) = info.type else { continue }
                let shape = (info.shape ?? [.unknown, .unknown]).enumerated().map { i, d -> Int in
                    if case .fixed(let n) = d { return n }
                    return i == 0 ? rows : 1
                }
                let n = shape.reduce(1, *)
                let storage: Tensor.Storage =
                    switch type {
                    case .float: .float(Array(repeating: Float(fill), count: n))
                    case .double: .double(Array(repeating: fill, count: n))
                    case .int64: .int64(Array(repeating: 0, count: n))
                    case .int32: .int32(Array(repeating: 0, count: n))
                    case .bool: .bool(Array(repeating: false, count: n))
                    case .string: .string(Array(repeating: "unknown-category", count: n))
                    }
                inputs[info.name] = try Tensor(shape: shape, storage: storage)
            }
            return inputs
        }
        // An empty batch gives empty outputs.
        let empty = try session.run(batch(0, fill: 0), outputNames: nil)
        for (outputName, value) in empty {
            let rows = value.tensor?.shape.first ?? (value.tensor?.count ?? 0)
            if case .mapSequence(let maps) = value {
                #expect(maps.count == 0, "\(outputName) should be empty")
            } else {
                #expect(rows == 0, "\(outputName) should have no rows, has shape \(value.tensor?.shape ?? [])")
            }
        }
        // NaN and infinities flow through (or are rejected with an InferenceError).
        for fill in [Double.nan, .infinity, -.infinity] {
            do { _ = try session.run(batch(3, fill: fill), outputNames: nil) } catch is InferenceError {}
        }
        // Wrong names and element types are rejected, naming the input.
        let first = try #require(model.inputs.first)
        var wrong = try batch(1, fill: 0)
        let removed = wrong.removeValue(forKey: first.name)
        let tensor = try #require(removed)
        wrong["not_an_input"] = tensor
        #expect(throws: InferenceError.self) { try session.run(wrong, outputNames: nil) }
        var mistyped = try batch(1, fill: 0)
        mistyped[first.name] = try Tensor(shape: tensor.shape, bools: Array(repeating: true, count: tensor.count))
        do {
            _ = try session.run(mistyped, outputNames: nil)
            Issue.record("a bool tensor for \(first.name) was accepted")
        } catch let error as InferenceError {
            #expect(error.message.contains(first.name))
        }
    }
}
