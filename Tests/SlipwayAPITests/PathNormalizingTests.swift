import Hummingbird
import Testing

@testable import SlipwayAPI

@Suite("Path normalization")
struct PathNormalizingTests {
    @Test(
        "doubled slashes collapse and a trailing slash goes; the query is kept as is",
        arguments: [
            ("/v1/acme/iris/predict/", "/v1/acme/iris/predict"),
            ("/v1//acme/iris/predict", "/v1/acme/iris/predict"),
            ("//v1///acme//iris/predict//?environment=a//b/", "/v1/acme/iris/predict?environment=a//b/"),
            ("/v1/ä/é/predict/?x=1", "/v1/ä/é/predict?x=1"),
            ("//", "/"),
        ]
    )
    func normalizes(path: String, expected: String) {
        #expect(PathNormalizingResponder<NoResponder>.normalize(path) == expected)
    }

    @Test("paths that need no change are left alone", arguments: ["/", "/healthz", "/v1/a/b/predict?q=/x/", ""])
    func leavesAlone(path: String) {
        #expect(PathNormalizingResponder<NoResponder>.normalize(path) == nil)
    }
}

/// A responder the normalization tests never call.
struct NoResponder: HTTPResponder {
    typealias Context = SlipwayRequestContext
    func respond(to request: Request, context: Context) async throws -> Response { Response(status: .notFound) }
}
