import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime

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
    /// Every schema rule a prediction request broke (409 `schema_violation`).
    public var violations: [SchemaViolation]?

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

    /// Translates a runtime error.
    public init(_ error: RuntimeError) {
        switch error.code {
        case .notFound: self.init(.notFound, code: "not_found", detail: error.message)
        case .notActive: self.init(.notFound, code: "not_active", detail: error.message)
        case .notVerified: self.init(.conflict, code: "not_verified", detail: error.message)
        case .loadFailed: self.init(.serviceUnavailable, code: "load_failed", detail: error.message)
        case .overloaded, .unavailable:
            self.init(
                .serviceUnavailable,
                code: error.code == .overloaded ? "overloaded" : "unavailable",
                detail: error.message
            )
            self.headers[.retryAfter] = String(error.retryAfter ?? 1)
        }
    }

    /// Translates rows that do not fit the model: 409 listing schema violations, else 400 naming the field.
    public init(_ error: PredictionInputError) {
        if error.violations.isEmpty {
            self.init(.badRequest, code: "invalid_input", detail: error.message, field: error.field)
        } else {
            self.init(
                .conflict,
                code: "schema_violation",
                detail: "the request breaks the deployment's schema: \(error.message)",
                field: error.field
            )
            self.violations = error.violations
        }
    }

    /// Translates the engine's refusal of an input.
    public init(_ error: InferenceError) {
        self.init(
            .badRequest,
            code: "invalid_input",
            detail: "the model refused the input: \(error.message)",
            field: "body"
        )
    }

    private struct Body: Encodable {
        var detail: String
        var code: String
        var field: String?
        var violations: [SchemaViolation]?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: self.status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.jsonBody()))
        )
    }

    /// The JSON body: `{"detail", "code", "field", "violations"}`.
    package func jsonBody() -> [UInt8] {
        let body = Body(detail: self.detail, code: self.code, field: self.field, violations: self.violations)
        // Strings, an optional string and plain structs: encoding cannot fail.
        return (try? Array(Wire.encoder.encode(body))) ?? Array(#"{"code":"internal"}"#.utf8)
    }
}

/// An error that writes its own response body (a wire protocol with its own error shape, like the Open Inference
/// Protocol's `{"error": …}`); ``ErrorMiddleware`` passes it through instead of translating it.
public protocol SelfRenderingError: HTTPResponseError {}

/// Turns every error a route throws into the API's JSON error shape, so no client ever sees an HTML page,
/// a stack trace or an empty 500; binds the request's logger as `Logger.current` while the route runs; and sets
/// `X-Request-ID` on every response (the client's own value when it sent a well-formed one).
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = SlipwayRequestContext

    /// Creates the middleware.
    public init() {}

    @concurrent
    public func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let supplied = request.headers[SlipwayHeaders.requestID], Self.isWellFormed(supplied) {
            context.requestID = supplied
            context.logger[metadataKey: "request.id"] = .string(supplied)
        }
        var response: Response
        do {
            let bound = context
            response = try await withLogger(context.logger) { _ in try await next(request, bound) }
        } catch let error as any SelfRenderingError {
            // Errors that render themselves (the inference protocol's `{"error": …}`) keep their own shape.
            response = try error.response(from: request, context: context)
        } catch {
            let apiError = Self.translate(error, request: request, context: context)
            response = try apiError.response(from: request, context: context)
        }
        response.headers[SlipwayHeaders.requestID] = context.requestID
        return response
    }

    /// Request ids clients may choose: 1–128 letters, digits, `-`, `_`, `.`, `:`.
    package static func isWellFormed(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D
                    || $0 == 0x5F || $0 == 0x2E || $0 == 0x3A
            }
    }

    /// The API error an error thrown by a route stands for (the one place domain errors become HTTP statuses).
    package static func translate(_ error: any Error, request: Request, context: Context) -> APIError {
        Self.translate(
            error,
            method: request.method,
            path: request.uri.path,
            logger: context.logger,
            requestID: context.requestID
        )
    }

    /// ``translate(_:request:context:)`` for a request known by its method and path (the HTTP fast path's).
    package static func translate(
        _ error: any Error,
        method: HTTPRequest.Method,
        path: String,
        logger: Logger,
        requestID: String
    ) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as RegistryError:
            if error.code == .storageFailure || error.code == .artifactCorrupt {
                logger.error("storage failure", metadata: ["error": "\(error)"])
            }
            return APIError(error)
        case let error as RuntimeError:
            return APIError(error)
        case let error as PredictionInputError:
            return APIError(error)
        case let error as InferenceError where error.code == .invalidInput || error.code == .invalidRequest:
            return APIError(error)
        case let error as HTTPError:
            return APIError(
                error.status,
                code: Self.code(for: error.status),
                detail: error.body ?? Self.detail(for: error.status, method: method, path: path)
            )
        case let error as any HTTPResponseError:
            return APIError(
                error.status,
                code: Self.code(for: error.status),
                detail: Self.detail(for: error.status, method: method, path: path)
            )
        case is CancellationError:
            return APIError(.serviceUnavailable, code: "unavailable", detail: "the server is shutting down")
        default:
            logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return APIError(
                .internalServerError,
                code: "internal",
                detail: "internal error; the server log has the details (request \(requestID))"
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

    static func detail(for status: HTTPResponse.Status, method: HTTPRequest.Method, path: String) -> String {
        switch status {
        case .notFound: "no route matches \(method) \(path)"
        case .methodNotAllowed: "\(method) is not allowed on \(path)"
        case .contentTooLarge: "the request body is larger than this route accepts"
        default: status.reasonPhrase
        }
    }
}
