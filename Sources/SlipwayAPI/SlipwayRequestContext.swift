import Hummingbird
import Logging

/// The request context of every Slipway route: Hummingbird's core storage, whose logger carries the request id.
public struct SlipwayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request's id, sent back in `X-Request-ID` and in prediction answers: the client's own, when it sent a
    /// well-formed one, else the one Hummingbird logs as `hb.request.id`.
    public var requestID: String

    /// Creates the context for one request.
    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.requestID = source.logger[metadataKey: "hb.request.id"]?.description ?? ""
    }

    /// Bodies are read by each route with its own limit (JSON 1 MiB, uploads by the artifact store's limit).
    public var maxUploadSize: Int { 1 << 20 }
}
