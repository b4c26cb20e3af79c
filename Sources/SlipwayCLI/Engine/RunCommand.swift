import ArgumentParser
import Foundation
import SlipwayInference

/// `slipway run MODEL.onnx --request REQUEST.json`: one Open Inference Protocol request through the engine.
public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an ONNX model on an Open Inference Protocol v2 request and print the v2 response.",
        discussion: """
            REQUEST is a v2 inference request body: {"inputs": [{"name", "shape", "datatype", "data"}], \
            "outputs"?: [{"name"}]}. `data` may be flat or nested; in FP32/FP64 data null, NaN, Infinity and \
            -Infinity stand for non-finite values. Use `-` to read the request from standard input.
            """
    )

    @Argument(help: "The .onnx model file.")
    var model: String

    @Option(help: "The request JSON file, or - for standard input.")
    var request: String

    @Option(help: "Threads one call may use.")
    var threads: Int = 1

    public init() {}

    public func run() throws {
        try reportingErrors {
            let model = try ModelLoader.load(contentsOf: self.model)
            let bytes = try readInput(self.request, what: "request")
            let request = try InferenceRequest.decode(bytes)
            let session = InferenceSession(model: model, options: SessionOptions(threads: self.threads))
            let outputs = try session.run(request.inputDictionary, outputNames: request.outputs)
            let name = URL(fileURLWithPath: self.model).deletingPathExtension().lastPathComponent
            printLine(InferenceResponse.encode(modelName: name, id: request.id, outputs: outputs).serialized())
        }
    }
}

/// Reads a file, or standard input for `-`, with a size limit (256 MiB).
func readInput(_ path: String, what: String) throws -> [UInt8] {
    let limit = 256 << 20
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard FileManager.default.fileExists(atPath: path) else {
            throw InferenceError(.invalidRequest, "\(what) file \(path) does not exist")
        }
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    }
    guard data.count <= limit else {
        throw InferenceError(.invalidRequest, "\(what) is \(data.count) bytes, larger than the 256 MiB limit")
    }
    return [UInt8](data)
}
