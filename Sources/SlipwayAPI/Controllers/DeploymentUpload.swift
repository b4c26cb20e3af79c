import Foundation
import Hummingbird
import MultipartKit
import NIOCore
import SlipwayRegistry

/// Reads a `multipart/form-data` deploy request as it streams in: the `model` part goes straight into an
/// artifact upload (hashed on the way, never held whole in memory), the other parts are small text fields.
struct DeploymentUpload {
    /// The largest total size of the text fields.
    static let maximumFieldBytes = 16 << 20
    /// The text fields a deploy accepts.
    static let fields: Set<String> = [
        "summary", "description", "format", "schema", "samples", "classes", "context", "params", "activate",
        "framework", "environment", "reference",
    ]

    /// What was read: the committed artifact and the metadata.
    struct Result {
        var artifact: StoredArtifact
        var input: DeploymentInput
    }

    /// Parse state shared with the parser's callbacks.
    private final class State {
        var headers: [String: String] = [:]
        var currentName: String?
        var isFile = false
        var fieldBytes: [UInt8] = []
        var totalFieldBytes = 0
        var fields: [String: String] = [:]
        var sink: (any UploadSink)?
        var sawModel = false
        var modelComplete = false
        var error: (any Error)?
    }

    /// Reads the request body into `store`; on any error nothing is left behind.
    static func read(_ request: Request, into store: any ArtifactStore) async throws -> Result {
        let form = try await self.readForm(request, fields: Self.fields) { ArtifactSink(try store.beginUpload()) }
        do {
            let input = try Self.input(from: form.fields)
            guard let sink = form.file as? ArtifactSink else {
                throw APIError.invalid("model", "the upload has no file part named 'model'")
            }
            let artifact = try sink.upload.commit()
            return Result(artifact: artifact, input: input)
        } catch {
            form.file.abort()
            throw error
        }
    }

    /// Reads a multipart body: the file part `model` streams into the sink `makeSink` opens, the other parts are
    /// small text fields (each named in `fields`). On any error the sink is aborted; on success the caller owns it.
    static func readForm(
        _ request: Request,
        fields allowed: Set<String>,
        filePart: String = "model",
        makeSink: @escaping () throws -> any UploadSink
    ) async throws -> (fields: [String: String], file: any UploadSink) {
        guard let contentType = request.headers[.contentType],
            contentType.lowercased().hasPrefix("multipart/form-data")
        else {
            throw APIError(
                .unsupportedMediaType,
                code: "unsupported_media_type",
                detail: "a deploy is a multipart/form-data upload with the model file in the part named 'model'"
            )
        }
        guard let boundary = Self.boundary(in: contentType) else {
            throw APIError.invalid("Content-Type", "the multipart Content-Type has no boundary parameter")
        }
        let state = State()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in
            state.headers[name.lowercased()] = value
        }
        parser.onBody = { buffer in
            guard state.error == nil else { return }
            if state.currentName == nil {
                state.currentName = Self.partName(state.headers["content-disposition"])
                state.isFile = state.currentName == filePart
                if state.isFile {
                    if state.sawModel {
                        state.error = APIError.invalid(filePart, "the upload holds more than one '\(filePart)' part")
                        return
                    }
                    state.sawModel = true
                    do {
                        state.sink = try makeSink()
                    } catch {
                        state.error = error
                        return
                    }
                }
            }
            if state.isFile {
                do {
                    try buffer.withUnsafeReadableBytes { try state.sink!.write($0) }
                } catch {
                    state.error = error
                }
            } else {
                state.totalFieldBytes += buffer.readableBytes
                if state.totalFieldBytes > Self.maximumFieldBytes {
                    state.error = APIError(
                        .contentTooLarge,
                        code: "payload_too_large",
                        detail: "the deploy's text fields exceed \(Self.maximumFieldBytes) bytes"
                    )
                    return
                }
                state.fieldBytes.append(contentsOf: buffer.readableBytesView)
            }
        }
        parser.onPartComplete = {
            guard state.error == nil else { return }
            let name = state.currentName ?? Self.partName(state.headers["content-disposition"])
            if name == filePart {
                if !state.sawModel {
                    // An empty file part: no body callback was made.
                    state.sawModel = true
                    do {
                        state.sink = try makeSink()
                    } catch {
                        state.error = error
                    }
                }
                state.modelComplete = true
            } else if let name {
                guard allowed.contains(name) else {
                    state.error = APIError.invalid(
                        name,
                        "'\(name)' is not a \(filePart == "model" ? "deploy" : "batch upload") field; expected the file part '\(filePart)' and any of: \(allowed.sorted().joined(separator: ", "))"
                    )
                    return
                }
                guard let text = String(validating: state.fieldBytes, as: UTF8.self) else {
                    state.error = APIError.invalid(name, "\(name) must be UTF-8 text")
                    return
                }
                state.fields[name] = text
            } else {
                state.error = APIError.invalid("body", "a multipart part has no name in its Content-Disposition header")
            }
            state.headers = [:]
            state.currentName = nil
            state.isFile = false
            state.fieldBytes = []
        }

