import Foundation
import Hummingbird
import Logging
import NIOCore
import SlipwayRegistry
import SlipwayRuntime

/// The management API under `/api/v1`, TeachableHub's management API under `/v1`, the health routes and the API
/// reference.
///
/// ```swift
/// let router = Router(context: SlipwayRequestContext.self)
/// ManagementAPI(registry: registry, readiness: { try await repository.ping() }).register(on: router)
/// ```
public struct ManagementAPI: Sendable {
    /// The registry the routes call.
    public let registry: Registry
    /// Throws when the server should not take traffic (`/readyz` answers 503).
    public let readiness: @Sendable () async throws -> Void
    /// The runtime, told about deploys and activations (warm before switching, verify new deployments).
    public let lifecycle: (any DeploymentLifecycle)?
    /// The largest model zip TeachableHub's SDK may upload (also the most its model file may inflate to).
    public let maximumUploadBytes: Int64

    /// Creates the API over a registry.
    ///
    /// - Parameters:
    ///   - maximumUploadBytes: the limit for TeachableHub zip uploads; use the artifact store's limit.
    public init(
        registry: Registry,
        lifecycle: (any DeploymentLifecycle)? = nil,
        maximumUploadBytes: Int64 = FileArtifactStore.defaultMaximumSize,
        readiness: @escaping @Sendable () async throws -> Void
    ) {
        self.registry = registry
        self.lifecycle = lifecycle
        self.maximumUploadBytes = maximumUploadBytes
        self.readiness = readiness
    }

    /// The OpenAPI document and the API docs page, made on first request (static lets are initialised once, on first
    /// use): made while registering the routes, they were about half of a start's CPU time (some 150 ms of a 280 ms
    /// start on a slow 2-core machine), mostly Foundation's `JSONSerialization` walking the document.
    private static let openAPIDocument = OpenAPIDocument.json()
    private static let docsPage = APIDocsPage.html()

    /// Adds every route to `router` (add ``ErrorMiddleware`` to the router first).
    public func register(on router: Router<SlipwayRequestContext>) {
        router.get("healthz") { _, _ in try Wire.json(["status": "ok"]) }
        router.get("readyz") { _, context in
            do {
                try await self.readiness()
                return try Wire.json(["status": "ready"])
            } catch {
                context.logger.info("not ready", metadata: ["error": "\(error)"])
                return try Wire.json(["status": "unavailable"], status: .serviceUnavailable)
            }
        }
        router.get("api/v1/openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            let document = ByteBuffer(bytes: Self.openAPIDocument)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: document))
        }
        router.get("api/docs") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'"
            let page = ByteBuffer(string: Self.docsPage)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: page))
        }
        let api = router.group("api/v1")
        UsersController(registry: self.registry).register(on: api)
        ModelsController(registry: self.registry).register(on: api)
        let deployments = DeploymentsController(registry: self.registry, lifecycle: self.lifecycle)
        deployments.register(on: api)
        TeachableHubController(
            registry: self.registry,
            deployments: deployments,
            maximumUploadBytes: self.maximumUploadBytes
        ).register(on: router)
    }
}
