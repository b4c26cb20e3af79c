import Hummingbird
import Logging

/// The request context of every Slipway route: Hummingbird's core storage, whose logger carries the request id.
public struct SlipwayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    /// Creates the context for one request.
    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// Bodies are read by each route with its own limit (JSON 1 MiB, uploads by the artifact store's limit).
    public var maxUploadSize: Int { 1 << 20 }
}
