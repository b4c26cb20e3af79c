import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import SlipwayAPI
import SlipwayRegistry

/// The routes of the prediction log, feedback, quality metrics, the key metric, alert rules and webhooks.
///
/// ```console
/// $ curl -X POST 'localhost:8080/v1/acme/iris/feedback?environment=production' -H "X-Serving-Key: $KEY" \
///     -d '{"request_id": "0f8…", "label": "setosa"}'
/// {"accepted":1,"unchanged":0}
/// ```
public struct FeedbackAPI: Sendable {
    let registry: Registry
    let repository: any FeedbackRepository
    let recorder: FeedbackRecorder
    let configuration: FeedbackConfiguration
    let access: ServingAccess
    let metrics: (any MetricsFactory)?

    /// The most feedback items one request may carry.
    public static let maximumBatch = 1_000

    /// Creates the routes; `metrics` receives the key metric gauge (the global metrics system when `nil`).
    public init(
        registry: Registry,
        repository: any FeedbackRepository,
        recorder: FeedbackRecorder,
        configuration: FeedbackConfiguration,
        metrics: (any MetricsFactory)? = nil
    ) {
        self.registry = registry
        self.repository = repository
        self.recorder = recorder
        self.configuration = configuration
        self.access = ServingAccess(registry: registry)
        self.metrics = metrics
    }

    /// Adds the routes to `router`.
    public func register(on router: Router<SlipwayRequestContext>) {
        router.post("v1/:owner/:name/feedback") { request, context in
            try await self.postFeedback(request, context)
        }
        let models = router.group("api/v1/models/:owner/:name")
        models.get("environments/:env/prediction-log") { request, context in
            try await self.getLogSettings(request, context)
        }
        models.put("environments/:env/prediction-log") { request, context in
            try await self.putLogSettings(request, context)
        }
        models.get("environments/:env/predictions") { request, context in
            try await self.listPredictions(request, context)
        }
        models.get("environments/:env/predictions/export") { request, context in
            try await self.exportPredictions(request, context)
        }
        models.get("environments/:env/metrics") { request, context in
            try await self.metrics(request, context)
        }
        models.get("key-metric") { request, context in try await self.getKeyMetric(request, context) }
        models.put("key-metric") { request, context in try await self.putKeyMetric(request, context) }
        models.get("alerts") { request, context in try await self.listAlerts(request, context) }
        models.post("alerts") { request, context in try await self.createAlert(request, context) }
        models.delete("alerts/:alert") { request, context in try await self.deleteAlert(request, context) }
        models.get("webhooks") { request, context in try await self.listWebhooks(request, context) }
        models.post("webhooks") { request, context in try await self.createWebhook(request, context) }
        models.delete("webhooks/:webhook") { request, context in try await self.deleteWebhook(request, context) }
    }

    // MARK: Reading bodies

    /// A JSON object body, bounded.
    static func object(_ request: inout Request, limit: Int = Wire.maximumJSONBody) async throws -> [String: JSONTree] {
        let contentType = request.headers[.contentType] ?? ""
        if !contentType.isEmpty && !contentType.lowercased().hasPrefix("application/json") {
            throw APIError(
                .unsupportedMediaType,
                code: "unsupported_media_type",
                detail: "the body must be application/json, got \(contentType)"
            )
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(
                .contentTooLarge,
                code: "payload_too_large",
                detail: "the body must be at most \(limit) bytes"
            )
        }
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        guard let parsed = try? JSONTree.parse(text.isEmpty ? "{}" : text, field: "body", limit: limit) else {
            throw APIError.invalid("body", "the body is not valid JSON")
        }
        guard case .object(let object) = parsed else {
            throw APIError.invalid("body", "the body must be a JSON object")
        }
        return object
    }

