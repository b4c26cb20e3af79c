import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SlipwayInference

/// One server answer: status, headers and the JSON body (`nil` for an empty body, as with 204).
struct APIResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: JSONValue?

    /// The `X-Total-Count` header of list routes.
    var totalCount: Int? { self.headers.first(name: "X-Total-Count").flatMap { Int($0) } }
}

/// A management command's connection to a Slipway server: the HTTP client, the base URL, the credential and
/// the output context.
///
/// Use ``run(_:preferDeployKey:_:)`` as the whole body of a command: it creates the process's HTTP client,
/// turns every failure into `slipway: error: …` on standard error with exit code 1, and shuts the client down.
///
/// ```swift
/// try await ManagementSession.run(self.options) { session in
///     let response = try await session.send(.get, ["users", "me"])
///     session.print(response.body, human: Formatting.user)
/// }
/// ```
struct ManagementSession: Sendable {
    /// The HTTP methods the management API uses.
    enum Method: Sendable {
        case get
        case post
        case put
        case patch
        case delete

        var httpMethod: HTTPMethod {
            switch self {
            case .get: .GET
            case .post: .POST
            case .put: .PUT
            case .patch: .PATCH
            case .delete: .DELETE
            }
        }
    }

    /// How long an ordinary request may take, connection included.
    static let requestTimeout = TimeAmount.seconds(120)
    /// How long an upload may take in all; the read timeout still catches a server that stops answering.
    static let uploadTimeout = TimeAmount.hours(24)
    /// The largest response body read (list pages are far smaller).
    static let maximumResponseBytes = 64 << 20

    let client: HTTPClient
    let server: URL
    let credential: String?
    let context: CommandContext
    let json: Bool

    /// Runs a management command's body with a session, reporting failures the `slipway` way.
    ///
    /// - Parameters:
    ///   - options: the global options (server, credentials, `--json`).
    ///   - preferDeployKey: true for deploy, activate, rollback and promote, which prefer a deploy key.
    ///   - body: the command's work.
    static func run(
        _ options: ManagementOptions,
        preferDeployKey: Bool = false,
        _ body: (ManagementSession) async throws -> Void
    ) async throws {
        let context = CommandContext.current
        do {
            let server = try options.resolvedServer(in: context)
            var configuration = HTTPClient.Configuration()
            configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(300))
            // A command line should fail at once when nothing listens, not retry until the connect timeout.
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.decompression = .disabled
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            let session = ManagementSession(
                client: client,
                server: server,
                credential: options.credential(in: context, preferDeployKey: preferDeployKey),
                context: context,
                json: options.json
            )
            do {
                try await body(session)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            let oneLine = "\(error)".replacingOccurrences(of: "\n", with: " ")
            context.printError("slipway: error: \(oneLine)")
            throw ExitCode.failure
        }
    }

    /// The URL of an API route: `/api/v1/` + the percent-encoded path segments + the query.
    func url(_ path: [String], query: [(String, String?)] = []) -> String {
        Self.url(server: self.server, path, query: query)
    }

    /// The URL of an API route on `server`; query items whose value is `nil` are left out.
    static func url(server: URL, _ path: [String], query: [(String, String?)] = []) -> String {
        var text = server.absoluteString + "/api/v1"
        for segment in path { text += "/" + Self.percentEncoded(segment) }
        let items = query.compactMap { name, value in
            value.map { Self.percentEncoded(name) + "=" + Self.percentEncoded($0) }
        }
        if !items.isEmpty { text += "?" + items.joined(separator: "&") }
        return text
    }

