import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime

/// The Open Inference Protocol v2 REST API (KServe v2, spoken by `tritonclient` and KServe clients) under `/v2`.
///
/// A v2 model name is `owner__name` for the `production` environment or `owner__name__environment` (see
/// ``InferenceModelName``); `/versions/{v}` pins a deployment version of that environment, and without it the
/// active deployment answers. Credentials are those of the prediction API: a serving key of the model that covers
/// the environment (`X-Serving-Key` or `Authorization: Bearer`), a user token with read access, or none for public
/// models. Every error is `{"error": "…"}`.
///
/// ```swift
/// let router = Router(context: SlipwayRequestContext.self)
/// InferenceProtocolAPI(registry: registry, predictor: host).register(on: router)
/// ```
public struct InferenceProtocolAPI: Sendable {
    /// Limits and the names the server reports.
    public struct Configuration: Sendable {
        /// The largest request body accepted on `infer` (JSON header plus binary data), in bytes.
        public var maximumBodyBytes: Int
        /// The server name in the server metadata.
        public var serverName: String
        /// The server version in the server metadata.
        public var serverVersion: String

        /// The default body limit: 64 MiB.
        public static let defaultMaximumBodyBytes = 64 << 20

        /// Creates a configuration.
        public init(
            maximumBodyBytes: Int = Configuration.defaultMaximumBodyBytes,
            serverName: String = "slipway",
            serverVersion: String = "0.1.0"
        ) {
            self.maximumBodyBytes = maximumBodyBytes
            self.serverName = serverName
            self.serverVersion = serverVersion
        }
    }

    /// The platform string in model metadata.
    public static let platform = "slipway_onnx"
    /// The protocol extensions this server implements.
    public static let extensions = ["binary_tensor_data"]

    static let headerContentLength = HTTPField.Name("Inference-Header-Content-Length")!

    /// The JSON part's length declared in `Inference-Header-Content-Length`, or `nil` when the value is not a
    /// non-negative integer.
    static func headerLength(_ text: String) -> Int? {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else { return nil }
        return value
    }
    static let retryAfter = HTTPField.Name("Retry-After")!

    /// The registry (credentials, model lists, version lists).
    public let registry: Registry
    /// The runtime that loads and runs deployments.
    public let predictor: any Predictor
    /// Limits and names.
    public let configuration: Configuration
    /// Throws when the server should not take traffic (`/v2/health/ready` answers 503).
    public let readiness: @Sendable () async throws -> Void
    /// Who may predict with what (cached for a second per credential, model and environment).
    let access: ServingAccess
    /// The serving keys' token buckets.
    let limiter: RateLimiter
    /// Receives a record of every inference request.
    let recorder: (any PredictionRecorder)?
    /// Copies requests to the environment's shadow deployments.
    let shadows: ShadowTraffic

    /// Creates the API with its own credential cache and rate limits.
    public init(
        registry: Registry,
        predictor: any Predictor,
        configuration: Configuration = Configuration(),
        readiness: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.registry = registry
        self.predictor = predictor
        self.configuration = configuration
        self.readiness = readiness
        self.access = ServingAccess(registry: registry)
        self.limiter = RateLimiter()
        self.recorder = nil
        self.shadows = ShadowTraffic(predictor: predictor, recorder: nil)
    }

    /// Creates the API sharing the prediction API's credential cache and rate limits, so that a serving key's
    /// rate covers its predictions over both protocols.
    public init(
        registry: Registry,
        predictor: any Predictor,
        configuration: Configuration = Configuration(),
        readiness: @escaping @Sendable () async throws -> Void = {},
        sharingLimitsWith prediction: PredictionAPI
    ) {
        self.registry = registry
        self.predictor = predictor
        self.configuration = configuration
        self.readiness = readiness
        self.access = prediction.access
        self.limiter = prediction.limiter
        self.recorder = prediction.recorder
        self.shadows = prediction.shadows
    }

    /// Adds the `/v2` routes, with their own error middleware, to `router`.
    public func register(on router: Router<SlipwayRequestContext>) {
        let v2 = router.group("v2").add(middleware: InferenceProtocolErrorMiddleware())
        v2.get { _, _ in self.serverMetadata() }
        v2.get("health/live") { _, _ in Self.json(.object([("live", .bool(true))])) }
        v2.get("health/ready") { _, context in try await self.serverReady(context: context) }
        v2.get("models") { request, _ in try await self.listModels(request) }
        for prefix in ["models/:model", "models/:model/versions/:version"] {
            v2.get(RouterPath(prefix)) { request, context in try await self.modelMetadata(request, context: context) }
            v2.get(RouterPath(prefix + "/ready")) { request, context in
                try await self.modelReady(request, context: context)
            }
            v2.post(RouterPath(prefix + "/infer")) { request, context in
                try await self.infer(request, context: context)
            }
        }
    }

