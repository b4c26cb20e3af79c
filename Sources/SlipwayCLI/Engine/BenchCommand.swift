import ArgumentParser
import Foundation
import SlipwayInference
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `slipway bench MODEL.onnx`: load time, latency per call and per row, and resident memory of a model.
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure load time, latency and memory of an ONNX model in the engine; prints JSON.",
        discussion: """
            Prints {"load_ms", "median_us_per_call", "p99_us_per_call", "us_per_row", "resident_bytes", …}. \
            Rows are random values valid for each input's type, or the rows of --request repeated to --rows.
            """
    )

    @Argument(help: "The .onnx model file.")
    var model: String

    @Option(help: "Rows per call.")
    var rows: Int = 1

    @Option(help: "Timed calls (after a warm-up of a tenth as many).")
    var iterations: Int = 1000

    @Option(help: "Threads one call may use.")
    var threads: Int = 1

    @Option(help: "An Open Inference Protocol request whose rows are repeated to --rows.")
    var request: String?

    public init() {}

    public func validate() throws {
        guard self.rows >= 1, self.rows <= 1_000_000 else {
            throw ValidationError("--rows must be between 1 and 1000000")
        }
        guard self.iterations >= 1, self.iterations <= 10_000_000 else {
            throw ValidationError("--iterations must be between 1 and 10000000")
        }
        guard self.threads >= 1, self.threads <= 256 else {
            throw ValidationError("--threads must be between 1 and 256")
        }
    }

    public func run() throws {
        try reportingErrors {
            // Load a one-node model first so that start-up costs of the loader (code pages, runtime metadata)
            // are not counted as the model's memory; the ONNX Runtime benchmark primes the same way.
            _ = try ModelLoader.load(bytes: primingModel())
            // Load several copies and keep them all: load_ms is the median load time and resident_bytes the
            // average resident growth per loaded copy (the ONNX Runtime benchmark measures the same way), so
            // one-time costs of a first load are not charged to the model.
            let copies = 5
            let before = residentBytes()
            var models: [Model] = []
            var loads: [Double] = []
            for _ in 0..<copies {
                let start = monotonicNanoseconds()
                models.append(try ModelLoader.load(contentsOf: self.model))
                loads.append(Double(monotonicNanoseconds() - start) / 1e6)
            }
            let resident = max(0, residentBytes() - before) / copies
            let firstLoad = loads[0]
            let model = models[0]
            loads.sort()

            let inputs: [String: Tensor]
            if let path = self.request {
                let request = try InferenceRequest.decode(readInput(path, what: "request"))
                inputs = try Dictionary(
                    uniqueKeysWithValues: request.inputs.map { ($0.name, try repeatRows($0.tensor, to: self.rows)) }
                )
            } else {
                inputs = try Dictionary(
                    uniqueKeysWithValues: model.inputs.map { ($0.name, try randomTensor($0, rows: self.rows)) }
                )
            }
            let session = InferenceSession(model: model, options: SessionOptions(threads: self.threads))
            for _ in 0..<max(1, self.iterations / 10) { _ = try session.run(inputs, outputNames: nil) }
            var samples = [Double]()
            samples.reserveCapacity(self.iterations)
            for _ in 0..<self.iterations {
                let t0 = monotonicNanoseconds()
                _ = try session.run(inputs, outputNames: nil)
                samples.append(Double(monotonicNanoseconds() - t0) / 1e3)
            }
            samples.sort()
            let median = samples[samples.count / 2]
            let p99 = samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))]
            let result: JSONValue = .object([
                ("model", .string(self.model)),
                ("engine", .string("slipway")),
                ("rows", .int(Int64(self.rows))),
                ("iterations", .int(Int64(self.iterations))),
                ("threads", .int(Int64(self.threads))),
                ("load_ms", .double(loads[loads.count / 2])),
                ("first_load_ms", .double(firstLoad)),
                ("median_us_per_call", .double(median)),
                ("p99_us_per_call", .double(p99)),
                ("us_per_row", .double(median / Double(self.rows))),
                ("resident_bytes", .int(Int64(resident))),
                ("file_bytes", .int(Int64(model.byteCount))),
            ])
            printLine(result.serialized())
        }
    }
}

/// A serialized one-node (Identity) ONNX model.
func primingModel() throws -> [UInt8] {
    var model = Onnx_ModelProto()
    model.irVersion = 8
    var opset = Onnx_OperatorSetIdProto()
    opset.version = 17
    model.opsetImport = [opset]
    var info = Onnx_ValueInfoProto()
    info.name = "x"
    info.type.tensorType.elemType = 1
    model.graph.input = [info]
    info.name = "y"
    model.graph.output = [info]
    var node = Onnx_NodeProto()
    node.opType = "Identity"
    node.input = ["x"]
    node.output = ["y"]
    model.graph.node = [node]
    return try model.serializedBytes()
}

/// The process's resident set size in bytes (Linux `/proc/self/statm`; 0 elsewhere).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A monotonic clock reading in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Random values valid for an input: the first variable dimension is the batch (`rows`), others are 1.
func randomTensor(_ info: ValueInfo, rows: Int) throws -> Tensor {
    guard let type = info.type.elementType else {
        throw InferenceError(.invalidInput, "input '\(info.name)' is not a tensor")
    }
    var shape: [Int] = []
    var batchUsed = false
    for d in info.shape ?? [.unknown, .unknown] {
        switch d {
        case .fixed(let n): shape.append(n)
        case .symbolic, .unknown:
            shape.append(batchUsed ? 1 : rows)
            batchUsed = true
        }
    }
    let n = try Tensor.elementCount(of: shape)
    var generator = SystemRandomNumberGenerator()
    let storage: Tensor.Storage =
        switch type {
        case .float: .float((0..<n).map { _ in Float.random(in: 0..<1, using: &generator) })
        case .double: .double((0..<n).map { _ in Double.random(in: 0..<1, using: &generator) })
        case .int64: .int64((0..<n).map { _ in Int64.random(in: 0..<4, using: &generator) })
        case .int32: .int32((0..<n).map { _ in Int32.random(in: 0..<4, using: &generator) })
        case .bool: .bool((0..<n).map { _ in Bool.random(using: &generator) })
        case .string: .string((0..<n).map { _ in "s\(Int.random(in: 0..<4, using: &generator))" })
        }
    return try Tensor(shape: shape, storage: storage)
}

/// Repeats the rows (first dimension) of a tensor cyclically to `rows` rows.
func repeatRows(_ tensor: Tensor, to rows: Int) throws -> Tensor {
    guard let have = tensor.shape.first, have > 0 else {
        throw InferenceError(.invalidRequest, "request tensors need at least one row to repeat")
    }
    let rowSize = tensor.count / have
    let shape = [rows] + tensor.shape.dropFirst()
    _ = try Tensor.elementCount(of: shape)
    func tile<T>(_ v: [T]) -> [T] {
        var out = [T]()
        out.reserveCapacity(rows * rowSize)
        for r in 0..<rows {
            let s = (r % have) * rowSize
            out.append(contentsOf: v[s..<s + rowSize])
        }
        return out
    }
    let storage: Tensor.Storage =
        switch tensor.storage {
        case .float(let v): .float(tile(v))
        case .double(let v): .double(tile(v))
        case .int64(let v): .int64(tile(v))
        case .int32(let v): .int32(tile(v))
        case .bool(let v): .bool(tile(v))
        case .string(let v): .string(tile(v))
        }
    return try Tensor(shape: shape, storage: storage)
}