    static func rejectUnknown(_ object: [String: JSONTree], allowed: Set<String>, prefix: String = "") throws {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.invalid(
                prefix + unknown,
                "'\(prefix + unknown)' is not a field of this request; expected one of: \(allowed.sorted().joined(separator: ", "))"
            )
        }
    }

    static func number(_ value: JSONTree?, field: String) throws -> Double? {
        switch value {
        case nil, .null?: return nil
        case .integer(let number)?: return Double(number)
        case .number(let number)? where number.isFinite: return number
        default: throw APIError.invalid(field, "\(field) must be a number")
        }
    }

    static func integer(_ value: JSONTree?, field: String, range: ClosedRange<Int>) throws -> Int? {
        guard let number = try self.number(value, field: field) else { return nil }
        guard number == number.rounded(), number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw APIError.invalid(field, "\(field) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number)
    }

    static func string(_ value: JSONTree?, field: String) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw APIError.invalid(field, "\(field) must be a string")
        }
    }

    /// The route's model (`{owner}/{name}`), once the caller is known and may read its monitoring (or, `changing`,
    /// change it): every monitoring route starts here.
    func monitoredModel(
        _ request: Request,
        _ context: SlipwayRequestContext,
        changing: Bool
    ) async throws -> (Model, Principal) {
        let principal = try await self.registry.principal(for: request)
        let model = try await self.registry.monitoredModel(
            owner: try context.owner,
            name: try context.name,
            changing: changing,
            by: principal
        )
        return (model, principal)
    }

    /// The route's model and environment (`{env}`), checked as ``monitoredModel(_:_:changing:)`` does.
    func monitoredEnvironment(
        _ request: Request,
        _ context: SlipwayRequestContext,
        changing: Bool
    ) async throws -> (Model, SlipwayRegistry.Environment, Principal) {
        let principal = try await self.registry.principal(for: request)
        let (model, environment) = try await self.registry.monitoredEnvironment(
            owner: try context.owner,
            name: try context.name,
            environment: try Self.environmentParameter(context),
            changing: changing,
            by: principal
        )
        return (model, environment, principal)
    }

    static func environmentParameter(_ context: SlipwayRequestContext) throws -> String {
        let environment = try context.parameters.require("env")
        guard Names.isValid(environment) else {
            throw APIError.invalid("environment", "environment '\(environment)' is not a valid environment name")
        }
        return environment
    }

    // MARK: Feedback

    struct FeedbackItem {
        var requestID: String
        var row: Int
        var label: String?
        var value: Double?
        var outcome: Double?
    }

    static func feedbackItem(_ object: [String: JSONTree], prefix: String) throws -> FeedbackItem {
        try self.rejectUnknown(object, allowed: ["request_id", "row", "label", "value", "outcome"], prefix: prefix)
        guard let requestID = try self.string(object["request_id"], field: prefix + "request_id"), !requestID.isEmpty
        else {
            throw APIError.invalid(
                prefix + "request_id",
                "\(prefix)request_id is required (the prediction's request_id)"
            )
        }
        guard requestID.utf8.count <= 200 else {
            throw APIError.invalid(prefix + "request_id", "\(prefix)request_id must be at most 200 bytes")
        }
        let row = try self.integer(object["row"], field: prefix + "row", range: 0...10_000) ?? 0
        let label: String?
        switch object["label"] {
        case nil, .null?: label = nil
        case .string(let text)?: label = text
        // Integer class labels may be sent as numbers.
        case .integer(let number)?: label = String(number)
        default: throw APIError.invalid(prefix + "label", "\(prefix)label must be a class name (a string)")
        }
        if let label, label.isEmpty || label.utf8.count > 1_000 {
            throw APIError.invalid(prefix + "label", "\(prefix)label must be 1 to 1,000 bytes")
        }
        let value = try self.number(object["value"], field: prefix + "value")
        let outcome = try self.number(object["outcome"], field: prefix + "outcome")
        if label != nil && value != nil {
            throw APIError.invalid(prefix + "value", "send either label (classifiers) or value (regressors), not both")
        }
        guard label != nil || value != nil || outcome != nil else {
            throw APIError.invalid(prefix + "label", "\(prefix)label, value or outcome is required")
        }
        return FeedbackItem(requestID: requestID, row: row, label: label, value: value, outcome: outcome)
    }

    func postFeedback(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        var request = request
        let owner = try context.owner
        let name = try context.name
        var environment = "production"
        if let text = request.uri.queryParameters.get("environment"), !text.isEmpty {
            guard Names.isValid(text) else {
                throw APIError.invalid("environment", "environment '\(text)' is not a valid environment name")
            }
            environment = text
        }
        let secret = try Credentials.secret(in: request)
        guard let model = try await self.registry.repository.model(owner: owner, name: name) else {
            throw APIError(.notFound, code: "not_found", detail: "model \(owner)/\(name) does not exist")
        }
        let decision = try await self.access.decide(secret: secret, model: model, environment: environment)
        if let refusal = decision.refusal { throw refusal }

        let body = try await Self.object(&request, limit: 2 << 20)
        var items: [FeedbackItem] = []
        if let batch = body["feedback"] {
            try Self.rejectUnknown(body, allowed: ["feedback"])
            guard case .array(let array) = batch else {
                throw APIError.invalid("feedback", "feedback must be an array of feedback objects")
            }
            guard !array.isEmpty else { throw APIError.invalid("feedback", "feedback must not be empty") }
            guard array.count <= Self.maximumBatch else {
                throw APIError(
                    .contentTooLarge,
                    code: "payload_too_large",
                    detail: "a request may carry at most \(Self.maximumBatch) feedback items, got \(array.count)"
                )
            }
            for (index, element) in array.enumerated() {
                guard case .object(let object) = element else {
                    throw APIError.invalid("feedback[\(index)]", "feedback[\(index)] must be an object")
                }
                items.append(try Self.feedbackItem(object, prefix: "feedback[\(index)]."))
            }
        } else {
            items.append(try Self.feedbackItem(body, prefix: ""))
        }

        // Everything is checked before anything is written: a batch is stored whole or not at all.
        let now = Date()
        var fresh: [String: FeedbackEntry] = [:]
        var order: [String] = []
        var unchanged = 0
        var outcomes: [String: PredictionOutcome] = [:]
        for (index, item) in items.enumerated() {
            let field = items.count > 1 || body["feedback"] != nil ? "feedback[\(index)].request_id" : "request_id"
            let outcome: PredictionOutcome
            if let known = outcomes[item.requestID] {
                outcome = known
            } else {
                guard let found = try await self.repository.outcome(requestID: item.requestID, modelID: model.id),
                    found.environment == environment
                else {
                    throw APIError(
                        .notFound,
                        code: "not_found",
                        detail:
                            "request \(item.requestID) is unknown in the \(environment) environment of \(model.fullName) or has expired (predictions are kept for feedback for \(self.configuration.outcomeRetentionDays) days)",
                        field: field
                    )
                }
                outcomes[item.requestID] = found
                outcome = found
            }
            try Self.check(
                item,
                against: outcome,
                model: model,
                prefix: field.replacingOccurrences(of: "request_id", with: "")
            )
            let entry = FeedbackEntry(
                requestID: item.requestID,
                row: item.row,
                modelID: model.id,
                at: now,
                label: item.label,
                value: item.value,
                outcome: item.outcome
            )
            let key = "\(item.requestID)\u{0}\(item.row)"
            if let earlier = fresh[key] {
                guard earlier.hasSameContent(as: entry) else {
                    throw APIError(
                        .conflict,
                        code: "conflict",
                        detail: "the batch gives two different feedbacks for request \(item.requestID) row \(item.row)",
                        field: field
                    )
                }
                unchanged += 1
                continue
            }
            if let stored = try await self.repository.feedback(
                modelID: model.id,
                requestID: item.requestID,
                row: item.row
            ) {
                guard stored.hasSameContent(as: entry) else {
                    throw APIError(
                        .conflict,
                        code: "conflict",
                        detail:
                            "feedback for request \(item.requestID) row \(item.row) was already given with different content; the first feedback stands",
                        field: field
                    )
                }
                unchanged += 1
                continue
            }
            fresh[key] = entry
            order.append(key)
        }
        try await self.repository.insertFeedback(order.compactMap { fresh[$0] })
        return try Wire.json(FeedbackAnswer(accepted: order.count, unchanged: unchanged))
    }

    struct FeedbackAnswer: Encodable {
        var accepted: Int
        var unchanged: Int
    }

    /// Refuses feedback that does not fit the prediction: a refused request, a row it did not have, a label for a
    /// regressor, a value for a classifier, a label not among the classes.
    static func check(_ item: FeedbackItem, against outcome: PredictionOutcome, model: Model, prefix: String) throws {
        guard let predictions = outcome.predictions else {
            throw APIError(
                .unprocessableContent,
                code: "invalid_input",
                detail:
                    "request \(item.requestID) was not answered (status \(outcome.status)); feedback needs an answered prediction",
                field: prefix + "request_id"
            )
        }
        guard item.row < predictions.count else {
            throw APIError.invalid(
                prefix + "row",
                "request \(item.requestID) had \(predictions.count) row(s); row must be from 0 to \(predictions.count - 1)"
            )
        }
        let prediction = predictions[item.row]
        let isRegressor = prediction.label == nil && prediction.value != nil
        if let label = item.label {
            guard !isRegressor else {
                throw APIError(
                    .unprocessableContent,
                    code: "invalid_input",
                    detail: "\(model.fullName) version \(outcome.version) is a regressor: send value, not label",
                    field: prefix + "label"
                )
            }
            if let classes = outcome.classes, !classes.contains(label) {
                throw APIError(
                    .unprocessableContent,
                    code: "invalid_input",
                    detail:
                        "label '\(label)' is not a class of \(model.fullName) version \(outcome.version); expected one of: \(classes.joined(separator: ", "))",
                    field: prefix + "label"
                )
            }
        }
        if item.value != nil && !isRegressor {
            throw APIError(
                .unprocessableContent,
                code: "invalid_input",
                detail: "\(model.fullName) version \(outcome.version) is a classifier: send label, not value",
                field: prefix + "value"
            )
        }
    }

    // MARK: Prediction log settings

    struct LogSettingsDTO: Encodable {
        var environment: String
        var enabled: Bool
        var sampleRate: Double
        var maxRows: Int
        var maxAgeDays: Int

        enum CodingKeys: String, CodingKey {
            case environment, enabled
            case sampleRate = "sample_rate"
            case maxRows = "max_rows"
            case maxAgeDays = "max_age_days"
        }

        init(_ settings: PredictionLogSettings) {
            self.environment = settings.environment
            self.enabled = settings.isEnabled
            self.sampleRate = settings.sampleRate
            self.maxRows = settings.maximumRows
            self.maxAgeDays = settings.maximumAgeDays
        }
    }

    /// The defaults of an environment without settings: off, everything sampled once on, 100,000 rows, 30 days.
    static func defaultSettings(modelID: UUID, environment: String) -> PredictionLogSettings {
        PredictionLogSettings(
            modelID: modelID,
            environment: environment,
            isEnabled: false,
            sampleRate: 1,
            maximumRows: 100_000,
            maximumAgeDays: 30
        )
    }

    func currentSettings(modelID: UUID, environment: String) async throws -> PredictionLogSettings {
        try await self.repository.allPredictionLogSettings().first {
            $0.modelID == modelID && $0.environment == environment
        } ?? Self.defaultSettings(modelID: modelID, environment: environment)
    }

    func getLogSettings(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let (model, environment, _) = try await self.monitoredEnvironment(
            request,
            context,
            changing: false
        )
        return try Wire.json(
            LogSettingsDTO(try await self.currentSettings(modelID: model.id, environment: environment.name))
        )
    }

    func putLogSettings(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        var request = request
        let (model, environment, principal) = try await self.monitoredEnvironment(
            request,
            context,
            changing: true
        )
        let body = try await Self.object(&request)
        try Self.rejectUnknown(
            body,
            allowed: ["enabled", "sample_rate", "sampleRate", "max_rows", "maxRows", "max_age_days", "maxAgeDays"]
        )
        var settings = try await self.currentSettings(modelID: model.id, environment: environment.name)
        guard let enabled = body["enabled"] else {
            throw APIError.invalid("enabled", "enabled is required (true or false)")
        }
        guard case .bool(let flag) = enabled else {
            throw APIError.invalid("enabled", "enabled must be true or false")
        }
        settings.isEnabled = flag
        if let rate = try Self.number(body["sample_rate"] ?? body["sampleRate"], field: "sample_rate") {
            guard (0...1).contains(rate) else {
                throw APIError.invalid("sample_rate", "sample_rate must be a share from 0 to 1, got \(rate)")
            }
            settings.sampleRate = rate
        }
        if let rows = try Self.integer(body["max_rows"] ?? body["maxRows"], field: "max_rows", range: 1...10_000_000) {
            settings.maximumRows = rows
        }
        if let days = try Self.integer(
            body["max_age_days"] ?? body["maxAgeDays"],
            field: "max_age_days",
            range: 1...365
        ) {
            settings.maximumAgeDays = days
        }
        let detail =
            settings.isEnabled
            ? "prediction log on: sample rate \(settings.sampleRate), at most \(settings.maximumRows) rows, \(settings.maximumAgeDays) days"
            : "prediction log off"
        try await self.repository.savePredictionLogSettings(
            settings,
            event: self.registry.monitoringEvent(
                .predictionLogUpdated,
                on: model,
                by: principal,
                environment: environment.name,
                detail: detail
            )
        )
        self.recorder.updateSettings(settings)
        return try Wire.json(LogSettingsDTO(settings))
    }

    // MARK: Prediction log

    struct LogEntryDTO: Encodable {
        var id: Int64
        var requestID: String
        var at: String
        var version: Int
        var keyName: String?
        var status: Int
        var latencyMs: Double
        var inputs: JSONTree
        var outputs: JSONTree

        enum CodingKeys: String, CodingKey {
            case id, at, version, status, inputs, outputs
            case requestID = "request_id"
            case keyName = "key_name"
            case latencyMs = "latency_ms"
        }

        init(_ entry: PredictionLogEntry) {
            self.id = entry.id
            self.requestID = entry.requestID
            self.at = Timestamp.format(entry.at)
            self.version = entry.version
            self.keyName = entry.keyName
            self.status = entry.status
            self.latencyMs = entry.latency * 1_000
            self.inputs = (try? JSONTree.parse(entry.inputs, field: "inputs", limit: Int.max)) ?? .null
            self.outputs = (try? JSONTree.parse(entry.outputs, field: "outputs", limit: Int.max)) ?? .null
        }
    }

    struct LogPageDTO: Encodable {
        var items: [LogEntryDTO]
        var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case items
            case nextCursor = "next_cursor"
        }
    }

    /// `from`, `to` and `version` of a log or metrics query; `to` must follow `from`.
    static func range(_ request: Request) throws -> (from: Date?, to: Date?, version: Int?) {
        let from = try Wire.time(request, "from")
        let to = try Wire.time(request, "to")
        if let from, let to, from >= to {
            throw APIError.invalid("to", "to must be later than from")
        }
        let version = try Wire.integer(request, "version")
        if let version, version < 1 {
            throw APIError.invalid("version", "version must be a positive integer, got \(version)")
        }
        return (from, to, version)
    }

    func logQuery(_ request: Request) throws -> PredictionLogQuery {
        let (from, to, version) = try Self.range(request)
        let limit = try Wire.integer(request, "limit") ?? 100
        guard (1...1_000).contains(limit) else {
            throw APIError.invalid("limit", "limit must be an integer from 1 to 1000, got \(limit)")
        }
        var before: Int64?
        if let cursor = request.uri.queryParameters.get("cursor") {
            guard let value = Int64(cursor), value > 0 else {
                throw APIError.invalid("cursor", "cursor must be the next_cursor of a previous page, got '\(cursor)'")
            }
            before = value
        }
        return PredictionLogQuery(from: from, to: to, version: version, limit: limit, before: before)
    }

    func listPredictions(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let query = try self.logQuery(request)
        let (model, environment) = try await self.registry.monitoredEnvironment(
            owner: try context.owner,
            name: try context.name,
            environment: try Self.environmentParameter(context),
            changing: false,
            by: principal
        )
        let entries = try await self.repository.logEntries(
            modelID: model.id,
            environment: environment.name,
            query: query
        )
        let next = entries.count == query.limit ? entries.last.map { String($0.id) } : nil
        return try Wire.json(LogPageDTO(items: entries.map(LogEntryDTO.init), nextCursor: next))
    }

    func exportPredictions(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let format = request.uri.queryParameters.get("format") ?? "jsonl"
        guard format == "jsonl" || format == "csv" else {
            throw APIError.invalid("format", "format must be jsonl or csv, got '\(format)'")
        }
        var query = try self.logQuery(request)
        query.limit = 1_000
        let (model, environment) = try await self.registry.monitoredEnvironment(
            owner: try context.owner,
            name: try context.name,
            environment: try Self.environmentParameter(context),
            changing: false,
            by: principal
        )
        let first = query
        let repository = self.repository
        let modelID = model.id
        let environmentName = environment.name
        var headers = HTTPFields()
        headers[.contentType] = format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson"
        headers[.contentDisposition] =
            "attachment; filename=\"\(model.name)-\(environment.name)-predictions.\(format)\""
        // Streamed a page at a time, newest first, so memory stays bounded whatever the log's size.
        let body = ResponseBody { writer in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var page = first
            if format == "csv" {
                try await writer.write(
                    ByteBuffer(string: "id,request_id,at,version,key_name,status,latency_ms,inputs,outputs\r\n")
                )
            }
            while true {
                let entries = try await repository.logEntries(
                    modelID: modelID,
                    environment: environmentName,
                    query: page
                )
                var buffer = ByteBuffer()
                for entry in entries {
                    if format == "csv" {
                        buffer.writeString(Self.csvLine(entry))
                    } else {
                        buffer.writeBytes(try encoder.encode(LogEntryDTO(entry)))
                        buffer.writeString("\n")
                    }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
                guard entries.count == page.limit, let last = entries.last else { break }
                page.before = last.id
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// One CSV record (RFC 4180 quoting).
    static func csvLine(_ entry: PredictionLogEntry) -> String {
        let fields = [
            String(entry.id), entry.requestID, Timestamp.format(entry.at), String(entry.version), entry.keyName ?? "",
            String(entry.status), String(entry.latency * 1_000), entry.inputs, entry.outputs,
        ]
        return fields.map(Self.csvField).joined(separator: ",") + "\r\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: Metrics

    struct MetricsDTO: Encodable {
        var environment: String
        var version: Int?
        var from: String
        var to: String
        var metrics: FeedbackMetrics
        var keyMetric: KeyMetricValueDTO?

        enum CodingKeys: String, CodingKey {
            case environment, version, from, to, metrics
            case keyMetric = "key_metric"
        }
    }

    struct KeyMetricValueDTO: Encodable {
        var name: String
        var direction: String
        var value: Double?
    }

    func metrics(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let (from, to, version) = try Self.range(request)
        let end = to ?? Date()
        let start = from ?? end.addingTimeInterval(-86_400)
        guard start < end else { throw APIError.invalid("from", "from must be earlier than to") }
        guard end.timeIntervalSince(start) <= 366 * 86_400 else {
            throw APIError.invalid("from", "the range from from to to must be at most 366 days")
        }
        let (model, environment) = try await self.registry.monitoredEnvironment(
            owner: try context.owner,
            name: try context.name,
            environment: try Self.environmentParameter(context),
            changing: false,
            by: principal
        )
        let joined = try await self.repository.joinedFeedback(
            modelID: model.id,
            environment: environment.name,
            from: start,
            to: end,
            version: version
        )
        let metrics = FeedbackMetrics.compute(joined.map(FeedbackMetrics.JoinedRow.init))
        var keyMetric: KeyMetricValueDTO?
        if let definition = model.keyMetric {
            let value = metrics.value(named: definition.name)
            keyMetric = KeyMetricValueDTO(name: definition.name, direction: definition.direction.rawValue, value: value)
            if let value {
                KeyMetricGauge.record(
                    value,
                    model: model,
                    environment: environment.name,
                    version: version,
                    factory: self.metrics
                )
            }
        }
        return try Wire.json(
            MetricsDTO(
                environment: environment.name,
                version: version,
                from: Timestamp.format(start),
                to: Timestamp.format(end),
                metrics: metrics,
                keyMetric: keyMetric
            )
        )
    }

    // MARK: Key metric

    func getKeyMetric(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let (model, _) = try await self.monitoredModel(request, context, changing: false)
        guard let metric = model.keyMetric else {
            throw APIError(.notFound, code: "not_found", detail: "\(model.fullName) has no key metric")
        }
        return try Wire.json(KeyMetricValueDTO(name: metric.name, direction: metric.direction.rawValue, value: nil))
    }

    func putKeyMetric(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        var request = request
        let principal = try await self.registry.principal(for: request)
        let owner = try context.owner
        let name = try context.name
        _ = try await self.registry.monitoredModel(owner: owner, name: name, changing: true, by: principal)
        let body = try await Self.object(&request)
        try Self.rejectUnknown(body, allowed: ["name", "direction"])
        let names = FeedbackMetrics.keyMetricNames.keys.sorted().joined(separator: ", ")
        guard let metric = try Self.string(body["name"], field: "name") else {
            throw APIError.invalid("name", "name is required (one of \(names))")
        }
        guard let maximize = FeedbackMetrics.keyMetricNames[metric] else {
            throw APIError.invalid("name", "name must be one of \(names), got '\(metric)'")
        }
        var direction: KeyMetric.Direction = maximize ? .maximize : .minimize
        if let text = try Self.string(body["direction"], field: "direction") {
            guard let parsed = KeyMetric.Direction(rawValue: text) else {
                throw APIError.invalid("direction", "direction must be maximize or minimize, got '\(text)'")
            }
            direction = parsed
        }
        var patch = ModelPatch()
        patch.keyMetric = .some(KeyMetric(name: metric, direction: direction))
        let model = try await self.registry.updateModel(owner: owner, name: name, patch: patch, by: principal)
        let stored = model.keyMetric ?? KeyMetric(name: metric, direction: direction)
        return try Wire.json(KeyMetricValueDTO(name: stored.name, direction: stored.direction.rawValue, value: nil))
    }

    // MARK: Alerts

    struct AlertDTO: Encodable {
        var name: String
        var metric: String
        var op: String
        var threshold: Double
        var window: String
        var environment: String
        var rule: String
        var state: String
        var changedAt: String
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case name, metric, op, threshold, window, environment, rule, state
            case changedAt = "changed_at"
            case createdAt = "created_at"
        }

        init(_ rule: StoredAlertRule) {
            self.name = rule.name
            self.metric = rule.metric
            self.op = rule.comparison
            self.threshold = rule.threshold
            self.window = AlertRule.formatWindow(rule.windowSeconds)
            self.environment = rule.environment
            self.rule =
                "\(rule.metric) \(rule.comparison) \(AlertRule.number(rule.threshold)) over \(self.window) in \(rule.environment)"
            self.state = rule.isFiring ? "firing" : "ok"
            self.changedAt = Timestamp.format(rule.changedAt)
            self.createdAt = Timestamp.format(rule.createdAt)
        }
    }

    func listAlerts(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let (model, _) = try await self.monitoredModel(request, context, changing: false)
        return try Wire.json(try await self.repository.alertRules(modelID: model.id).map(AlertDTO.init))
    }

    func createAlert(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        var request = request
        let (model, principal) = try await self.monitoredModel(request, context, changing: true)
        let body = try await Self.object(&request)
        try Self.rejectUnknown(body, allowed: ["name", "rule", "metric", "op", "threshold", "window", "environment"])
        let name = try Self.string(body["name"], field: "name")
        let rule: AlertRule
        if let compact = try Self.string(body["rule"], field: "rule") {
            if let extra = ["metric", "op", "threshold", "window", "environment"].first(where: { body[$0] != nil }) {
                throw APIError.invalid(
                    extra,
                    "give either rule (the compact form) or metric, op, threshold, window and environment"
                )
            }
            rule = try AlertRule.parse(compact: compact, name: name)
        } else {
            rule = try AlertRule.make(
                name: name,
                metric: try Self.string(body["metric"], field: "metric"),
                op: try Self.string(body["op"], field: "op"),
                threshold: try Self.number(body["threshold"], field: "threshold"),
                window: try Self.string(body["window"], field: "window"),
                environment: try Self.string(body["environment"], field: "environment")
            )
        }
        let stored = try await AlertRules(registry: self.registry, repository: self.repository).create(
            rule,
            on: model,
            by: principal
        )
        return try Wire.json(AlertDTO(stored), status: .created)
    }

    func deleteAlert(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let (model, principal) = try await self.monitoredModel(request, context, changing: true)
        let name = try context.parameters.require("alert")
        try await AlertRules(registry: self.registry, repository: self.repository).delete(
            named: name,
            on: model,
            by: principal
        )
        return Response(status: .noContent)
    }

    // MARK: Webhooks

    struct WebhookDTO: Encodable {
        var id: String
        var url: String
        var secret: String?
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id, url, secret
            case createdAt = "created_at"
        }

        init(_ webhook: Webhook, showingSecret: Bool) {
            self.id = webhook.id.uuidString.lowercased()
            self.url = webhook.url
            self.secret = showingSecret ? webhook.secret : nil
            self.createdAt = Timestamp.format(webhook.createdAt)
        }
    }

    func listWebhooks(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        // Webhook URLs may carry tokens: only those who may change them see them.
        let (model, _) = try await self.monitoredModel(request, context, changing: true)
        return try Wire.json(
            try await self.repository.webhooks(modelID: model.id).map { WebhookDTO($0, showingSecret: false) }
        )
    }

    func createWebhook(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        var request = request
        let (model, principal) = try await self.monitoredModel(request, context, changing: true)
        let body = try await Self.object(&request)
        try Self.rejectUnknown(body, allowed: ["url", "secret"])
        guard let url = try Self.string(body["url"], field: "url") else {
            throw APIError.invalid("url", "url is required (an http or https URL)")
        }
        guard url.utf8.count <= 2_048, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", parsed.host != nil
        else { throw APIError.invalid("url", "url must be an http or https URL of at most 2048 characters") }
        let secret: String
        if let given = try Self.string(body["secret"], field: "secret") {
            guard (16...256).contains(given.utf8.count) else {
                throw APIError.invalid("secret", "secret must be 16 to 256 bytes")
            }
            secret = given
        } else {
            var generator = SystemRandomNumberGenerator()
            secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        }
        let existing = try await self.repository.webhooks(modelID: model.id)
        guard existing.count < 10 else {
            throw APIError(.conflict, code: "conflict", detail: "a model may have at most 10 webhooks")
        }
        let webhook = Webhook(id: UUID(), modelID: model.id, url: url, secret: secret, createdAt: Date())
        try await self.repository.createWebhook(
            webhook,
            event: self.registry.monitoringEvent(
                .webhookCreated,
                on: model,
                by: principal,
                detail: "\(parsed.scheme ?? "")://\(parsed.host ?? "")"
            )
        )
        return try Wire.json(WebhookDTO(webhook, showingSecret: true), status: .created)
    }

    func deleteWebhook(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let (model, principal) = try await self.monitoredModel(request, context, changing: true)
        let text = try context.parameters.require("webhook")
        guard let id = UUID(uuidString: text) else {
            throw APIError.invalid("webhook", "the webhook id must be a UUID, got '\(text)'")
        }
        let deleted = try await self.repository.deleteWebhook(
            modelID: model.id,
            id: id,
            event: self.registry.monitoringEvent(.webhookDeleted, on: model, by: principal, detail: text)
        )
        guard deleted else {
            throw APIError(.notFound, code: "not_found", detail: "\(model.fullName) has no webhook \(text)")
        }
        return Response(status: .noContent)
    }
}
