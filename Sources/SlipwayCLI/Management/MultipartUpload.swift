import Foundation
import NIOCore
import NIOPosix

/// A `multipart/form-data` body whose text fields are held in memory and whose one file part is streamed from
/// disk in chunks, so that a model of any size is uploaded without being read into memory whole.
///
/// ```swift
/// let upload = try MultipartUpload(fields: [("summary", "more trees")], fileField: "model", filePath: path)
/// request.headers.add(name: "Content-Type", value: upload.contentType)
/// request.body = .stream(upload.body(progress: nil), length: .known(Int64(upload.length)))
/// ```
struct MultipartUpload: Sendable {
    /// The bytes read from the file at a time.
    static let chunkSize = 256 << 10

    let boundary: String
    let head: [UInt8]
    let tail: [UInt8]
    let filePath: String
    let fileSize: Int

    /// Prepares the body.
    ///
    /// - Parameters:
    ///   - fields: the text fields, in order, sent before the file.
    ///   - fileField: the file part's field name.
    ///   - filePath: the file to stream; it must exist and be a regular file.
    ///   - boundary: the part boundary (random by default).
    init(
        fields: [(String, String)],
        fileField: String,
        filePath: String,
        boundary: String = "slipway-" + UUID().uuidString
    ) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: filePath, isDirectory: &isDirectory) else {
            throw ManagementFailure("the model file \(filePath) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw ManagementFailure("the model file \(filePath) is a directory, not a file")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: filePath)
        guard let size = (attributes[.size] as? NSNumber)?.intValue else {
            throw ManagementFailure("cannot read the size of the model file \(filePath)")
        }
        self.boundary = boundary
        self.filePath = filePath
        self.fileSize = size
        var head = ""
        for (name, value) in fields {
            head += "--\(boundary)\r\n"
            head += "Content-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n"
            head += value + "\r\n"
        }
        let filename = Self.quoted(URL(fileURLWithPath: filePath).lastPathComponent)
        head += "--\(boundary)\r\n"
        head += "Content-Disposition: form-data; name=\"\(Self.quoted(fileField))\"; filename=\"\(filename)\"\r\n"
        head += "Content-Type: application/octet-stream\r\n\r\n"
        self.head = Array(head.utf8)
        self.tail = Array("\r\n--\(boundary)--\r\n".utf8)
    }

    /// The request's `Content-Type` header value.
    var contentType: String { "multipart/form-data; boundary=\(self.boundary)" }

    /// The whole body's length in bytes.
    var length: Int { self.head.count + self.fileSize + self.tail.count }

    /// The body as a sequence of buffers; `progress` is told about every file chunk handed to the client.
    func body(progress: UploadProgress?) -> Chunks {
        Chunks(upload: self, progress: progress)
    }

    /// Escapes a value for a quoted header parameter: quotes, backslashes and line breaks cannot appear raw.
    static func quoted(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\"": out += "%22"
            case "\r", "\n": out += " "
            default: out.append(character)
            }
        }
        return out
    }

    /// The body's buffers: the head, the file in chunks, the tail.
    struct Chunks: AsyncSequence, Sendable {
        typealias Element = ByteBuffer

        let upload: MultipartUpload
        let progress: UploadProgress?

        func makeAsyncIterator() -> Iterator {
            Iterator(upload: self.upload, progress: self.progress)
        }

        /// Reads the file lazily, on NIO's blocking-I/O thread pool rather than the cooperative pool.
        struct Iterator: AsyncIteratorProtocol {
            enum Stage {
                case head
                case file(FileHandle, sent: Int)
                case tail
                case done
            }

            let upload: MultipartUpload
            let progress: UploadProgress?
            var stage = Stage.head

            init(upload: MultipartUpload, progress: UploadProgress?) {
                self.upload = upload
                self.progress = progress
            }

            mutating func next() async throws -> ByteBuffer? {
                switch self.stage {
                case .head:
                    let path = self.upload.filePath
                    let handle: FileHandle
                    do {
                        handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                    } catch {
                        throw ManagementFailure("cannot open the model file \(path): \(error.localizedDescription)")
                    }
                    self.stage = .file(handle, sent: 0)
                    return ByteBuffer(bytes: self.upload.head)
                case .file(let handle, let sent):
                    let remaining = self.upload.fileSize - sent
                    if remaining == 0 {
                        try? handle.close()
                        self.stage = .tail
                        return try await self.next()
                    }
                    let count = Swift.min(remaining, MultipartUpload.chunkSize)
                    let data: Data
                    do {
                        data = try await NIOThreadPool.singleton.runIfActive {
                            try handle.read(upToCount: count) ?? Data()
                        }
                    } catch {
                        try? handle.close()
                        throw ManagementFailure("cannot read the model file \(self.upload.filePath): \(error)")
                    }
                    guard !data.isEmpty else {
                        try? handle.close()
                        throw ManagementFailure(
                            "the model file \(self.upload.filePath) shrank while it was being uploaded"
                        )
                    }
                    self.stage = .file(handle, sent: sent + data.count)
                    self.progress?.advance(to: sent + data.count)
                    return ByteBuffer(bytes: data)
                case .tail:
                    self.stage = .done
                    return ByteBuffer(bytes: self.upload.tail)
                case .done:
                    return nil
                }
            }
        }
    }
}
