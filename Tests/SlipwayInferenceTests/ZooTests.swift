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
}
