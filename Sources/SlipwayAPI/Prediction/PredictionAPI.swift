import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime

/// TeachableHub's prediction API: `POST /v1/{owner}/{model}/predict/`.
///
/// ```console
/// $ curl -X POST 'localhost:8080/v1/acme/iris/predict/?environment=production' \
///     -H "X-Serving-Key: $KEY" -H 'Content-Type: application/json' -d '{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}'
/// {"environment":"production","predictions":[{"className":"setosa","probability":0.98},…],"request_id":"…","version":3}
/// ```
public struct PredictionAPI: Sendable {
    /// Limits of the prediction routes.
    public struct Configuration: Sendable {
        /// The largest request body, in bytes.
        public var maximumBodyBytes: Int
        /// The most rows one request may carry.
        public var maximumRows: Int

        /// Creates a configuration (8 MiB, 10,000 rows by default).
        public init(maximumBodyBytes: Int = 8 << 20, maximumRows: Int = 10_000) {
            self.maximumBodyBytes = maximumBodyBytes
            self.maximumRows = maximumRows
        }
    }

    let registry: Registry
    let predictor: any Predictor
    let configuration: Configuration
    let access: ServingAccess
    let limiter = RateLimiter()
    let recorder: (any PredictionRecorder)?
    let shadows: ShadowTraffic

    /// Creates the prediction API; `recorder` receives a record of every request (answered or refused).
    public init(
        registry: Registry,
        predictor: any Predictor,
        configuration: Configuration = Configuration(),
        recorder: (any PredictionRecorder)? = nil
    ) {
        self.registry = registry
        self.predictor = predictor
        self.configuration = configuration
        self.access = ServingAccess(registry: registry)
        self.recorder = recorder
        self.shadows = ShadowTraffic(predictor: predictor, recorder: recorder)
    }

    /// Adds the prediction route to `router`.
    public func register(on router: Router<SlipwayRequestContext>) {
        router.post("v1/:owner/:name/predict") { request, context in
            try await self.predict(request, context)
        }
    }

    /// The query parameters, checked.
    struct Query {
        var environment = "production"
        var version: Int?
        var descending = true
        var limit = -1
        var threshold = 0.0

        init(_ request: Request) throws {
            try self.init(uri: request.uri)
        }

        init(uri: URI) throws {
            // Most requests send no query: the defaults, without building an empty parameter list.
            guard let query = uri.query, !query.isEmpty else { return }
            let parameters = uri.queryParameters
            if let environment = parameters.get("environment"), !environment.isEmpty {
                guard Names.isValid(environment) else {
                    throw APIError.invalid(
                        "environment",
                        "environment '\(environment)' is not a valid environment name"
                    )
                }
                self.environment = environment
            }
            if let text = parameters.get("version") {
                guard let version = Int(text), (0...2000).contains(version) else {
                    throw APIError.invalid(
                        "version",
                        "version must be an integer from 0 to 2000 (0 = the active one), got '\(text)'"
                    )
                }
                self.version = version == 0 ? nil : version
            }
            if let text = parameters.get("order") {
                switch text.lowercased() {
                case "desc": self.descending = true
                case "asc": self.descending = false
                default: throw APIError.invalid("order", "order must be asc or desc, got '\(text)'")
                }
            }
            if let text = parameters.get("limit") {
                guard let limit = Int(text), (-1...2000).contains(limit) else {
                    throw APIError.invalid("limit", "limit must be an integer from -1 (all) to 2000, got '\(text)'")
                }
                self.limit = limit
            }
            if let text = parameters.get("threshold") {
                guard let threshold = Double(text), (0...1).contains(threshold) else {
                    throw APIError.invalid("threshold", "threshold must be a number from 0 to 1, got '\(text)'")
                }
                self.threshold = threshold
            }
        }
    }

    /// What a request got as far as, for its ``PredictionRecord``.
    struct Trace {
        var prepared: PreparedModel?
        var keyName: String?
        var rows: PredictionRows?
        var inputs: [String: Tensor]?
        var outputs: [OutputReader.Row]?
        /// The answer's JSON body, as sent.
        var body: [UInt8]?
    }

    /// Predicts on behalf of a principal that is already authenticated (the web console's playground and API docs),
    /// through the same checks, limits and recording as `POST /v1/{owner}/{name}/predict/`.
    ///
    /// The request carries the prediction query (`environment`, `version`, …) and the JSON body; the route's
    /// `owner` and `name` parameters name the model. Returns the answer's JSON body; errors are thrown as on the API.
    public func predict(
        _ request: Request,
        context: SlipwayRequestContext,
        as principal: Principal
    ) async throws -> [UInt8] {
        var trace = Trace()
        _ = try await self.predict(request, context, principal: principal, trace: &trace)
        return trace.body ?? []
    }

