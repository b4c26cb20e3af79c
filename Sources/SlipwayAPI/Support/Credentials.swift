import Foundation
import HTTPTypes
import Hummingbird
import SlipwayRegistry

/// A request's header fields, read by name as `HTTPFields` reads them: the values of a field sent several times are
/// joined with ", ". The router's requests carry `HTTPFields`; the HTTP fast path reads NIO's headers as parsed.
package protocol RequestHeaders {
    /// The field's value, or `nil` when the request does not carry it.
    func value(_ name: HTTPField.Name) -> String?
}

extension HTTPFields: RequestHeaders {
    package func value(_ name: HTTPField.Name) -> String? { self[name] }
}

/// Finding the credential in a request's headers.
package enum Credentials {
    static let servingKeyHeader = HTTPField.Name("X-Serving-Key")!

    /// The secret from `Authorization: Bearer|Token|Deploy-Key|Api-Key …` or `X-Serving-Key`, if any.
    package static func secret(in request: Request) throws -> String? {
        try self.secret(in: request.headers)
    }

    /// The secret in `headers` (`Authorization`, else `X-Serving-Key`), if any.
    package static func secret(in headers: some RequestHeaders) throws -> String? {
        if let authorization = headers.value(.authorization) {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else {
                throw APIError(
                    .unauthorized,
                    code: "unauthenticated",
                    detail: "the Authorization header must be 'Bearer <token>' (or Token, Deploy-Key, Api-Key)"
                )
            }
            switch parts[0].lowercased() {
            case "bearer", "token", "deploy-key", "api-key":
                return Self.trimmed(parts[1])
            default:
                throw APIError(
                    .unauthorized,
                    code: "unauthenticated",
                    detail: "unsupported Authorization scheme '\(parts[0])'; use Bearer, Token, Deploy-Key or Api-Key"
                )
            }
        }
        if let key = headers.value(self.servingKeyHeader) {
            return Self.trimmed(key[...])
        }
        return nil
    }

    /// `text` without leading and trailing spaces and tabs (header values are ASCII; no Foundation on this path).
    static func trimmed(_ text: Substring) -> String {
        let utf8 = text.utf8
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
            let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
        else { return "" }
        return String(text[first...last])
    }
}

extension Registry {
    /// Authenticates the request's credential.
    package func principal(for request: Request) async throws -> Principal {
        try await self.authenticate(secret: Credentials.secret(in: request))
    }
}