        do {
            for try await buffer in request.body {
                try parser.execute(buffer)
                if let error = state.error { throw error }
            }
            if let error = state.error { throw error }
            guard state.sawModel, let sink = state.sink else {
                throw APIError.invalid(filePart, "the upload has no file part named '\(filePart)'")
            }
            guard state.modelComplete else {
                throw APIError.invalid(filePart, "the upload ended before the '\(filePart)' part was complete")
            }
            guard sink.size > 0 else {
                throw APIError.invalid(filePart, filePart == "model" ? "the model file is empty" : "the file is empty")
            }
            return (state.fields, sink)
        } catch {
            state.sink?.abort()
            if let error = error as? RegistryError { throw error }
            if error is APIError { throw error }
            if error is CancellationError { throw error }
            throw APIError.invalid("body", "the multipart body is malformed or was interrupted")
        }
    }

    static func input(from fields: [String: String]) throws -> DeploymentInput {
        var input = DeploymentInput(
            summary: fields["summary"],
            description: fields["description"] ?? "",
            format: fields["format"] ?? "onnx",
            schema: fields["schema"].flatMap { $0.isEmpty ? nil : $0 },
            samples: fields["samples"].flatMap { $0.isEmpty ? nil : $0 },
            classes: fields["classes"].flatMap { $0.isEmpty ? nil : $0 },
            context: fields["context"].flatMap { $0.isEmpty ? nil : $0 },
            params: fields["params"].flatMap { $0.isEmpty ? nil : $0 },
            reference: fields["reference"].flatMap { $0.isEmpty ? nil : $0 }
        )
        if let activate = fields["activate"] {
            switch activate.lowercased() {
            case "true", "1", "yes", "on": input.activate = true
            case "false", "0", "no", "off", "": input.activate = false
            default: throw APIError.invalid("activate", "activate must be true or false, got '\(activate)'")
            }
        }
        // TeachableHub's SDK sends its framework name; Slipway's formats are its own.
        if input.format == "onnx", let framework = fields["framework"], framework != "onnx", !framework.isEmpty {
            throw APIError.invalid(
                "framework",
                "framework '\(framework)' is not supported: Slipway deploys ONNX models (export with skl2onnx or onnxmltools)"
            )
        }
        return input
    }

    static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else {
                continue
            }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value.isEmpty || value.count > 200 ? nil : value
        }
        return nil
    }

    static func partName(_ disposition: String?) -> String? {
        guard let disposition else { return nil }
        for parameter in disposition.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "name" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }
}

/// Where the file part of a multipart upload goes as it streams in.
protocol UploadSink: AnyObject {
    /// Bytes written so far.
    var size: Int64 { get }
    /// Appends bytes; throws when a limit is passed.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Discards what was written. Safe to call more than once.
    func abort()
}

/// An upload straight into the artifact store.
final class ArtifactSink: UploadSink {
    let upload: any ArtifactUpload

    init(_ upload: any ArtifactUpload) {
        self.upload = upload
    }

    var size: Int64 { self.upload.size }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try self.upload.write(bytes) }
    func abort() { self.upload.abort() }
}
