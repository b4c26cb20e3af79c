import Foundation
import HTTPTypes
import ZIPFoundation

/// Reads the model out of the zip TeachableHub's SDK uploads, entirely in memory: no name from the zip ever
/// reaches the file system.
///
/// The zip must hold plain files at its top level (the SDK writes `model.json` there). Entries are bounded in
/// number and in the bytes they really inflate to, whatever their headers claim, so a zip bomb stops at the limit.
struct TeachableHubArchive {
    /// The most entries a zip may hold.
    static let maximumEntries = 64

    /// The file a framework's zip must hold.
    enum Wanted {
        /// Exactly this top-level file name (`model.json`).
        case named(String)
        /// The one top-level file with this extension (`.onnx`).
        case suffix(String)
    }

    let archive: Archive
    let maximumBytes: Int

    /// Opens the zip file at `url` (a temporary file the server named itself).
    init(url: URL, maximumBytes: Int) throws {
        do {
            self.archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw APIError.invalid("model", "the model part is not a zip archive (the SDK uploads a zip)")
        }
        self.maximumBytes = maximumBytes
    }

    /// The top-level file names, after checking every entry.
    func fileNames() throws -> [String] {
        var names: [String] = []
        for entry in self.archive {
            guard names.count < Self.maximumEntries else {
                throw APIError.invalid("model", "the zip holds more than \(Self.maximumEntries) entries")
            }
            let path = entry.path
            guard entry.type == .file else {
                throw APIError.invalid(
                    "model",
                    "the zip entry '\(Self.printable(path))' is a \(entry.type == .directory ? "folder" : "link"); the zip must hold plain files at its top level"
                )
            }
            guard Self.isPlainName(path) else {
                throw APIError.invalid(
                    "model",
                    "the zip entry '\(Self.printable(path))' is not at the top level; the zip must hold plain files at its top level"
                )
            }
            guard !names.contains(path) else {
                throw APIError.invalid("model", "the zip holds '\(Self.printable(path))' twice")
            }
            names.append(path)
        }
        return names
    }

    /// The bytes of the wanted file, inflated in memory up to ``maximumBytes``.
    func read(_ wanted: Wanted, framework: String) throws -> (name: String, bytes: [UInt8]) {
        let names = try self.fileNames()
        let listing = names.isEmpty ? "it is empty" : "it holds \(names.map(Self.printable).joined(separator: ", "))"
        let name: String
        switch wanted {
        case .named(let expected):
            guard names.contains(expected) else {
                throw APIError.invalid(
                    "model",
                    "the zip holds no \(expected) (framework '\(framework)' expects \(expected) at its top level); \(listing)"
                )
            }
            name = expected
        case .suffix(let suffix):
            let found = names.filter { $0.lowercased().hasSuffix(suffix) }
            guard found.count == 1 else {
                throw APIError.invalid(
                    "model",
                    "framework '\(framework)' expects exactly one \(suffix) file at the top level of the zip; \(listing)"
                )
            }
            name = found[0]
        }
        guard let entry = self.archive[name] else {
            throw APIError.invalid("model", "the zip entry '\(Self.printable(name))' cannot be read")
        }
        guard entry.uncompressedSize <= UInt64(self.maximumBytes) else {
            throw Self.tooLarge(name, self.maximumBytes)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(min(entry.uncompressedSize, 64 << 20)))
        let limit = self.maximumBytes
        do {
            _ = try self.archive.extract(entry, skipCRC32: false) { chunk in
                guard bytes.count + chunk.count <= limit else { throw Self.tooLarge(name, limit) }
                bytes.append(contentsOf: chunk)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.invalid("model", "the zip entry '\(Self.printable(name))' is corrupt: \(error)")
        }
        guard !bytes.isEmpty else {
            throw APIError.invalid("model", "the zip entry '\(Self.printable(name))' is empty")
        }
        return (name, bytes)
    }

    static func tooLarge(_ name: String, _ limit: Int) -> APIError {
        APIError(
            .contentTooLarge,
            code: "payload_too_large",
            detail: "the zip entry '\(Self.printable(name))' inflates to more than \(limit) bytes",
            field: "model"
        )
    }

    /// A name with no folder part, no parent reference and no control characters.
    static func isPlainName(_ path: String) -> Bool {
        !path.isEmpty && path.utf8.count <= 255 && path != "." && path != ".." && !path.contains("/")
            && !path.contains("\\") && !path.contains(":") && !path.unicodeScalars.contains { $0.value < 0x20 }
    }

    /// A name as error messages quote it: at most 100 characters, control characters replaced.
    static func printable(_ name: String) -> String {
        let cleaned = String(String.UnicodeScalarView(name.unicodeScalars.map { $0.value < 0x20 ? "?" : $0 }))
        return cleaned.count > 100 ? String(cleaned.prefix(100)) + "…" : cleaned
    }
}

/// A bounded temporary file for an upload the server must read back before storing anything (the SDK's zip).
///
/// The file lives in the system's temporary folder under a name the server makes up, and is removed by
/// ``abort()`` (callers call it once done, on success as on failure).
final class TemporaryFileSink: UploadSink {
    let url: URL
    let maximumBytes: Int64
    private let handle: FileHandle
    private(set) var size: Int64 = 0
    private var isClosed = false

    init(maximumBytes: Int64) throws {
        self.url = FileManager.default.temporaryDirectory
            .appendingPathComponent("slipway-upload-\(UUID().uuidString.lowercased()).zip")
        guard FileManager.default.createFile(atPath: self.url.path, contents: nil),
            let handle = try? FileHandle(forWritingTo: self.url)
        else {
            throw APIError(
                .serviceUnavailable,
                code: "unavailable",
                detail: "the server cannot write a temporary file for the upload; try again later"
            )
        }
        self.handle = handle
        self.maximumBytes = maximumBytes
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard self.size + Int64(bytes.count) <= self.maximumBytes else {
            throw APIError(
                .contentTooLarge,
                code: "payload_too_large",
                detail: "the model upload is larger than the limit of \(self.maximumBytes) bytes",
                field: "model"
            )
        }
        try self.handle.write(contentsOf: Data(bytes))
        self.size += Int64(bytes.count)
    }

    /// Flushes and closes the file so it can be read.
    func close() throws {
        guard !self.isClosed else { return }
        self.isClosed = true
        try self.handle.close()
    }

    func abort() {
        try? self.close()
        try? FileManager.default.removeItem(at: self.url)
    }
}
