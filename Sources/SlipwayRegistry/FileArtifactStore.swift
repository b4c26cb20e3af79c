import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Artifacts in a local folder: `objects/ab/cdef…` named by SHA-256, uploads staged in `tmp/`.
///
/// Uploads stream to a temporary file while being hashed, and are renamed into place atomically, so a reader
/// never sees a partial artifact and an interrupted upload leaves only a temporary file, which ``abort()`` or
/// the next start removes. Identical bytes are stored once. Reads check the digest again.
///
/// ## Configuration
/// - `root`: the folder (created if missing).
/// - `maximumSize`: the largest artifact accepted, in bytes (default 2 GiB).
public struct FileArtifactStore: ArtifactStore {
    /// The folder holding `objects/` and `tmp/`.
    public let root: URL
    /// The largest artifact accepted, in bytes.
    public let maximumSize: Int64

    /// The default size limit: 2 GiB.
    public static let defaultMaximumSize: Int64 = 2 << 30

    /// Opens (creating if needed) a store in `root` and removes temporary files left by earlier runs.
    public init(root: URL, maximumSize: Int64 = Self.defaultMaximumSize) throws(RegistryError) {
        self.root = root
        self.maximumSize = maximumSize
        do {
            try FileManager.default.createDirectory(at: self.objectsFolder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: self.temporaryFolder, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: self.temporaryFolder.path) {
                try? FileManager.default.removeItem(at: self.temporaryFolder.appendingPathComponent(name))
            }
        } catch {
            throw RegistryError(
                .storageFailure,
                "cannot prepare the artifact folder \(root.path): \(error)",
                cause: error
            )
        }
    }

    var objectsFolder: URL { self.root.appendingPathComponent("objects", isDirectory: true) }
    var temporaryFolder: URL { self.root.appendingPathComponent("tmp", isDirectory: true) }

    /// Where an artifact with `digest` lives; `nil` unless `digest` is 64 lowercase hex characters.
    func path(for digest: String) -> URL? {
        guard digest.utf8.count == 64,
            digest.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        return self.objectsFolder
            .appendingPathComponent(String(digest.prefix(2)), isDirectory: true)
            .appendingPathComponent(String(digest.dropFirst(2)))
    }

    public func beginUpload() throws(RegistryError) -> any ArtifactUpload {
        try FileArtifactUpload(store: self)
    }

    public func read(digest: String) throws(RegistryError) -> Data {
        guard let path = self.path(for: digest) else {
            throw .invalid("digest", "artifact digest must be 64 lowercase hex characters")
        }
        let data: Data
        do {
            data = try Data(contentsOf: path)
        } catch {
            throw RegistryError(.notFound, "artifact \(digest) is not in the artifact store", cause: error)
        }
        let actual = SHA256.hash(data: data).hexString
        guard actual == digest else {
            throw RegistryError(.artifactCorrupt, "artifact \(digest) is corrupt: its bytes now hash to \(actual)")
        }
        return data
    }

    public func contains(digest: String) -> Bool {
        guard let path = self.path(for: digest) else { return false }
        return FileManager.default.fileExists(atPath: path.path)
    }

    public func delete(digest: String) throws(RegistryError) {
        guard let path = self.path(for: digest) else { return }
        do {
            try FileManager.default.removeItem(at: path)
        } catch CocoaError.fileNoSuchFile {
            return
        } catch {
            if !FileManager.default.fileExists(atPath: path.path) { return }
            throw RegistryError(.storageFailure, "cannot delete artifact \(digest): \(error)", cause: error)
        }
    }
}

extension Digest {
    var hexString: String { self.map { String(format: "%02x", $0) }.joined() }
}

/// An upload into a ``FileArtifactStore``.
///
/// `@unchecked Sendable`: every access to `state` holds `lock`. (`Mutex` cannot hold a closure that captures the
/// caller's non-Sendable buffer pointer.)
final class FileArtifactUpload: ArtifactUpload, @unchecked Sendable {
    private struct State {
        var descriptor: Int32
        var hasher = SHA256()
        var size: Int64 = 0
        var isFinished = false
    }

    private let store: FileArtifactStore
    private let temporaryPath: URL
    private let lock = NSLock()
    private var unsafeState: State

    init(store: FileArtifactStore) throws(RegistryError) {
        self.store = store
        self.temporaryPath = store.temporaryFolder.appendingPathComponent("upload-\(UUID().uuidString)")
        let descriptor = open(self.temporaryPath.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw RegistryError(
                .storageFailure,
                "cannot create a temporary file in \(store.temporaryFolder.path): \(String(cString: strerror(errno)))"
            )
        }
        self.unsafeState = State(descriptor: descriptor)
    }

    deinit { self.abort() }

    private func withState<R>(_ body: (inout State) -> R) -> R {
        self.lock.lock()
        defer { self.lock.unlock() }
        return body(&self.unsafeState)
    }

    var size: Int64 { self.withState { $0.size } }

    func write(_ bytes: UnsafeRawBufferPointer) throws(RegistryError) {
        let limit = self.store.maximumSize
        let result: RegistryError? = self.withState { state in
            guard !state.isFinished else {
                return RegistryError(.storageFailure, "the upload was already finished")
            }
            guard state.size + Int64(bytes.count) <= limit else {
                return RegistryError(
                    .payloadTooLarge,
                    "the artifact is larger than the limit of \(limit) bytes",
                    field: "model"
                )
            }
            state.hasher.update(bufferPointer: bytes)
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(state.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return RegistryError(
                        .storageFailure,
                        "cannot write the artifact: \(String(cString: strerror(errno)))"
                    )
                }
                offset += written
            }
            state.size += Int64(bytes.count)
            return nil
        }
        if let result {
            self.abort()
            throw result
        }
    }

    func commit() throws(RegistryError) -> StoredArtifact {
        let outcome: Result<(String, Int64), RegistryError> = self.withState { state in
            guard !state.isFinished else {
                return .failure(RegistryError(.storageFailure, "the upload was already finished"))
            }
            state.isFinished = true
            let synced = fsync(state.descriptor) == 0
            close(state.descriptor)
            guard synced else {
                return .failure(RegistryError(.storageFailure, "cannot flush the artifact to disk"))
            }
            return .success((state.hasher.finalize().hexString, state.size))
        }
        let (digest, size): (String, Int64)
        switch outcome {
        case .success(let value): (digest, size) = value
        case .failure(let error):
            try? FileManager.default.removeItem(at: self.temporaryPath)
            throw error
        }
        guard let destination = self.store.path(for: digest) else {
            try? FileManager.default.removeItem(at: self.temporaryPath)
            throw RegistryError(.storageFailure, "computed an invalid digest")
        }
        if FileManager.default.fileExists(atPath: destination.path) {
            try? FileManager.default.removeItem(at: self.temporaryPath)
            return StoredArtifact(digest: digest, size: size, isNew: false)
        }
        do {
            try FileManager.default.createDirectory(
                at: destination.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
        } catch {
            try? FileManager.default.removeItem(at: self.temporaryPath)
            throw RegistryError(.storageFailure, "cannot create \(destination.deletingLastPathComponent().path)")
        }
        guard rename(self.temporaryPath.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: self.temporaryPath)
            throw RegistryError(.storageFailure, "cannot move the artifact into place: \(reason)")
        }
        return StoredArtifact(digest: digest, size: size, isNew: true)
    }

    func abort() {
        let wasOpen = self.withState { state in
            defer { state.isFinished = true }
            if !state.isFinished { close(state.descriptor) }
            return !state.isFinished
        }
        if wasOpen { try? FileManager.default.removeItem(at: self.temporaryPath) }
    }
}
