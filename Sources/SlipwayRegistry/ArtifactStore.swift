import Foundation

/// Where deployment artifacts live, addressed by the SHA-256 of their bytes.
public protocol ArtifactStore: Sendable {
    /// Starts an upload into a temporary place. Nothing is visible until ``ArtifactUpload/commit()``.
    func beginUpload() throws(RegistryError) -> any ArtifactUpload
    /// The artifact's bytes, after checking them against `digest` (throws artifactCorrupt if they differ).
    func read(digest: String) throws(RegistryError) -> Data
    /// Whether an artifact with this digest is stored.
    func contains(digest: String) -> Bool
    /// Removes an artifact; removing a missing one does nothing.
    func delete(digest: String) throws(RegistryError)
}

/// An upload in progress: bytes are written to a temporary file and hashed on the way.
public protocol ArtifactUpload: AnyObject, Sendable {
    /// Bytes written so far.
    var size: Int64 { get }
    /// Appends bytes; throws payloadTooLarge past the store's limit (the upload is then aborted).
    func write(_ bytes: UnsafeRawBufferPointer) throws(RegistryError)
    /// Moves the bytes into place under their digest (a no-op move if identical bytes are already stored).
    func commit() throws(RegistryError) -> StoredArtifact
    /// Deletes the temporary file. Safe to call more than once, and after commit.
    func abort()
}

/// The outcome of a committed upload.
public struct StoredArtifact: Hashable, Sendable {
    /// SHA-256 of the bytes, hex-encoded.
    public var digest: String
    /// Size in bytes.
    public var size: Int64
    /// Whether these bytes were new to the store (false when identical bytes were already there).
    public var isNew: Bool

    /// Creates a value.
    public init(digest: String, size: Int64, isNew: Bool) {
        self.digest = digest
        self.size = size
        self.isNew = isNew
    }
}
