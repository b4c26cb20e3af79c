import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import SlipwayAPI
import SlipwayMetrics
import Synchronization

/// The requests Slipway answers on the network thread that read them, before the router: `GET /healthz`, and
/// TeachableHub predictions (`POST /v1/{owner}/{name}/predict/`) and Open Inference Protocol inferences (JSON or
/// binary, `POST /v2/models/{model}[/versions/{version}]/infer`) whose deployment is warm, whose credential's decision is
/// cached and whose model's calls are measured cheap (50 µs by default) with a slot free.
///
/// Such a request costs a fraction of the router's path, which hands every request from the network thread to a
/// task and its answer back. Nothing else changes: the same checks in the same order, the same answer and headers
/// (`X-Request-ID`, `RateLimit-*`, `X-Slipway-*`, `Date`, `Server`), the same record for monitoring, the same HTTP
/// metrics and access line. Any request the fast path cannot finish without waiting (a cold model, an unknown
/// credential, a busy or costly model, a large or chunked body, `Connection: close`, `Expect`, HTTP/1.0) goes to the
/// router untouched, before anything was recorded or a rate-limit token taken.
final class FastRoutes: Sendable {
    /// A request the fast path may take, known from its head.
    enum Route {
        case healthz
        case predict(owner: String, name: String)
        case infer(model: String, version: String?)
    }

    let predictions: PredictionAPI
    let inferenceProtocol: InferenceProtocolAPI
    let metrics: HTTPMetrics
    let logger: Logger
    let serverName: String
    private let dates = DateHeader()

    init(
        predictions: PredictionAPI,
        inferenceProtocol: InferenceProtocolAPI,
        metrics: HTTPMetrics,
        logger: Logger,
        serverName: String
    ) {
        self.predictions = predictions
        self.inferenceProtocol = inferenceProtocol
        self.metrics = metrics
        self.logger = logger
        self.serverName = serverName
    }

