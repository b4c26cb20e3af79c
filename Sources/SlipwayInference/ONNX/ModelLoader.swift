import Foundation
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads and validates ONNX models.
///
/// Loading parses the protobuf, checks the IR version and opsets, resolves every node to an operator of the
/// engine, checks attributes, orders the graph and infers element types: a model that loads can run.
public enum ModelLoader {
    /// The ONNX IR versions the loader accepts (3 up to the newest the `onnx` 1.23 package writes).
    public static let supportedIRVersions = 3...14
    /// The largest model file the loader reads (2 GiB, protobuf's own limit).
    public static let maximumByteCount = Int(Int32.max)

    /// Loads a model from a file.
    public static func load(contentsOf path: String) throws -> Model {
        // One stat() call: FileManager's attributesOfItem also resolves owner and group names (reading
        // /etc/passwd and /etc/group, milliseconds on a process's first call).
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno
            if reason == ENOENT || reason == ENOTDIR {
                throw InferenceError.invalidModel("model file \(path) does not exist")
            }
            throw InferenceError.invalidModel("cannot read model file \(path): \(String(cString: strerror(reason)))")
        }
        guard info.st_mode & S_IFMT != S_IFDIR else {
            throw InferenceError.invalidModel("\(path) is a directory, expected an .onnx file")
        }
        guard Int(info.st_size) <= Self.maximumByteCount else {
            throw InferenceError.unsupportedModel("\(path) is \(info.st_size) bytes, larger than the 2 GiB limit")
        }
        return try Self.load(data: try Self.readFile(path, size: Int(info.st_size)))
    }

    /// Reads a whole file into an exactly sized buffer with read(2). (`Data(contentsOf:)` kept about 120 KB
    /// resident per loaded model.)
    private static func readFile(_ path: String, size: Int) throws -> Data {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw InferenceError.invalidModel("cannot open model file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var data = Data(count: size)
        let complete = data.withUnsafeMutableBytes { buffer -> Bool in
            var offset = 0
            while offset < size {
                let n = read(fd, buffer.baseAddress! + offset, size - offset)
                if n <= 0 { return n == 0 && offset == size }
                offset += n
            }
            return true
        }
        guard complete else {
            throw InferenceError.invalidModel("cannot read model file \(path): \(String(cString: strerror(errno)))")
        }
        return data
    }

    /// Loads a model from the bytes of an `.onnx` file.
    public static func load(bytes: [UInt8]) throws -> Model {
        try Self.load(data: Data(bytes))
    }

    /// Loads a model from the bytes of an `.onnx` file.
    public static func load(data: Data) throws -> Model {
        guard !data.isEmpty else { throw InferenceError.invalidModel("the model file is empty") }
        guard data.count <= Self.maximumByteCount else {
            throw InferenceError.unsupportedModel("the model is \(data.count) bytes, larger than the 2 GiB limit")
        }
        let model = try Self.decodeAndLoad(data)
        #if canImport(Glibc)
        // Hand the decoded protobuf's freed pages back to the system: a loaded model should cost only what
        // its compiled form keeps.
        _ = glibcMallocTrim(0)
        #endif
        return model
    }

    /// Decodes and compiles the model; the decoded protobuf is released when this returns, before the caller
    /// trims the heap.
    private static func decodeAndLoad(_ data: Data) throws -> Model {
        let proto: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            proto = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw InferenceError.invalidModel("not an ONNX model: the protobuf does not parse (\(error))")
        }
        return try Self.load(proto: proto, byteCount: data.count)
    }

    static func load(proto: Onnx_ModelProto, byteCount: Int) throws -> Model {
        guard proto.hasIrVersion, proto.irVersion > 0 else {
            throw InferenceError.invalidModel("not an ONNX model: ir_version is missing")
        }
        guard Self.supportedIRVersions.contains(Int(proto.irVersion)) else {
            throw InferenceError.unsupportedModel(
                "ONNX IR version \(proto.irVersion) is not supported (supported: "
                    + "\(Self.supportedIRVersions.lowerBound) to \(Self.supportedIRVersions.upperBound))"
            )
        }
        guard proto.hasGraph else { throw InferenceError.invalidModel("the model has no graph") }

        var opsets: [String: Int] = [:]
        for entry in proto.opsetImport {
            let domain = entry.domain.isEmpty ? onnxDomain : entry.domain
            // A domain listed twice (some exporters do) counts with its highest version.
            opsets[domain] = max(opsets[domain] ?? 0, Int(clamping: entry.version))
        }
        if proto.opsetImport.isEmpty {
            // IR version 3 files may omit opset_import; ONNX then means ai.onnx opset 1.
            opsets[onnxDomain] = 1
        }
        for (domain, version) in opsets {
            guard let oldest = OperatorRegistry.oldestOpsets[domain],
                let newest = OperatorRegistry.newestOpsets[domain]
            else { continue }
            guard (oldest...newest).contains(version) else {
                throw InferenceError.unsupportedModel(
                    "\(domain) opset \(version) is not supported (supported: \(oldest) to \(newest))"
                )
            }
        }

        let compiler = GraphCompiler(registry: .standard, opsets: opsets)
        let result = try compiler.compile(proto.graph)
        let counts = compiler.operatorCounts.map { key, count in
            let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
            return OperatorCount(domain: parts[0], name: parts.count > 1 ? parts[1] : "", count: count)
        }.sorted { ($0.domain, $0.name) < ($1.domain, $1.name) }
        var allInputs: [String: ValueInfo] = [:]
        for vi in proto.graph.input {
            allInputs[vi.name] = try GraphCompiler.valueInfo(vi, what: "input '\(vi.name)'", required: true)
        }
        return Model(
            irVersion: Int(proto.irVersion),
            opsets: opsets,
            producerName: proto.producerName,
            producerVersion: proto.producerVersion,
            modelVersion: Int(clamping: proto.modelVersion),
            documentation: proto.docString,
            graphName: proto.graph.name,
            metadata: Dictionary(proto.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }),
            inputs: result.inputs,
            outputs: result.outputs,
            operatorCounts: counts,
            byteCount: byteCount,
            graph: result.graph,
            inputSlotIndex: result.inputSlots,
            defaultedInputs: result.defaultedInputs,
            allInputs: allInputs
        )
    }
}

#if canImport(Glibc)
/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