    /// Sends a request with an optional JSON body and returns the answer; a non-2xx answer throws the server's
    /// `detail` as a ``ManagementFailure``.
    func send(
        _ method: Method,
        _ path: [String],
        query: [(String, String?)] = [],
        body: JSONValue? = nil
    ) async throws -> APIResponse {
        var request = HTTPClientRequest(url: self.url(path, query: query))
        request.method = method.httpMethod
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.serialized()))
        }
        return try await self.execute(request, timeout: Self.requestTimeout)
    }

    /// Sends a `multipart/form-data` upload and returns the answer, mapping failures like ``send``.
    func upload(_ upload: MultipartUpload, to path: [String], progress: UploadProgress?) async throws -> APIResponse {
        var request = HTTPClientRequest(url: self.url(path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: upload.contentType)
        request.body = .stream(upload.body(progress: progress), length: .known(Int64(upload.length)))
        return try await self.execute(request, timeout: Self.uploadTimeout)
    }

    /// Sends a prepared request and returns the answer, mapping failures like ``send``.
    func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> APIResponse {
        var request = request
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "slipway-cli")
        if let credential = self.credential {
            request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await self.client.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: Self.maximumResponseBytes)
        } catch let failure as ManagementFailure {
            throw failure
        } catch {
            throw self.transportFailure(error)
        }
        let status = Int(response.status.code)
        let body: JSONValue?
        if bytes.readableBytes == 0 {
            body = nil
        } else {
            do {
                body = try JSONValue.parse(Array(bytes.readableBytesView))
            } catch {
                guard (200..<300).contains(status) else {
                    throw ManagementFailure(
                        "the server answered \(status) \(response.status.reasonPhrase)",
                        status: status
                    )
                }
                throw ManagementFailure("the server's answer is not JSON: \(error)", status: status)
            }
        }
        guard (200..<300).contains(status) else {
            if case .string(let detail)? = body?["detail"] {
                var code: String?
                if case .string(let text)? = body?["code"] { code = text }
                throw ManagementFailure(detail, status: status, code: code)
            }
            throw ManagementFailure("the server answered \(status) \(response.status.reasonPhrase)", status: status)
        }
        return APIResponse(status: status, headers: response.headers, body: body)
    }

    /// Turns an error from the HTTP client into a message that says what went wrong with the connection.
    func transportFailure(_ error: any Error) -> ManagementFailure {
        if let connection = error as? NIOConnectionError {
            let reason =
                connection.connectionErrors.first.map { Self.reason($0.error) }
                ?? (connection.dnsAError ?? connection.dnsAAAAError).map {
                    "cannot resolve the host: \(Self.reason($0))"
                }
                ?? "no address to connect to"
            return ManagementFailure("cannot reach the Slipway server at \(self.server.absoluteString): \(reason)")
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout:
                return ManagementFailure(
                    "cannot reach the Slipway server at \(self.server.absoluteString): the connection timed out"
                )
            case .readTimeout, .deadlineExceeded:
                return ManagementFailure(
                    "the Slipway server at \(self.server.absoluteString) did not answer in time"
                )
            default:
                break
            }
        }
        if error is IOError || error is ChannelError {
            return ManagementFailure(
                "cannot reach the Slipway server at \(self.server.absoluteString): \(Self.reason(error))"
            )
        }
        return ManagementFailure("the request to \(self.server.absoluteString) failed: \(Self.reason(error))")
    }

    private static func reason(_ error: any Error) -> String {
        if let io = error as? IOError {
            return String(cString: strerror(io.errnoCode)).lowercased()
        }
        return "\(error)"
    }

    /// Percent-encodes a path segment or query component (everything but RFC 3986 unreserved characters).
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// Prints an answer: the server's JSON pretty-printed with `--json`, the human form otherwise.
    func print(_ body: JSONValue?, human: (JSONValue) -> String) {
        guard let body else { return }
        if self.json {
            self.context.printLine(body.prettyPrinted())
        } else {
            let text = human(body)
            if !text.isEmpty { self.context.printLine(text) }
        }
    }

    /// Sends a DELETE and reports it: `done` in the human form, the server's JSON (if any) with `--json`.
    func delete(_ path: [String], done: String) async throws {
        let response = try await self.send(.delete, path)
        if !self.json {
            self.context.printLine(done)
        } else if let body = response.body {
            self.context.printLine(body.prettyPrinted())
        }
    }
}
