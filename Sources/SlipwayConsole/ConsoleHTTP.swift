import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Reading forms and cookies, and building the console's responses.
enum ConsoleHTTP {
    static let sessionCookie = "slipway_session"
    static let signInCookie = "slipway_signin"
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// The body of a form post (`application/x-www-form-urlencoded`), at most `limit` bytes.
    static func form(_ request: Request, limit: Int = 64 << 10) async throws -> [String: [String]] {
        var request = request
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw ConsoleFailure(
                .unsupportedMediaType,
                "the form must be sent as application/x-www-form-urlencoded"
            )
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw ConsoleFailure(.contentTooLarge, "the form is larger than \(limit / 1024) KiB")
        }
        return Self.decodeForm(String(buffer: buffer))
    }

    /// Decodes `a=1&b=x+y` into its fields (a field may repeat).
    static func decodeForm(_ text: String) -> [String: [String]] {
        var fields: [String: [String]] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.percentDecoded(parts[0])
            let value = parts.count > 1 ? Self.percentDecoded(parts[1]) : ""
            fields[name, default: []].append(value)
        }
        return fields
    }

    static func percentDecoded(_ text: Substring) -> String {
        let plus = text.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }

    /// The value of cookie `name`, if the request sent it.
    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                if pair[0].trimmingCharacters(in: .whitespaces) == name {
                    return pair[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// Whether the browser reached the server over HTTPS (directly or through a proxy that says so).
    static func isHTTPS(_ request: Request) -> Bool {
        request.head.scheme == "https" || request.headers[self.forwardedProto]?.lowercased() == "https"
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure over HTTPS.
    static func setCookie(_ name: String, _ value: String, maxAge: Int, secure: Bool) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The headers every console page carries: no caching, no framing, scripts and styles from this server only.
    static func pageHeaders(contentType: String = "text/html; charset=utf-8") -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return headers
    }

    /// An HTML response.
    static func html(_ text: String, status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        var headers = self.pageHeaders()
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A `303 See Other` to a path on this server.
    static func redirect(to path: String, cookies: [String] = []) -> Response {
        var headers = self.pageHeaders()
        headers[.location] = path
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// `path` when it is a path on this server (`/models/…`), else `/models`: never another site.
    static func localPath(_ path: String?) -> String {
        guard let path, path.hasPrefix("/"), !path.hasPrefix("//"), !path.hasPrefix("/\\"),
            !path.contains(where: { $0.isNewline || $0 == "\\" })
        else { return "/models" }
        return path
    }

    /// Percent-encodes a path segment or query value.
    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// A console error shown to the person as a page with a status.
struct ConsoleFailure: Error {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }
}
