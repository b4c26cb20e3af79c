import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One structured log line per request: method, path, status, duration and, for predictions, the model,
/// environment and version that answered (read from the `X-Slipway-*` response headers).
public struct AccessLogMiddleware: RouterMiddleware {
    public typealias Context = SlipwayRequestContext

    /// The level access lines are logged at.
    public let level: Logger.Level

    /// Creates the middleware.
    public init(level: Logger.Level = .info) {
        self.level = level
    }

    @concurrent
    public func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard context.logger.logLevel <= self.level else { return try await next(request, context) }
        let started = ContinuousClock.now
        let response = try await next(request, context)
        Self.log(
            context.logger,
            level: self.level,
            method: request.method,
            path: request.uri.path,
            status: Int(response.status.code),
            elapsed: ContinuousClock.now - started,
            headers: response.headers
        )
        return response
    }

    /// Writes one access line (shared with the HTTP fast path, whose requests bypass the router).
    package static func log(
        _ logger: Logger,
        level: Logger.Level,
        method: HTTPRequest.Method,
        path: String,
        status: Int,
        elapsed: Duration,
        headers: HTTPFields
    ) {
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "http.method": .string(method.rawValue),
            "http.path": .string(path),
            "http.status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.3f", milliseconds)),
        ]
        if let model = headers[SlipwayHeaders.model] { metadata["model.name"] = .string(model) }
        if let environment = headers[SlipwayHeaders.environment] { metadata["environment"] = .string(environment) }
        if let version = headers[SlipwayHeaders.version] { metadata["model.version"] = .string(version) }
        logger.log(level: level, "request", metadata: metadata)
    }
}