    // MARK: Server

    func serverMetadata() -> Response {
        Self.json(
            .object([
                ("name", .string(self.configuration.serverName)),
                ("version", .string(self.configuration.serverVersion)),
                ("extensions", .array(Self.extensions.map { .string($0) })),
            ])
        )
    }

    func serverReady(context: SlipwayRequestContext) async throws -> Response {
        do {
            try await self.readiness()
        } catch {
            context.logger.info("not ready", metadata: ["error": "\(error)"])
            throw InferenceProtocolError(.serviceUnavailable, "the server is not ready: \(error)")
        }
        return Self.json(.object([("ready", .bool(true))]))
    }

    /// `GET /v2/models`: the v2 names of every environment with an active deployment, in the models the caller may
    /// predict with (a serving key: its own model and environments).
    func listModels(_ request: Request) async throws -> Response {
        let principal = try await self.registry.authenticate(secret: Credentials.secret(in: request))
        var names: [String] = []
        func add(_ model: SlipwayRegistry.Model, allowed: Set<String>?) async throws {
            for environment in try await self.registry.repository.environments(modelID: model.id)
            where environment.activeDeploymentID != nil && (allowed?.contains(environment.name) ?? true) {
                names.append(
                    InferenceModelName(owner: model.owner, name: model.name, environment: environment.name).description
                )
            }
        }
        if case .servingKey(let key) = principal {
            if let model = try await self.registry.repository.model(id: key.modelID) {
                try await add(model, allowed: Set(key.environments))
            }
        } else {
            var page = 1
            while page <= 50 {
                let models = try await self.registry.listModels(
                    page: PageRequest(page: page, size: PageRequest.maximumSize),
                    by: principal
                )
                // Anonymous callers may only use public models that allow anonymous predictions.
                for model in models.items where principal != .anonymous || model.allowsAnonymousPredictions {
                    try await add(model, allowed: nil)
                }
                if page >= models.lastPage { break }
                page += 1
            }
        }
        return Self.json(.object([("models", .array(names.sorted().map { .string($0) }))]))
    }

    // MARK: Models

    /// Resolves the route's model name and version, prepares the deployment, and authorises the caller as the
    /// prediction API does: a serving key of the model that covers the environment, a user token or deploy key that
    /// may read the model, or no credential for a public model that allows anonymous predictions.
    ///
    /// - Returns: the name as requested, the deployment, and the serving key used (for rate limiting), if any.
    func resolve(
        _ request: Request,
        context: SlipwayRequestContext
    ) async throws -> (String, PreparedModel, AccessKey?) {
        let text = context.parameters.get("model") ?? ""
        guard let name = InferenceModelName(text) else {
            throw InferenceProtocolError.notFound(
                "unknown model '\(text)': v2 model names are owner__name (the production environment) "
                    + "or owner__name__environment"
            )
        }
        var version: Int?
        if let versionText = context.parameters.get("version") {
            guard let number = Int(versionText), number > 0 else {
                throw InferenceProtocolError.notFound(
                    "unknown version '\(versionText)' of model '\(text)': versions are the deployment numbers 1, 2, 3…"
                )
            }
            version = number
        }
        let secret = try Credentials.secret(in: request)
        let prepared = try await self.predictor.prepare(
            owner: name.owner,
            name: name.name,
            environment: name.environment,
            version: version
        )
        let decision = try await self.access.decide(
            secret: secret,
            model: prepared.model,
            environment: prepared.environment
        )
        if let refusal = decision.refusal { throw refusal }
        return (text, prepared, decision.key)
    }

    func modelReady(_ request: Request, context: SlipwayRequestContext) async throws -> Response {
        let (name, _, _) = try await self.resolve(request, context: context)
        return Self.json(.object([("name", .string(name)), ("ready", .bool(true))]))
    }

    func modelMetadata(_ request: Request, context: SlipwayRequestContext) async throws -> Response {
        let (name, prepared, _) = try await self.resolve(request, context: context)
        let verified = try await self.registry.repository.listDeployments(
            modelID: prepared.model.id,
            filter: DeploymentFilter(environmentID: prepared.deployment.environmentID, status: .verified),
            page: PageRequest(page: 1, size: PageRequest.maximumSize)
        )
        var versions = Set(verified.items.map(\.version))
        versions.insert(prepared.deployment.version)
        let model = prepared.session.model
        return Self.json(
            .object([
                ("name", .string(name)),
                ("versions", .array(versions.sorted().map { .string(String($0)) })),
                ("platform", .string(Self.platform)),
                ("inputs", .array(model.inputs.map(Self.metadata))),
                ("outputs", .array(model.outputs.map(Self.metadata))),
            ])
        )
    }

