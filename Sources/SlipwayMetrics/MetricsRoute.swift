import HTTPTypes
import Hummingbird
import NIOCore
import SlipwayAPI

extension SlipwayMetrics {
    /// The content type of the Prometheus text exposition format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Adds `GET /metrics` to `router`. With a token configured the request must carry
    /// `Authorization: Bearer <token>` (compared in constant time), else it is refused with 401.
    public func register(on router: Router<SlipwayRequestContext>) {
        router.get("metrics") { request, _ -> Response in
            try self.authorize(request.headers[.authorization])
            return Response(
                status: .ok,
                headers: [.contentType: Self.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.render()))
            )
        }
    }

    /// Checks the scrape token; passes when none is configured.
    func authorize(_ authorization: String?) throws {
        guard let token = self.configuration.token else { return }
        var refusal = APIError(
            .unauthorized,
            code: "unauthenticated",
            detail: "GET /metrics needs the scrape token: send 'Authorization: Bearer <metricsToken>'",
            field: "Authorization"
        )
        refusal.headers[.wwwAuthenticate] = #"Bearer realm="metrics""#
        guard let authorization else { throw refusal }
        let scheme = "bearer "
        guard authorization.count > scheme.count, authorization.lowercased().hasPrefix(scheme) else {
            refusal.detail = "GET /metrics takes the scrape token as 'Authorization: Bearer <metricsToken>'"
            throw refusal
        }
        let presented = authorization.utf8.dropFirst(scheme.count)
        guard Self.constantTimeEqual(Array(presented), Array(token.utf8)) else {
            refusal.detail = "the scrape token does not match the server's metricsToken"
            throw refusal
        }
    }

    /// Whether `a` and `b` hold the same bytes, taking time that depends only on their lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let left = index < a.count ? a[index] : 0
            let right = index < b.count ? b[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
