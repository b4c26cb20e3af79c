import Foundation
import Testing

@testable import SlipwayInference

/// Runs the real `slipway` executable (built next to the test bundle) as a user would.
@Suite struct EngineCommandTests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let iris = Self.root.appendingPathComponent("Tests/Fixtures/zoo/iris_random_forest/model.onnx").path
    static let irisRequest = Self.root.appendingPathComponent("examples/iris-request.json").path

    static var executable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("slipway")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return Self.root.appendingPathComponent(".build/debug/slipway")
    }

    static func slipway(_ arguments: [String], stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    @Test func inspectPrintsInputsOutputsAndOperatorsAsJSON() throws {
        let result = try Self.slipway(["inspect", Self.iris, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["ir_version"] == .int(10))
        #expect(json["producer"]?["name"] == .string("skl2onnx"))
        guard case .array(let inputs)? = json["inputs"], let input = inputs.first else {
            Issue.record("no inputs in \(result.stdout)")
            return
        }
        #expect(input["name"] == .string("input"))
        #expect(input["datatype"] == .string("FP32"))
        #expect(input["shape"] == .array([.null, .int(4)]))
        guard case .array(let operators)? = json["operators"] else {
            Issue.record("no operators")
            return
        }
        #expect(operators.contains { $0["name"] == .string("TreeEnsembleClassifier") && $0["count"] == .int(1) })
    }

    @Test func inspectPrintsText() throws {
        let result = try Self.slipway(["inspect", Self.iris])
        #expect(result.status == 0)
        #expect(result.stdout.contains("input  FP32  [?, 4]"))
        #expect(result.stdout.contains("ai.onnx.ml TreeEnsembleClassifier × 1"))
    }

    @Test func runPrintsAnInferenceResponse() throws {
        let result = try Self.slipway(["run", Self.iris, "--request", Self.irisRequest])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .array(let outputs)? = json["outputs"] else {
            Issue.record("no outputs in \(result.stdout)")
            return
        }
        #expect(outputs.first?["name"] == .string("output_label"))
        #expect(outputs.first?["data"] == .array([.int(0), .int(2)]))
        #expect(outputs.last?["shape"] == .array([.int(2), .int(3)]))
    }

    @Test func runReadsTheRequestFromStandardInputAndSelectsOutputs() throws {
        let request = """
            {"id": "r1", "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32",
             "data": [5.1, 3.5, NaN, null]}], "outputs": [{"name": "output_label"}]}
            """
        let result = try Self.slipway(["run", Self.iris, "--request", "-"], stdin: request)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["id"] == .string("r1"))
        guard case .array(let outputs)? = json["outputs"] else {
            Issue.record("no outputs")
            return
        }
        #expect(outputs.count == 1)
        #expect(outputs.first?["name"] == .string("output_label"))
    }

    @Test(arguments: [
        (
            #"{"inputs": [{"name": "nope", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}"#,
            "unknown input 'nope'"
        ),
        (#"{"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}"#, "expected 4"),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4]}]}"#,
            "element type int64, expected float"
        ),
        (#"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3]}]}"#, "holds 3 values"),
        (#"{"inputs": [{"name": "input", "shape": [99999999999, 4], "datatype": "FP32", "data": []}]}"#, "shape"),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP16", "data": [1, 2, 3, 4]}]}"#,
            "datatype 'FP16'"
        ),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": ["a", 2, 3, 4]}]}"#,
            "data[0] must be a number"
        ),
        (
            #"{"inputs": [{"name": "input", "shape": [0, 4], "datatype": "FP32", "data": []}], "extra": 1}"#,
            "unknown field 'extra'"
        ),
        (#"{"inputs": [ {"name": "input", "shape": [1, 4]"#, "invalid JSON"),
        (#"{}"#, "no 'inputs'"),
    ])
    func runRejectsBadRequestsWithOneLine(_ request: String, _ expected: String) throws {
        let result = try Self.slipway(["run", Self.iris, "--request", "-"], stdin: request)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(expected), "stderr was: \(result.stderr)")
        #expect(result.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1)
    }

    @Test func runRejectsABadModelWithOneLine() throws {
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-garbage-\(UUID()).onnx")
        try Data("this is not a model".utf8).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        let result = try Self.slipway(["run", garbage.path, "--request", Self.irisRequest])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("slipway: error: "))
        #expect(result.stderr.contains("not an ONNX model"))
        let missing = try Self.slipway(["inspect", "/nonexistent/model.onnx"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("does not exist"))
    }

    @Test func benchPrintsTheMeasurements() throws {
        let result = try Self.slipway(["bench", Self.iris, "--rows", "10", "--iterations", "20", "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        for key in ["load_ms", "median_us_per_call", "p99_us_per_call", "us_per_row"] {
            guard case .double(let v)? = json[key] else {
                Issue.record("missing \(key) in \(result.stdout)")
                continue
            }
            #expect(v > 0)
        }
        guard case .int(let resident)? = json["resident_bytes"] else {
            Issue.record("missing resident_bytes")
            return
        }
        #expect(resident >= 0)
        let bad = try Self.slipway(["bench", Self.iris, "--rows", "0"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--rows"))
    }
}
