import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime

/// An Open Inference Protocol error: a status and the body `{"error": "<message>"}` that Triton, KServe and
/// MLServer all send.
///
/// Statuses follow Triton's mapping: 400 for anything the request got wrong, 404 for an unknown model or version,
/// 503 (with `Retry-After` when known) when the server cannot take the request now, 401/403 for credentials,
/// 413 for a body over the limit, 429 (with `Retry-After`) over a serving key's rate, and 500 only for failures on
/// the server's side.
public struct InferenceProtocolError: SelfRenderingError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A sentence naming what was wrong and what was expected.
    public var message: String
    /// Extra headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// A 400.
    static func badRequest(_ message: String) -> InferenceProtocolError { .init(.badRequest, message) }

    /// A 404.
    static func notFound(_ message: String) -> InferenceProtocolError { .init(.notFound, message) }

    public var description: String { "\(self.status.code) \(self.message)" }

    /// The error as a response (``ErrorMiddleware`` passes it through unchanged).
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        self.response()
    }

    /// The error as a response.
    public func response() -> Response {
        let (headers, body) = self.parts()
        return Response(status: self.status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// The response's headers and `{"error": …}` body.
    func parts() -> (headers: HTTPFields, body: ByteBuffer) {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return (headers, ByteBuffer(bytes: JSONValue.object([("error", .string(self.message))]).serializedBytes()))
    }

    /// Maps any error a `/v2` route throws to the protocol's error (the one place this happens for `/v2`).
    static func from(_ error: any Error, logger: Logger) -> InferenceProtocolError {
        switch error {
        case let error as InferenceProtocolError:
            return error
        case let error as RuntimeError:
            return Self.from(error)
        case let error as InferenceError:
            switch error.code {
            case .invalidRequest, .invalidInput, .resourceLimit, .runtimeFailure:
                return .badRequest(error.message)
            default:
                logger.error("model failed", metadata: ["error": "\(error)"])
                return .init(.internalServerError, "the model cannot run: \(error.message)")
            }
        case let error as RegistryError:
            if error.code == .storageFailure || error.code == .artifactCorrupt {
                logger.error("storage failure", metadata: ["error": "\(error)"])
            }
            let api = APIError(error)
            return .init(api.status, api.detail, headers: api.headers)
        case let error as APIError:
            var headers = error.headers
            if error.status == .unauthorized, headers[.wwwAuthenticate] == nil {
                headers[.wwwAuthenticate] = "Bearer realm=\"slipway\""
            }
            return .init(error.status, error.detail, headers: headers)
        case let error as HTTPError:
            return .init(error.status, error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return .init(error.status, error.status.reasonPhrase)
        case is CancellationError:
            return .init(.serviceUnavailable, "the server is shutting down")
        default:
            logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return .init(.internalServerError, "internal error; the server log has the details")
        }
    }

    /// Maps a runtime error: unknown model, environment or version and no active deployment are 404; an unverified
    /// version is 400; a full queue is 503 with `Retry-After`; a deployment that cannot load is 503.
    static func from(_ error: RuntimeError) -> InferenceProtocolError {
        switch error.code {
        case .notFound, .notActive:
            return .notFound(error.message)
        case .notVerified:
            return .badRequest(error.message)
        case .overloaded:
            var headers = HTTPFields()
            headers[InferenceProtocolAPI.retryAfter] = String(max(1, error.retryAfter ?? 1))
            return .init(.serviceUnavailable, error.message, headers: headers)
        case .loadFailed, .unavailable:
            return .init(.serviceUnavailable, error.message)
        }
    }
}

/// Turns every error a `/v2` route throws into `{"error": …}` with Triton's status mapping.
struct InferenceProtocolErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    @concurrent
    func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await withLogger(context.logger) { _ in try await next(request, context) }
        } catch {
            return InferenceProtocolError.from(error, logger: context.logger).response()
        }
    }
}
