import HTTPTypes
import Hummingbird

/// Tolerates the paths TeachableHub's SDK builds: collapses doubled slashes (`/v1//acme/iris/predict/`) and drops a
/// trailing slash before the router matches the path.
public struct PathNormalizingResponder<Inner: HTTPResponder>: HTTPResponder
where Inner.Context == SlipwayRequestContext {
    public typealias Context = SlipwayRequestContext

    let inner: Inner

    /// Wraps a responder (the router's).
    public init(_ inner: Inner) {
        self.inner = inner
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        guard let path = request.head.path, let normalized = Self.normalize(path) else {
            return try await self.inner.respond(to: request, context: context)
        }
        var head = request.head
        head.path = normalized
        return try await self.inner.respond(to: Request(head: head, body: request.body), context: context)
    }

    /// The normalized path, or `nil` when `path` needs no change.
    static func normalize(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        let end = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
        let slash = UInt8(ascii: "/")
        var needsChange = end > 1 && bytes[end - 1] == slash
        var index = 1
        while !needsChange && index < end {
            needsChange = bytes[index] == slash && bytes[index - 1] == slash
            index += 1
        }
        guard needsChange else { return nil }
        var collapsed: [UInt8] = []
        collapsed.reserveCapacity(bytes.count)
        for byte in bytes[..<end] where !(byte == slash && collapsed.last == slash) {
            collapsed.append(byte)
        }
        if collapsed.count > 1 && collapsed.last == slash { collapsed.removeLast() }
        collapsed.append(contentsOf: bytes[end...])
        return String(decoding: collapsed, as: UTF8.self)
    }
}