    /// One `{"name", "datatype", "shape"}` tensor description; variable dimensions are -1, and a value without a
    /// declared shape is `[-1]`. A ZipMap output (a sequence of maps) is described as the FP32 `[rows, classes]`
    /// tensor the infer route returns for it.
    static func metadata(_ info: ValueInfo) -> JSONValue {
        let datatype: String
        var shape: [Int64]
        switch info.type {
        case .tensor(let type):
            datatype = type.protocolName
            shape =
                info.shape?.map { dimension in
                    if case .fixed(let size) = dimension { Int64(size) } else { -1 }
                } ?? [-1]
        case .mapSequence:
            datatype = "FP32"
            shape = [-1, -1]
        }
        return .object([
            ("name", .string(info.name)),
            ("datatype", .string(datatype)),
            ("shape", .array(shape.map { .int($0) })),
        ])
    }

    // MARK: Inference

    /// What an inference request got as far as, for its ``PredictionRecord``.
    struct Trace {
        var prepared: PreparedModel?
        var keyName: String?
        var inputs: [String: Tensor]?
        var outputs: [OutputReader.Row]?

        /// The request's record for monitoring, answered with `status` (a refusal's error code follows from it).
        func record(
            _ requestID: String,
            _ receivedAt: Date,
            _ started: ContinuousClock.Instant,
            status: HTTPResponse.Status
        ) -> PredictionRecord {
            PredictionRecord(
                requestID: requestID,
                receivedAt: receivedAt,
                latency: PredictionAPI.seconds(ContinuousClock.now - started),
                surface: .inferenceProtocol,
                status: Int(status.code),
                errorCode: status == .ok ? nil : ErrorMiddleware.code(for: status),
                prepared: self.prepared,
                keyName: self.keyName,
                inputs: self.inputs,
                outputs: self.outputs
            )
        }
    }

    func infer(_ request: Request, context: SlipwayRequestContext) async throws -> Response {
        var trace = Trace()
        guard let recorder = self.recorder else { return try await self.infer(request, context, trace: &trace) }
        let receivedAt = Date()
        let started = ContinuousClock.now
        do {
            let response = try await self.infer(request, context, trace: &trace)
            recorder.record(trace.record(context.requestID, receivedAt, started, status: response.status))
            return response
        } catch {
            let refusal = InferenceProtocolError.from(error, logger: context.logger)
            recorder.record(trace.record(context.requestID, receivedAt, started, status: refusal.status))
            throw refusal
        }
    }

