import Foundation
import Testing

@testable import SlipwayRegistry

@Suite struct FileArtifactStoreTests {
    func makeStore(limit: Int64 = 1 << 20) throws -> (FileArtifactStore, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("artifacts-\(UUID().uuidString)")
        return (try FileArtifactStore(root: root, maximumSize: limit), root)
    }

    func upload(_ bytes: [UInt8], to store: FileArtifactStore, chunk: Int = 7) throws -> StoredArtifact {
        let upload = try store.beginUpload()
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            try bytes[offset..<end].withUnsafeBytes { try upload.write($0) }
            offset = end
        }
        return try upload.commit()
    }

    func files(in folder: URL) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }
    }

    @Test func storesBytesUnderTheirSHA256() throws {
        let (store, root) = try self.makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        let stored = try self.upload(Array("abc".utf8), to: store)
        #expect(stored.digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(stored.size == 3)
        #expect(stored.isNew)
        #expect(try store.read(digest: stored.digest) == Data("abc".utf8))
        #expect(try self.files(in: root.appendingPathComponent("tmp")).isEmpty)
    }

    @Test func storesIdenticalBytesOnce() throws {
        let (store, root) = try self.makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        let bytes = (0..<1000).map { UInt8($0 % 251) }
        let first = try self.upload(bytes, to: store)
        let second = try self.upload(bytes, to: store, chunk: 100)
        #expect(first.digest == second.digest)
        #expect(!second.isNew)
        #expect(try self.files(in: root.appendingPathComponent("objects")).count == 1)
        #expect(try self.files(in: root.appendingPathComponent("tmp")).isEmpty)
    }

    @Test func refusesOversizeUploadsAndLeavesNothing() throws {
        let (store, root) = try self.makeStore(limit: 10)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: RegistryError.self) { _ = try self.upload(Array(repeating: 1, count: 11), to: store) }
        #expect(try self.files(in: root).isEmpty)
    }

    @Test func abortedUploadsLeaveNothing() throws {
        let (store, root) = try self.makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        let upload = try store.beginUpload()
        try [UInt8](repeating: 9, count: 100).withUnsafeBytes { try upload.write($0) }
        upload.abort()
        upload.abort()
        #expect(try self.files(in: root).isEmpty)
    }

    @Test func detectsCorruptionOnRead() throws {
        let (store, root) = try self.makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        let stored = try self.upload(Array("model bytes".utf8), to: store)
        let path = try #require(store.path(for: stored.digest))
        try Data("tampered".utf8).write(to: path)
        do {
            _ = try store.read(digest: stored.digest)
            Issue.record("expected a corruption error")
        } catch {
            #expect(error.code == .artifactCorrupt)
        }
    }

    @Test(arguments: ["../../etc/passwd", "ABC", String(repeating: "g", count: 64), ""])
    func neverMapsBadDigestsToPaths(_ digest: String) {
        let store = try? self.makeStore().0
        #expect(store?.path(for: digest) == nil)
        #expect(store?.contains(digest: digest) == false)
    }

    @Test func removesTemporaryFilesLeftByEarlierRuns() throws {
        let (store, root) = try self.makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        let upload = try store.beginUpload()
        try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try upload.write($0) }
        #expect(try self.files(in: root.appendingPathComponent("tmp")).count == 1)
        _ = try FileArtifactStore(root: root)
        #expect(try self.files(in: root.appendingPathComponent("tmp")).isEmpty)
        upload.abort()
    }
}