    private static let predictRoute = "/v1/{owner}/{name}/predict"
    private static let inferRoute = "/v2/models/{model}/infer"
    private static let versionInferRoute = "/v2/models/{model}/versions/{version}/infer"
    private static let healthzBody = ByteBuffer(string: #"{"status":"ok"}"#)
    private static let expect = HTTPField.Name("Expect")!

    /// The route of a request head the fast path may take; `nil` sends the request to the router.
    ///
    /// Only HTTP/1.1 requests that keep the connection open are taken: the router's path handles the rest (closing
    /// the connection after the answer, HTTP/1.0).
    func route(for head: HTTPRequestHead) -> Route? {
        guard head.version == .http1_1, head.isKeepAlive, head.headers.value(Self.expect) == nil else { return nil }
        let path = head.uri
        if head.method == .GET {
            return path == "/healthz" ? .healthz : nil
        }
        guard head.method == .POST,
            let length = head.headers.value(.contentLength).flatMap({ Int($0) }),
            length <= self.predictions.immediateBodyLimit,
            head.headers.value(.transferEncoding) == nil
        else { return nil }
        // The router's path after normalization (doubled slashes collapsed, a trailing slash dropped) is
        // `/v1/{owner}/{name}/predict` exactly when the non-empty segments before the query are these four; the same
        // holds for the `/v2` inference routes' segments.
        let beforeQuery = path.utf8.prefix { $0 != UInt8(ascii: "?") }
        guard beforeQuery.first == UInt8(ascii: "/"), !beforeQuery.contains(UInt8(ascii: "%")) else { return nil }
        let parts = beforeQuery.split(separator: UInt8(ascii: "/"), maxSplits: 6, omittingEmptySubsequences: true)
        func text(_ index: Int) -> String { String(decoding: parts[index], as: UTF8.self) }
        if parts.count == 4, parts[0].elementsEqual("v1".utf8), parts[3].elementsEqual("predict".utf8) {
            return .predict(owner: text(1), name: text(2))
        }
        guard parts.count == 4 || parts.count == 6, parts[0].elementsEqual("v2".utf8),
            parts[1].elementsEqual("models".utf8), parts[parts.count - 1].elementsEqual("infer".utf8)
        else { return nil }
        if parts.count == 4 { return .infer(model: text(2), version: nil) }
        guard parts[3].elementsEqual("versions".utf8) else { return nil }
        return .infer(model: text(2), version: text(4))
    }

    /// A complete answer: head and body, ready to write.
    struct Answer {
        var head: HTTPResponseHead
        var body: ByteBuffer
    }

    /// Answers a request whose head ``route(for:)`` took and whose body has arrived, or `nil` for the router.
    func answer(_ route: Route, head: HTTPRequestHead, body: ByteBuffer) -> Answer? {
        let started = ContinuousClock.now
        let requestID: String
        var logger = self.logger
        if let supplied = head.headers.value(SlipwayHeaders.requestID), ErrorMiddleware.isWellFormed(supplied) {
            requestID = supplied
            logger[metadataKey: "request.id"] = .string(supplied)
        } else {
            requestID = RequestID().description
        }
        let answer: PredictionAPI.ImmediateAnswer?
        let routeLabel: String
        // The path as the access line names it (without the query), as the router's line does.
        let path: String
        switch route {
        case .healthz:
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            answer = PredictionAPI.ImmediateAnswer(status: .ok, headers: headers, body: Self.healthzBody)
            routeLabel = "/healthz"
            path = "/healthz"
        case .predict(let owner, let name):
            let uri = URI(head.uri)
            path = uri.path
            answer = self.predictions.answerNow(
                owner: owner,
                name: name,
                uri: uri,
                headers: head.headers,
                body: body,
                requestID: requestID,
                logger: logger
            )
            routeLabel = Self.predictRoute
        case .infer(let model, let version):
            path = String(decoding: head.uri.utf8.prefix { $0 != UInt8(ascii: "?") }, as: UTF8.self)
            answer = self.inferenceProtocol.inferNow(
                model: model,
                version: version,
                headers: head.headers,
                body: body,
                requestID: requestID,
                logger: logger
            )
            routeLabel = version == nil ? Self.inferRoute : Self.versionInferRoute
        }
        guard let answer else { return nil }
        let status = answer.status
        let bytes = answer.body
        // The head as the router's answer reaches the wire (through `HTTP1ToHTTPServerCodec`): the answer's fields in
        // order, then these four.
        var headers = HTTPHeaders()
        headers.reserveCapacity(answer.headers.count + 4)
        for field in answer.headers { headers.add(name: field.name.rawName, value: field.value) }
        headers.add(name: HTTPField.Name.contentLength.rawName, value: String(bytes.readableBytes))
        headers.add(name: SlipwayHeaders.requestID.rawName, value: requestID)
        headers.add(name: HTTPField.Name.date.rawName, value: self.dates.now())
        headers.add(name: HTTPField.Name.server.rawName, value: self.serverName)
        let elapsed = ContinuousClock.now - started
        let method: HTTPRequest.Method = head.method == .GET ? .get : .post
        self.metrics.recordFastPath()
        self.metrics.record(
            method: method.rawValue,
            route: routeLabel,
            status: Int(status.code),
            elapsed: elapsed
        )
        if self.logger.logLevel <= .info {
            // As on the router's lines: `hb.request.id` always, `request.id` when the client chose the id.
            logger[metadataKey: "hb.request.id"] = .string(requestID)
            AccessLogMiddleware.log(
                logger,
                level: .info,
                method: method,
                path: path,
                status: Int(status.code),
                elapsed: elapsed,
                headers: answer.headers
            )
        }
        let responseStatus = HTTPResponseStatus(statusCode: status.code, reasonPhrase: status.reasonPhrase)
        return Answer(head: HTTPResponseHead(version: .http1_1, status: responseStatus, headers: headers), body: bytes)
    }
}

extension HTTPHeaders: RequestHeaders {
    /// The values of the fields named `name` (compared without regard to ASCII case), joined with ", ".
    package func value(_ name: HTTPField.Name) -> String? {
        let wanted = name.canonicalName.utf8
        var found: String?
        for (field, value) in self where Self.equalIgnoringASCIICase(field.utf8, lowercased: wanted) {
            found = found.map { $0 + ", " + value } ?? value
        }
        return found
    }