    func infer(
        _ request: Request,
        _ context: SlipwayRequestContext,
        trace: inout Trace
    ) async throws -> Response {
        let limit = self.configuration.maximumBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw Self.tooLarge(limit)
        }
        if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "identity" {
            throw InferenceProtocolError.badRequest(
                "Content-Encoding '\(encoding)' is not supported; send the body uncompressed"
            )
        }
        var headerLength: Int?
        if let text = request.headers[Self.headerContentLength] {
            guard let value = Self.headerLength(text) else {
                throw InferenceProtocolError.badRequest(
                    "Inference-Header-Content-Length must be a non-negative integer, got '\(text)'"
                )
            }
            headerLength = value
        }
        let (name, resolved, key) = try await self.resolve(request, context: context)
        // Unpinned requests follow the environment's traffic split (sticky by X-Slipway-Route-Key) and feed its
        // shadows; a pinned version answers itself.
        let isPinned = context.parameters.get("version") != nil
        let prepared = isPinned ? resolved : resolved.routed(key: request.headers[SlipwayHeaders.routeKey])
        trace.prepared = prepared
        trace.keyName = key?.name
        let rateHeaders = try self.admit(key)

        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw Self.tooLarge(limit)
        }
        let decoded = try InferenceProtocolRequest.decode(Array(buffer.readableBytesView), headerLength: headerLength)
        let inputs = decoded.inputDictionary
        trace.inputs = inputs
        let outputs = try await self.predictor.infer(
            prepared,
            inputs: inputs,
            outputs: decoded.outputs?.map(\.name)
        )
        let (headers, body) = self.finish(
            name,
            prepared: prepared,
            resolved: resolved,
            isPinned: isPinned,
            request: decoded,
            inputs: inputs,
            outputs: outputs,
            rateHeaders: rateHeaders,
            requestID: context.requestID,
            trace: &trace
        )
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// Takes a token from the serving key's rate limit: its `RateLimit-*` headers, or the 429 refusal.
    func admit(_ key: AccessKey?) throws -> HTTPFields {
        guard let key, let rate = key.rateLimit else { return HTTPFields() }
        let outcome = self.limiter.take(key: key.id, rate: rate)
        guard outcome.allowed else {
            throw InferenceProtocolError(
                .tooManyRequests,
                "the serving key '\(key.name)' allows \(rate) predictions per second; "
                    + "retry after \(outcome.retryAfter) s",
                headers: outcome.refusalHeaders
            )
        }
        return outcome.headers
    }

    /// After the model answered: the outputs for the record, the request mirrored to the environment's shadows
    /// (unpinned requests only), and the answer's headers (its own, the rate limit's, the deployment's) and body.
    func finish(
        _ name: String,
        prepared: PreparedModel,
        resolved: PreparedModel,
        isPinned: Bool,
        request: InferenceProtocolRequest,
        inputs: [String: Tensor],
        outputs: [(String, Value)],
        rateHeaders: HTTPFields,
        requestID: String,
        trace: inout Trace
    ) -> (headers: HTTPFields, body: ByteBuffer) {
        if self.recorder != nil, let batch = request.inputs.first?.tensor.shape.first {
            trace.outputs = OutputReader.rows(outputs, count: batch, classCount: prepared.classes?.count)
        }
        if !isPinned, let shadows = resolved.traffic?.shadowsForRequest(), !shadows.isEmpty {
            self.shadows.mirror(.tensors(inputs), to: shadows, requestID: requestID, keyName: trace.keyName)
        }
        var (headers, body) = Self.responseParts(
            modelName: name,
            modelVersion: String(prepared.deployment.version),
            request: request,
            outputs: outputs
        )
        headers.append(contentsOf: rateHeaders)
        headers[SlipwayHeaders.model] = prepared.model.fullName
        headers[SlipwayHeaders.environment] = prepared.environment
        headers[SlipwayHeaders.version] = String(prepared.deployment.version)
        return (headers, body)
    }

    // MARK: Immediate inference

    /// Serves `POST /v2/models/{model}[/versions/{version}]/infer` on the calling thread when everything it needs is
    /// at hand, as ``PredictionAPI/answerNow(owner:name:uri:headers:body:requestID:logger:)`` does for TeachableHub
    /// predictions: the deployment warm and ready, the credential's decision cached and allowing, the body valid (JSON,
    /// or JSON and tensor bytes with the binary extension), the model's calls measured cheap with a slot free. Else
    /// `nil`, before anything was recorded or a rate-limit token taken: the caller hands the request to the router,
    /// which gives the same answer or refusal.
    package func inferNow(
        model text: String,
        version versionText: String?,
        headers requestHeaders: some RequestHeaders,
        body: ByteBuffer,
        requestID: String,
        logger: Logger
    ) -> PredictionAPI.ImmediateAnswer? {
        let receivedAt = Date()
        let started = ContinuousClock.now
        guard body.readableBytes <= self.configuration.maximumBodyBytes,
            requestHeaders.value(.contentEncoding).map({ $0.lowercased() == "identity" }) ?? true,
            let name = InferenceModelName(text)
        else { return nil }
        // The binary tensor extension: JSON up to the declared length, tensor bytes after it. A malformed length is
        // the router's to refuse.
        var headerLength: Int?
        if let declared = requestHeaders.value(Self.headerContentLength) {
            guard let value = Self.headerLength(declared) else { return nil }
            headerLength = value
        }
        var version: Int?
        if let versionText {
            guard let number = Int(versionText), number > 0 else { return nil }
            version = number
        }
        guard let secret = try? Credentials.secret(in: requestHeaders),
            let resolved = self.predictor.preparedIfReady(
                owner: name.owner,
                name: name.name,
                environment: name.environment,
                version: version
            ),
            let decision = self.access.cachedDecision(
                secret: secret,
                model: resolved.model,
                environment: resolved.environment
            ),
            decision.refusal == nil,
            let decoded = try? InferenceProtocolRequest.decode(
                Array(body.readableBytesView),
                headerLength: headerLength
            )
        else { return nil }
        let inputs = decoded.inputDictionary
        // As on the route: unpinned requests follow the traffic split. A slot is reserved on every arm before the
        // draw, so that handing a request to the router never depends on the draw (which would skew the shares).
        let isPinned = version != nil
        let candidates =
            !isPinned && resolved.traffic?.isSplit == true ? resolved.traffic?.armModels ?? [resolved] : [resolved]
        let rows = inputs.values.first?.shape.first ?? 1
        var slots: [UUID: InlineInference] = [:]
        for candidate in candidates {
            guard let slot = self.predictor.inlineSlot(candidate, rows: rows) else { return nil }
            slots[candidate.deployment.id] = slot
        }
        let prepared = isPinned ? resolved : resolved.routed(key: requestHeaders.value(SlipwayHeaders.routeKey))
        var trace = Trace(prepared: prepared, keyName: decision.key?.name, inputs: inputs)
        do {
            let rateHeaders = try self.admit(decision.key)
            guard let slot = slots[prepared.deployment.id] else {
                // Unreachable: the deployment that answers is one of the candidates reserved above.
                throw RuntimeError(.unavailable, "no inference slot was reserved for the deployment that answers")
            }
            let outputs = try slot.run(inputs, outputs: decoded.outputs?.map(\.name))
            let (headers, body) = self.finish(
                text,
                prepared: prepared,
                resolved: resolved,
                isPinned: isPinned,
                request: decoded,
                inputs: inputs,
                outputs: outputs,
                rateHeaders: rateHeaders,
                requestID: requestID,
                trace: &trace
            )
            self.recorder?.record(trace.record(requestID, receivedAt, started, status: .ok))
            return PredictionAPI.ImmediateAnswer(status: .ok, headers: headers, body: body)
        } catch {
            let refusal = InferenceProtocolError.from(error, logger: logger)
            self.recorder?.record(trace.record(requestID, receivedAt, started, status: refusal.status))
            let (headers, body) = refusal.parts()
            return PredictionAPI.ImmediateAnswer(status: refusal.status, headers: headers, body: body)
        }
    }

    static func tooLarge(_ limit: Int) -> InferenceProtocolError {
        InferenceProtocolError(
            .contentTooLarge,
            "the request body is larger than this server's limit of \(limit) bytes; send fewer rows per request"
        )
    }

    /// The inference response's headers (its content type, and the binary header's length) and body: JSON, or the
    /// JSON header followed by the binary outputs in output order.
    static func responseParts(
        modelName: String,
        modelVersion: String,
        request: InferenceProtocolRequest,
        outputs: [(String, Value)]
    ) -> (headers: HTTPFields, body: ByteBuffer) {
        var binary: [UInt8] = []
        var tensors: [JSONValue] = []
        for (name, value) in outputs {
            guard request.isBinary(name) else {
                tensors.append(InferenceResponse.encode(name: name, value: value))
                continue
            }
            let tensor: Tensor
            var parameters: [(String, JSONValue)] = []
            switch value {
            case .tensor(let t):
                tensor = t
            case .mapSequence(let map):
                tensor = map.scores
                switch map.keys {
                case .strings(let keys): parameters.append(("keys", .array(keys.map { .string($0) })))
                case .int64s(let keys): parameters.append(("keys", .array(keys.map { .int($0) })))
                }
            }
            let start = binary.count
            BinaryTensorData.encode(tensor, into: &binary)
            parameters.insert(("binary_data_size", .int(Int64(binary.count - start))), at: 0)
            tensors.append(
                .object([
                    ("name", .string(name)),
                    ("datatype", .string(tensor.elementType.protocolName)),
                    ("shape", .array(tensor.shape.map { .int(Int64($0)) })),
                    ("parameters", .object(parameters)),
                ])
            )
        }
        var members: [(String, JSONValue)] = [
            ("model_name", .string(modelName)),
            ("model_version", .string(modelVersion)),
        ]
        if let id = request.id { members.append(("id", .string(id))) }
        members.append(("outputs", .array(tensors)))
        let header = JSONValue.object(members).serializedBytes()
        var headers = HTTPFields()
        let hasBinary = outputs.contains { request.isBinary($0.0) }
        guard hasBinary else {
            headers[.contentType] = "application/json"
            return (headers, ByteBuffer(bytes: header))
        }
        headers[.contentType] = "application/octet-stream"
        headers[Self.headerContentLength] = String(header.count)
        var body = ByteBuffer()
        body.reserveCapacity(header.count + binary.count)
        body.writeBytes(header)
        body.writeBytes(binary)
        return (headers, body)
    }

    static func json(_ value: JSONValue) -> Response {
        self.json(value.serializedBytes())
    }

    static func json(_ bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
