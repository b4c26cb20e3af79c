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
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "http.method": .string(request.method.rawValue),
            "http.path": .string(request.uri.path),
            "http.status": .stringConvertible(response.status.code),
            "duration_ms": .string(String(format: "%.3f", milliseconds)),
        ]
        if let model = response.headers[SlipwayHeaders.model] { metadata["model.name"] = .string(model) }
        if let environment = response.headers[SlipwayHeaders.environment] {
            metadata["environment"] = .string(environment)
        }
        if let version = response.headers[SlipwayHeaders.version] { metadata["model.version"] = .string(version) }
        context.logger.log(level: self.level, "request", metadata: metadata)
        return response
    }
}