    func predict(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        var trace = Trace()
        return try await self.predict(request, context, principal: nil, trace: &trace)
    }

    func predict(
        _ request: Request,
        _ context: SlipwayRequestContext,
        principal: Principal?,
        trace: inout Trace
    ) async throws -> Response {
        guard self.recorder != nil else {
            return try await self.answer(request, context, principal: principal, trace: &trace)
        }
        let receivedAt = Date()
        let started = ContinuousClock.now
        do {
            let response = try await self.answer(request, context, principal: principal, trace: &trace)
            self.record(trace, context.requestID, receivedAt, started, status: Int(response.status.code), code: nil)
            return response
        } catch {
            let refusal = ErrorMiddleware.translate(error, request: request, context: context)
            self.record(
                trace,
                context.requestID,
                receivedAt,
                started,
                status: Int(refusal.status.code),
                code: refusal.code
            )
            throw refusal
        }
    }

    /// Hands the request's record (answered or refused) to the recorder.
    func record(
        _ trace: Trace,
        _ requestID: String,
        _ receivedAt: Date,
        _ started: ContinuousClock.Instant,
        status: Int,
        code: String?
    ) {
        self.recorder?.record(
            PredictionRecord(
                requestID: requestID,
                receivedAt: receivedAt,
                latency: Self.seconds(ContinuousClock.now - started),
                surface: .teachableHub,
                status: status,
                errorCode: code,
                prepared: trace.prepared,
                keyName: trace.keyName,
                rows: trace.rows,
                inputs: trace.inputs,
                outputs: trace.outputs
            )
        )
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func answer(
        _ request: Request,
        _ context: SlipwayRequestContext,
        principal: Principal?,
        trace: inout Trace
    ) async throws -> Response {
        var request = request
        let owner = try context.owner
        let name = try context.name
        let query = try Query(request)
        let secret = try Credentials.secret(in: request.headers)

        // Resolve the deployment first: unknown names answer 404 before credentials are weighed.
        let resolved = try await self.predictor.prepare(
            owner: owner,
            name: name,
            environment: query.environment,
            version: query.version
        )
        trace.prepared = resolved
        let decision: ServingAccess.Decision
        if let principal {
            decision = try await self.access.decide(
                principal: principal,
                model: resolved.model,
                environment: query.environment
            )
        } else {
            decision = try await self.access.decide(
                secret: secret,
                model: resolved.model,
                environment: query.environment
            )
        }
        if let refusal = decision.refusal { throw refusal }
        var headers = try self.admit(decision, trace: &trace)
        let rows = try await self.rows(from: &request)
        let served = try self.route(
            resolved,
            query: query,
            rows: rows,
            routeKey: request.headers[SlipwayHeaders.routeKey],
            trace: &trace
        )
        let outputs = try await self.predictor.infer(served.prepared, inputs: served.inputs, outputs: nil)
        let bytes = self.finish(served, outputs: outputs, query: query, requestID: context.requestID, trace: &trace)
        self.describe(served.prepared, in: &headers)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The answer of a request the HTTP fast path can serve at once (see ``answerNow(owner:name:uri:headers:body:requestID:)``).
    package struct ImmediateAnswer {
        package var status: HTTPResponse.Status
        /// The headers, `Content-Type` included (not `X-Request-ID`, `Content-Length`, `Date` or `Server`).
        package var headers: HTTPFields
        package var body: ByteBuffer

        package init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// The largest body the fast path takes (larger ones go through the router, which streams them).
    package var immediateBodyLimit: Int { min(64 << 10, self.configuration.maximumBodyBytes) }

    /// Serves a prediction on the calling thread when everything it needs is at hand: the deployment warm and ready,
    /// the credential's decision cached, the model's calls measured cheap and a slot free. Then the answer (or the
    /// refusal, as the route would give it) is returned and recorded as the route records it. Else `nil`, before
    /// anything was recorded or a rate-limit token taken: the caller hands the request to the router.
    ///
    /// The checks run in the route's order, so a request gets the same answer either way.
    package func answerNow(
        owner: String,
        name: String,
        uri: URI,
        headers: some RequestHeaders,
        body: ByteBuffer,
        requestID: String,
        logger: Logger
    ) -> ImmediateAnswer? {
        let receivedAt = Date()
        let started = ContinuousClock.now
        var trace = Trace()
        do {
            guard let answer = try self.answerNow(owner, name, uri, headers, body, requestID, &trace) else {
                return nil
            }
            self.record(trace, requestID, receivedAt, started, status: Int(answer.status.code), code: nil)
            return answer
        } catch {
            let refusal = ErrorMiddleware.translate(
                error,
                method: .post,
                path: uri.path,
                logger: logger,
                requestID: requestID
            )
            self.record(trace, requestID, receivedAt, started, status: Int(refusal.status.code), code: refusal.code)
            var headers = refusal.headers
            headers[.contentType] = "application/json; charset=utf-8"
            let body = ByteBuffer(bytes: refusal.jsonBody())
            return ImmediateAnswer(status: refusal.status, headers: headers, body: body)
        }
    }

    private func answerNow(
        _ owner: String,
        _ name: String,
        _ uri: URI,
        _ requestHeaders: some RequestHeaders,
        _ body: ByteBuffer,
        _ requestID: String,
        _ trace: inout Trace
    ) throws -> ImmediateAnswer? {
        let query = try Query(uri: uri)
        let secret = try Credentials.secret(in: requestHeaders)
        guard
            let resolved = self.predictor.preparedIfReady(
                owner: owner,
                name: name,
                environment: query.environment,
                version: query.version
            ),
            let decision = self.access.cachedDecision(
                secret: secret,
                model: resolved.model,
                environment: query.environment
            )
        else { return nil }
        trace.prepared = resolved
        if let refusal = decision.refusal { throw refusal }
        // The body's checks raise their errors after the rate limit's, as on the route; they run first only to know
        // whether the request can be answered here. A slot is reserved on every deployment that may answer before
        // the traffic split draws one, so that handing a request to the router never depends on the draw (the
        // router draws again: declining only the draws of a busy or costly arm would skew the split's shares).
        let rows = Result { try self.rows(from: body, contentType: requestHeaders.value(.contentType)) }
        var slots: [UUID: InlineInference] = [:]
        if case .success(let parsed) = rows {
            let candidates =
                query.version == nil && resolved.traffic?.isSplit == true
                ? resolved.traffic?.armModels ?? [resolved] : [resolved]
            for candidate in candidates {
                guard let slot = self.predictor.inlineSlot(candidate, rows: parsed.count) else { return nil }
                slots[candidate.deployment.id] = slot
            }
        }
        let served = Result {
            try self.route(
                resolved,
                query: query,
                rows: rows.get(),
                routeKey: requestHeaders.value(SlipwayHeaders.routeKey),
                trace: &trace
            )
        }
        var headers = try self.admit(decision, trace: &trace)
        let ready = try served.get()
        guard let slot = slots[ready.prepared.deployment.id] else {
            // Unreachable: a routed request's deployment is one of the candidates reserved above.
            throw RuntimeError(.unavailable, "no inference slot was reserved for the deployment that answers")
        }
        let outputs = try slot.run(ready.inputs, outputs: nil)
        let bytes = self.finish(ready, outputs: outputs, query: query, requestID: requestID, trace: &trace)
        self.describe(ready.prepared, in: &headers)
        return ImmediateAnswer(status: .ok, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    /// Applies the access decision's key: names it in the trace and takes a token from its rate limit (throws 429
    /// when there is none). Returns the `RateLimit-*` headers to send.
    func admit(_ decision: ServingAccess.Decision, trace: inout Trace) throws -> HTTPFields {
        trace.keyName = decision.key?.name
        guard let key = decision.key, let rate = key.rateLimit else { return HTTPFields() }
        let outcome = self.limiter.take(key: key.id, rate: rate)
        guard outcome.allowed else {
            var error = APIError(
                .tooManyRequests,
                code: "rate_limited",
                detail:
                    "the serving key '\(key.name)' allows \(rate) predictions per second; retry after \(outcome.retryAfter) s"
            )
            error.headers = outcome.refusalHeaders
            throw error
        }
        return outcome.headers
    }

    /// A request's rows on their way to the engine: the deployment that answers them (after the traffic split), the
    /// shadows that get copies, and the input tensors.
    struct Served {
        var prepared: PreparedModel
        var shadows: [PreparedModel]
        var rows: PredictionRows
        var inputs: [String: Tensor]
    }

    /// Checks the row count, applies the environment's traffic policy (requests for the active version only; a pinned
    /// version answers itself) and builds the inputs through the answering deployment's schema.
    func route(
        _ resolved: PreparedModel,
        query: Query,
        rows: PredictionRows,
        routeKey: String?,
        trace: inout Trace
    ) throws -> Served {
        trace.rows = rows
        guard rows.count <= self.configuration.maximumRows else {
            throw APIError(
                .contentTooLarge,
                code: "payload_too_large",
                detail: "a request may carry at most \(self.configuration.maximumRows) rows, got \(rows.count)"
            )
        }
        var prepared = resolved
        var shadows: [PreparedModel] = []
        if query.version == nil, let traffic = resolved.traffic {
            if traffic.isSplit {
                prepared = resolved.routed(key: resolved.routeKey(header: routeKey, rows: rows))
                trace.prepared = prepared
            }
            shadows = traffic.shadowsForRequest()
        }
        let inputs = try InputBuilder.inputs(for: prepared, rows: rows)
        trace.inputs = inputs
        return Served(prepared: prepared, shadows: shadows, rows: rows, inputs: inputs)
    }

    /// Reads the outputs into the answer's bytes and sends the copies to the shadows.
    func finish(
        _ served: Served,
        outputs: [(String, Value)],
        query: Query,
        requestID: String,
        trace: inout Trace
    ) -> [UInt8] {
        let read = OutputReader.rows(outputs, count: served.rows.count, classCount: served.prepared.classes?.count)
        trace.outputs = read
        let bytes = Self.answer(requestID: requestID, model: served.prepared, rows: read, query: query)
        trace.body = bytes
        if !served.shadows.isEmpty {
            self.shadows.mirror(.rows(served.rows), to: served.shadows, requestID: requestID, keyName: trace.keyName)
        }
        return bytes
    }

    /// The answer's content type and the `X-Slipway-*` headers naming the deployment that answered.
    func describe(_ prepared: PreparedModel, in headers: inout HTTPFields) {
        // Appended: `headers` holds only the rate limit's fields here, never these.
        headers.append(HTTPField(name: .contentType, value: "application/json; charset=utf-8"))
        headers.append(HTTPField(name: SlipwayHeaders.model, value: prepared.model.fullName))
        headers.append(HTTPField(name: SlipwayHeaders.environment, value: prepared.environment))
        headers.append(HTTPField(name: SlipwayHeaders.version, value: String(prepared.deployment.version)))
    }

    /// Reads `{"ndarray": [[…]]}` or `{"features": [{…}] | {…}}`, plus an optional `context`.
    func rows(from request: inout Request) async throws -> PredictionRows {
        // Any content type is read as JSON (curl's default form type included), except uploads.
        try Self.checkContentType(request.headers[.contentType])
        let buffer = try await request.collectBody(upTo: self.configuration.maximumBodyBytes)
        return try self.rows(from: buffer, contentType: nil)
    }

    static func checkContentType(_ contentType: String?) throws {
        let contentType = contentType ?? ""
        if contentType.lowercased().hasPrefix("multipart/") {
            throw APIError(
                .unsupportedMediaType,
                code: "unsupported_media_type",
                detail: "the body must be application/json, got \(contentType)"
            )
        }
    }

    /// Parses a body already read; checks `contentType` first when given.
    func rows(from buffer: ByteBuffer, contentType: String?) throws -> PredictionRows {
        if let contentType { try Self.checkContentType(contentType) }
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(buffer.readableBytesView))
        } catch {
            throw APIError.invalid("body", "the body is not valid JSON: \(error)")
        }
        guard case .object(let members) = json else {
            throw APIError.invalid("body", "the body must be a JSON object with ndarray or features")
        }
        var ndarray: JSONValue?
        var features: JSONValue?
        for (key, value) in members {
            switch key {
            case "ndarray": ndarray = value
            case "features": features = value
            case "context": break
            default:
                throw APIError.invalid(
                    key,
                    "'\(key)' is not a field of a prediction request; expected ndarray, features and context"
                )
            }
        }
        if let ndarray, ndarray != .null {
            if let features, features != .null {
                throw APIError.invalid("body", "send ndarray or features, not both")
            }
            guard case .array(let rows) = ndarray else {
                throw APIError.invalid("ndarray", "ndarray must be a list of rows, e.g. [[5.1, 3.5, 1.4, 0.2]]")
            }
            var table: [[JSONTree]] = []
            table.reserveCapacity(rows.count)
            for (index, row) in rows.enumerated() {
                switch row {
                case .array(let values): table.append(values.map(Self.tree))
                default:
                    throw APIError.invalid(
                        "ndarray[\(index)]",
                        "ndarray must be a list of rows (lists of values); row \(index) is \(row.kind)"
                    )
                }
            }
            return .ndarray(table)
        }
        if let features, features != .null {
            let rows: [JSONValue]
            switch features {
            case .array(let values): rows = values
            case .object: rows = [features]
            default: throw APIError.invalid("features", "features must be an object or a list of objects")
            }
            var table: [[String: JSONTree]] = []
            for (index, row) in rows.enumerated() {
                guard case .object(let members) = row else {
                    throw APIError.invalid(
                        "features[\(index)]",
                        "features[\(index)] must be an object of feature values"
                    )
                }
                var values: [String: JSONTree] = [:]
                for (key, value) in members { values[key] = Self.tree(value) }
                table.append(values)
            }
            return .features(table)
        }
        throw APIError.invalid("body", "the body needs ndarray (a list of rows) or features (a list of objects)")
    }

    static func tree(_ value: JSONValue) -> JSONTree {
        switch value {
        case .null: .null
        case .bool(let value): .bool(value)
        case .int(let value): .integer(value)
        case .double(let value): .number(value)
        case .float(let value): .number(Double(value))
        case .string(let value): .string(value)
        case .array(let values): .array(values.map(Self.tree))
        case .object(let members):
            .object(Dictionary(members.map { ($0.0, Self.tree($0.1)) }, uniquingKeysWith: { $1 }))
        }
    }

    /// One row's answer: class items, or the model's raw outputs.
    enum RowAnswer {
        case classes([(name: String, probability: Double)])
        case values([OutputReader.OutputValue])
    }

    /// What each row answers: with classes, `{className, probability}` items (all of them when the model gives
    /// probabilities, cut by `threshold`, sorted by `order`, cut by `limit`; else the predicted class at 1); without,
    /// the raw outputs.
    static func rowAnswers(_ read: [OutputReader.Row], model: PreparedModel, query: Query) -> [RowAnswer] {
        read.map { row in
            if let classes = model.classes, let probabilities = row.probabilities, probabilities.count == classes.count
            {
                var items = zip(classes, probabilities).filter { $0.1 >= query.threshold }
                items.sort { query.descending ? $0.1 > $1.1 : $0.1 < $1.1 }
                if query.limit >= 0 { items = Array(items.prefix(query.limit)) }
                return .classes(items.map { (name: $0.0, probability: $0.1) })
            }
            if let classes = model.classes, case .index(let index)? = row.label, index >= 0, Int(index) < classes.count
            {
                return .classes([(name: classes[Int(index)], probability: 1)])
            }
            return .values(row.values)
        }
    }

    /// TeachableHub's answer, written straight to bytes (every request pays for it, so no JSON tree in between):
    /// `{"request_id", "environment", "version", "predictions"}`, where one row gives the flat shape and several
    /// rows one entry per row.
    static func answer(requestID: String, model: PreparedModel, rows read: [OutputReader.Row], query: Query) -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(192 + 48 * read.count * max(1, model.classes?.count ?? 1))
        out.append(contentsOf: #"{"request_id":"#.utf8)
        JSONValue.append(string: requestID, to: &out)
        out.append(contentsOf: #","environment":"#.utf8)
        JSONValue.append(string: model.environment, to: &out)
        out.append(contentsOf: #","version":"#.utf8)
        out.append(contentsOf: String(model.deployment.version).utf8)
        out.append(contentsOf: #","predictions":"#.utf8)
        let answers = Self.rowAnswers(read, model: model, query: query)
        if answers.count != 1 { out.append(UInt8(ascii: "[")) }
        for (index, answer) in answers.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            switch answer {
            case .classes(let items):
                for (position, item) in items.enumerated() {
                    out.append(contentsOf: (position == 0 ? #"{"className":"# : #",{"className":"#).utf8)
                    JSONValue.append(string: item.name, to: &out)
                    out.append(contentsOf: #","probability":"#.utf8)
                    JSONValue.append(number: item.probability, to: &out)
                    out.append(UInt8(ascii: "}"))
                }
            case .values(let values):
                for (position, value) in values.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    Self.json(value).write(to: &out)
                }
            }
            out.append(UInt8(ascii: "]"))
        }
        if answers.count != 1 { out.append(UInt8(ascii: "]")) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func json(_ value: OutputReader.OutputValue) -> JSONValue {
        switch value {
        case .number(let value): .double(value)
        case .integer(let value): .int(value)
        case .string(let value): .string(value)
        case .bool(let value): .bool(value)
        }
    }
}

/// Response headers saying which deployment answered.
package enum SlipwayHeaders {
    package static let model = HTTPField.Name("X-Slipway-Model")!
    package static let environment = HTTPField.Name("X-Slipway-Environment")!
    package static let version = HTTPField.Name("X-Slipway-Version")!
    package static let requestID = HTTPField.Name("X-Request-ID")!
    /// The client's key for sticky assignment to one arm of a traffic split.
    static let routeKey = HTTPField.Name("X-Slipway-Route-Key")!
}