    private static func equalIgnoringASCIICase(_ text: String.UTF8View, lowercased wanted: String.UTF8View) -> Bool {
        guard text.count == wanted.count else { return false }
        for (byte, other) in zip(text, wanted) {
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if lowered != other { return false }
        }
        return true
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate), formatted once a second.
final class DateHeader: Sendable {
    private struct Cached {
        var second: Int
        var text: String
    }

    private let cached = Mutex(Cached(second: -1, text: ""))

    func now() -> String {
        var time = time_t()
        Foundation.time(&time)
        let second = Int(time)
        if let text = self.cached.withLock({ $0.second == second ? $0.text : nil }) { return text }
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let text =
            "\(days[Int(parts.tm_wday)]), \(Self.two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(Self.two(parts.tm_hour)):\(Self.two(parts.tm_min)):\(Self.two(parts.tm_sec)) GMT"
        self.cached.withLock { $0 = Cached(second: second, text: text) }
        return text
    }

    private static func two(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}

/// One connection's fast path, between NIO's HTTP/1 parser and encoder and the conversion to HTTP types
/// (`HTTP1ToHTTPServerCodec`) that leads to the router's channel: takes the requests ``FastRoutes`` can answer, passes
/// every other part on. Placed before the conversion, a request it answers is never converted, nor its answer.
///
/// Answers leave in request order: while a request handed to the router is unanswered (its answer's end has not
/// been written), later requests on the connection go to the router too. So do requests that arrive while the
/// channel is not writable.
final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Reading the body of a request the fast path took.
        case taking(HTTPRequestHead, FastRoutes.Route, ByteBuffer?)
        /// Passing a request's parts to the router.
        case passing
    }

    private let routes: FastRoutes
    private var state = State.idle
    /// Requests handed to the router whose answer's end has not been written yet.
    private var routerPending = 0

    init(routes: FastRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (self.unwrapInboundIn(data), self.state) {
        case (.head(let head), _):
            // A client that does not read its answers makes the channel unwritable: its requests then go to the
            // router, whose writer waits for the channel instead of buffering answers without bound.
            if self.routerPending == 0, context.channel.isWritable, let route = self.routes.route(for: head) {
                self.state = .taking(head, route, nil)
            } else {
                self.routerPending += 1
                self.state = .passing
                context.fireChannelRead(data)
            }
        case (.body(var part), .taking(let head, let route, let body)):
            if var body {
                body.writeBuffer(&part)
                self.state = .taking(head, route, body)
            } else {
                self.state = .taking(head, route, part)
            }
        case (.end(let trailers), .taking(let head, let route, let body)):
            self.state = .idle
            if trailers == nil, let answer = self.routes.answer(route, head: head, body: body ?? ByteBuffer()) {
                context.write(self.wrapOutboundOut(.head(answer.head)), promise: nil)
                context.write(self.wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            self.routerPending += 1
            context.fireChannelRead(self.wrapInboundOut(.head(head)))
            if let body { context.fireChannelRead(self.wrapInboundOut(.body(body))) }
            context.fireChannelRead(self.wrapInboundOut(.end(trailers)))
        case (.end, _):
            self.state = .idle
            context.fireChannelRead(data)
        case (.body, _):
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = self.unwrapOutboundIn(data), self.routerPending > 0 {
            self.routerPending -= 1
        }
        context.write(data, promise: promise)
    }
}

/// Hummingbird's HTTP/1 child channel with the fast path placed before `HTTP1ToHTTPServerCodec`, where
/// `HTTP1Channel`'s additional handlers (which come after it) cannot be.
struct FastHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let routes: FastRoutes

    var responder: HTTPChannelHandler.Responder { self.inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(FastPathHandler(routes: self.routes), position: .before(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.inner.handle(value: value, logger: logger)
    }
}
