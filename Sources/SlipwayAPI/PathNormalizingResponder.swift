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
        let query = path.firstIndex(of: "?")
        let route = query.map { path[..<$0] } ?? path[...]
        guard route.contains("//") || (route.count > 1 && route.hasSuffix("/")) else { return nil }
        var collapsed = ""
        collapsed.reserveCapacity(route.count)
        for character in route where !(character == "/" && collapsed.hasSuffix("/")) {
            collapsed.append(character)
        }
        if collapsed.count > 1 && collapsed.hasSuffix("/") { collapsed.removeLast() }
        return collapsed + (query.map { String(path[$0...]) } ?? "")
    }
}
