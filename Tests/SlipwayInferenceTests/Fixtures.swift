import Foundation

/// Locations of the test fixtures in the repository.
enum Fixtures {
    /// `Tests/Fixtures`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// ONNX's backend node test cases, written by `scripts/export-onnx-node-tests.py` (not committed).
    static var onnxNodeTests: URL {
        if let path = ProcessInfo.processInfo.environment["SLIPWAY_ONNX_NODE_TESTS"] {
            return URL(fileURLWithPath: path)
        }
        return Self.root.appendingPathComponent("onnx-node")
    }

    /// The model zoo written by `scripts/make-zoo.py` (committed).
    static let zoo = Self.root.appendingPathComponent("zoo")

    /// The bytes of a file.
    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// Sorted names of the subdirectories of `url`.
    static func directories(in url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(
                atPath: url.appendingPathComponent(name).path,
                isDirectory: &isDirectory
            )
                && isDirectory.boolValue
        }.sorted()
    }

    /// Where test reports are written (`.build/reports`).
    static var reports: URL {
        let url = Self.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/reports")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
