import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SlipwayRegistry

/// An error as the API answers it: a status and `{"detail", "code", "field"}`.
///
/// This is the one place where domain error codes become HTTP statuses.
public struct APIError: HTTPResponseError, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The stable machine-readable code (`invalid_input`, `not_found`…).
    public var code: String
    /// A sentence naming the field or object and what was expected.
    public var detail: String
    /// The request field at fault, if any.
    public var field: String?
    /// Extra headers (`Allow`, `WWW-Authenticate`…).
    public var headers: HTTPFields = [:]

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, detail: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
    }

    /// A 400 naming the field.
    public static func invalid(_ field: String, _ detail: String) -> APIError {
        APIError(.badRequest, code: "invalid_input", detail: detail, field: field)
    }

    /// Translates a registry error.
    public init(_ error: RegistryError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .invalidInput: .badRequest
            case .unauthenticated: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict, .notVerified: .conflict
            case .payloadTooLarge: .contentTooLarge
            case .artifactCorrupt, .storageFailure: .serviceUnavailable
            default: .badRequest
            }
        self.init(status, code: error.code.description, detail: error.message, field: error.field)
        if status == .unauthorized {
            self.headers[.wwwAuthenticate] = "Bearer realm=\"slipway\""
        }
    }

    private struct Body: Encodable {
        var detail: String
        var code: String
        var field: String?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let data = try Wire.encoder.encode(Body(detail: self.detail, code: self.code, field: self.field))
        return Response(status: self.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error a route throws into the API's JSON error shape, so no client ever sees an HTML page,
/// a stack trace or an empty 500; and binds the request's logger as `Logger.current` while the route runs.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    @concurrent
    public func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            // Bind the request's logger (it carries `hb.request.id`) so that every line logged while handling the
            // request, in any module, names the request.
            return try await withLogger(context.logger) { _ in try await next(request, context) }
        } catch let error as APIError {
            throw error
        } catch let error as RegistryError {
            if error.code == .storageFailure || error.code == .artifactCorrupt {
                context.logger.error("storage failure", metadata: ["error": "\(error)"])
            }
            throw APIError(error)
        } catch let error as HTTPError {
            throw APIError(
                error.status,
                code: Self.code(for: error.status),
                detail: error.body ?? Self.detail(for: error.status, request: request)
            )
        } catch let error as any HTTPResponseError {
            throw APIError(
                error.status,
                code: Self.code(for: error.status),
                detail: Self.detail(for: error.status, request: request)
            )
        } catch is CancellationError {
            throw APIError(.serviceUnavailable, code: "unavailable", detail: "the server is shutting down")
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            throw APIError(
                .internalServerError,
                code: "internal",
                detail: "internal error; the server log has the details (request \(context.id))"
            )
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .badRequest: "invalid_input"
        case .unauthorized: "unauthenticated"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .contentTooLarge: "payload_too_large"
        case .unsupportedMediaType: "unsupported_media_type"
        case .serviceUnavailable: "unavailable"
        default: status.code < 500 ? "invalid_request" : "internal"
        }
    }

    static func detail(for status: HTTPResponse.Status, request: Request) -> String {
        switch status {
        case .notFound: "no route matches \(request.method) \(request.uri.path)"
        case .methodNotAllowed: "\(request.method) is not allowed on \(request.uri.path)"
        case .contentTooLarge: "the request body is larger than this route accepts"
        default: status.reasonPhrase
        }
    }
}
