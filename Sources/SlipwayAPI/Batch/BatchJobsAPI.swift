import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SlipwayBatch
import SlipwayRegistry
import SlipwayRuntime

/// Batch scoring jobs under `/api/v1/models/{owner}/{name}/environments/{env}/batch-jobs`.
///
/// ```console
/// $ curl -X POST "localhost:8080/api/v1/models/acme/iris/environments/production/batch-jobs" \
///     -H "X-Serving-Key: $KEY" -H 'Content-Type: text/csv' --data-binary @rows.csv
/// {"id":"…","state":"queued",…}
/// ```
///
/// Who may call: the same credentials as a prediction (a serving key of the environment, a user or deploy key
/// that may read the model); anonymous callers never, even on models that allow anonymous predictions.
public struct BatchJobsAPI: Sendable {
    let registry: Registry
    let predictor: any Predictor
    let jobs: any BatchJobRepository
    let runner: BatchJobRunner
    let maximumBytes: Int64
    let access: ServingAccess

    /// Creates the routes; uploads are limited to `maximumBytes`.
    public init(
        registry: Registry,
        predictor: any Predictor,
        jobs: any BatchJobRepository,
        runner: BatchJobRunner,
        maximumBytes: Int64
    ) {
        self.registry = registry
        self.predictor = predictor
        self.jobs = jobs
        self.runner = runner
        self.maximumBytes = maximumBytes
        self.access = ServingAccess(registry: registry)
    }

    static let base = "api/v1/models/:owner/:name/environments/:env/batch-jobs"

    /// Adds the routes to `router`.
    public func register(on router: Router<SlipwayRequestContext>) {
        router.post(RouterPath(Self.base)) { request, context in try await self.submit(request, context) }
        router.get(RouterPath(Self.base)) { request, context in try await self.list(request, context) }
        router.get(RouterPath(Self.base + "/:id")) { request, context in
            let (job, model) = try await self.job(request, context)
            return try Wire.json(BatchJobDTO(job, model: model))
        }
        router.post(RouterPath(Self.base + "/:id/cancel")) { request, context in
            let (job, model) = try await self.job(request, context)
            let cancelled = try await self.runner.cancel(job)
            return try Wire.json(BatchJobDTO(cancelled, model: model, cancelling: !cancelled.state.isFinished))
        }
        router.get(RouterPath(Self.base + "/:id/result")) { request, context in
            let (job, _) = try await self.job(request, context)
            guard job.state == .succeeded || job.state == .cancelled else {
                throw APIError(
                    .conflict,
                    code: "not_ready",
                    detail:
                        "the job is \(job.state.rawValue); its result can be downloaded once it has succeeded (or was cancelled)"
                )
            }
            let type = job.format == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson"
            return try self.download(
                self.runner.files.result(job.id, format: job.format),
                type: type,
                name: "\(job.id.uuidString.lowercased())-result.\(job.format.rawValue)"
            )
        }
        router.get(RouterPath(Self.base + "/:id/errors")) { request, context in
            let (job, _) = try await self.job(request, context)
            guard job.state != .queued else {
                throw APIError(
                    .conflict,
                    code: "not_ready",
                    detail: "the job has not started; it has no error report yet"
                )
            }
            return try self.download(
                self.runner.files.errors(job.id),
                type: "text/csv; charset=utf-8",
                name: "\(job.id.uuidString.lowercased())-errors.csv"
            )
        }
        router.delete(RouterPath(Self.base + "/:id")) { request, context in
            let (job, _) = try await self.job(request, context)
            guard job.state.isFinished else {
                throw APIError(
                    .conflict,
                    code: "conflict",
                    detail: "the job is \(job.state.rawValue); cancel it first, then delete it"
                )
            }
            self.runner.files.remove(job)
            try await self.jobs.deleteBatchJob(id: job.id)
            return Response(status: .noContent)
        }
    }

    // MARK: Access

    struct Caller {
        var model: Model
        var submitter: String
    }

    /// Checks the credential like a prediction does; batch jobs always need one.
    func authorize(_ request: Request, _ context: SlipwayRequestContext) async throws -> Caller {
        let owner = try context.owner
        let name = try context.name
        let environment = try context.parameters.require("env")
        guard let secret = try Credentials.secret(in: request) else {
            throw APIError(
                .unauthorized,
                code: "unauthenticated",
                detail: "batch jobs need a serving key (X-Serving-Key) or an API token (Authorization: Bearer)"
            )
        }
        guard let model = try await self.registry.repository.model(owner: owner, name: name) else {
            throw APIError(.notFound, code: "not_found", detail: "model \(owner)/\(name) does not exist")
        }
        let decision = try await self.access.decide(secret: secret, model: model, environment: environment)
        if let refusal = decision.refusal { throw refusal }
        let submitter: String
        switch try await self.registry.authenticate(secret: secret) {
        case .user(let user): submitter = user.username
        case .servingKey(let key): submitter = "serving key \(key.name)"
        case .deployKey(let key): submitter = "deploy key \(key.name)"
        case .anonymous: submitter = "anonymous"
        }
        return Caller(model: model, submitter: submitter)
    }

    /// The job named in the path, after checking the caller may see it.
    func job(_ request: Request, _ context: SlipwayRequestContext) async throws -> (BatchJob, Model) {
        let caller = try await self.authorize(request, context)
        let text = try context.parameters.require("id")
        let environment = try context.parameters.require("env")
        guard let id = UUID(uuidString: text), let job = try await self.jobs.batchJob(id: id),
            job.modelID == caller.model.id, job.environment == environment
        else {
            throw APIError(.notFound, code: "not_found", detail: "batch job \(text) does not exist in \(environment)")
        }
        return (job, caller.model)
    }

    func list(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let caller = try await self.authorize(request, context)
        let environment = try context.parameters.require("env")
        let jobs = try await self.jobs.batchJobs(modelID: caller.model.id, environment: environment)
        return try Wire.json(jobs.map { BatchJobDTO($0, model: caller.model) })
    }

    // MARK: Submit

    func submit(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let caller = try await self.authorize(request, context)
        let environment = try context.parameters.require("env")
        let query = try PredictionAPI.Query(request)
        let parameters = request.uri.queryParameters
        let prepared: PreparedModel
        do {
            prepared = try await self.predictor.prepare(
                owner: caller.model.owner,
                name: caller.model.name,
                environment: environment,
                version: query.version
            )
        } catch let error as RuntimeError {
            throw APIError(error)
        }
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > self.maximumBytes + (64 << 10) {
            throw Self.tooLarge(self.maximumBytes)
        }
        let id = UUID()
        let url = self.runner.files.input(id)
        var format = try parameters.get("format").map(Self.format(named:))
        let contentType = (request.headers[.contentType] ?? "").lowercased()
        let size: Int64
        do {
            if contentType.hasPrefix("multipart/form-data") {
                let form = try await DeploymentUpload.readForm(request, fields: ["format"], filePart: "file") {
                    try FileSink(url: url, limit: self.maximumBytes)
                }
                form.file.abort()  // closes the handle; FileSink keeps the file unless aborted before close
                size = form.file.size
                if format == nil, let name = form.fields["format"] { format = try Self.format(named: name) }
            } else {
                let sink = try FileSink(url: url, limit: self.maximumBytes)
                do {
                    for try await buffer in request.body {
                        try buffer.withUnsafeReadableBytes { try sink.write($0) }
                    }
                } catch {
                    sink.discard()
                    throw error
                }
                sink.abort()
                size = sink.size
                if format == nil { format = Self.format(contentType: contentType) }
            }
            guard size > 0 else {
                throw APIError.invalid("file", "the file is empty; send a CSV with a header row or JSONL lines")
            }
            let resolved = try format ?? Self.sniff(url)
            try Self.check(url, format: resolved, schema: prepared.schema)
            let job = BatchJob(
                id: id,
                modelID: caller.model.id,
                environment: environment,
                version: prepared.deployment.version,
                format: resolved,
                descending: query.descending,
                limit: query.limit,
                threshold: query.threshold,
                inputBytes: size,
                submittedBy: caller.submitter
            )
            try await self.jobs.insertBatchJob(job)
            var headers = HTTPFields()
            headers[.location] = "/" + Self.path(caller.model, environment) + "/" + id.uuidString.lowercased()
            return try Wire.json(BatchJobDTO(job, model: caller.model), status: .accepted, headers: headers)
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
    }

    static func path(_ model: Model, _ environment: String) -> String {
        "api/v1/models/\(model.owner)/\(model.name)/environments/\(environment)/batch-jobs"
    }

    static func tooLarge(_ limit: Int64) -> APIError {
        APIError(
            .contentTooLarge,
            code: "payload_too_large",
            detail: "a batch file may be at most \(limit) bytes (the server's maxBatchBytes)"
        )
    }

    static func format(named name: String) throws -> BatchJob.Format {
        switch name.lowercased() {
        case "csv": return .csv
        case "jsonl", "ndjson", "jsonlines": return .jsonl
        default: throw APIError.invalid("format", "format must be csv or jsonl, got '\(name)'")
        }
    }

    static func format(contentType: String) -> BatchJob.Format? {
        if contentType.hasPrefix("text/csv") || contentType.hasPrefix("application/csv") { return .csv }
        for type in ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"]
        where contentType.hasPrefix(type) {
            return .jsonl
        }
        return nil
    }

    /// Guesses the format from the first byte that is not white space: `{` or `[` is JSONL, anything else CSV.
    static func sniff(_ url: URL) throws -> BatchJob.Format {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let head = try handle.read(upToCount: 4096) ?? Data()
        let first = head.first {
            !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF)
        }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? .jsonl : .csv
    }

    /// Checks the header (CSV) or first line (JSONL) and that there is a data row, so obvious mistakes answer 400
    /// now instead of failing the job later.
    static func check(_ url: URL, format: BatchJob.Format, schema: FeatureSchema?) throws {
        let reader = try BatchRecordReader(url: url, format: format)
        var header: [String]?
        if format == .csv {
            switch try reader.next() {
            case .fields(let fields): header = fields
            case .malformed(let problem): throw APIError.invalid("header", "the header row cannot be read: \(problem)")
            case .line, nil: throw APIError.invalid("file", "the file has no header row")
            }
        }
        let decoder: BatchRowDecoder
        do {
            decoder = try BatchRowDecoder(schema: schema, format: format, header: header)
        } catch let error as BatchInputError {
            throw APIError.invalid(error.field, error.message)
        }
        guard let first = try reader.next() else {
            throw APIError.invalid("file", "the file has no data rows")
        }
        if format == .jsonl, case .bad(let field, let problem) = decoder.decode(first) {
            throw APIError.invalid(
                field,
                "line 1: \(problem); expected JSONL, one {\"features\": {…}} or [values] per line"
            )
        }
    }

    /// Streams a job file.
    func download(_ url: URL, type: String, name: String) throws -> Response {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw APIError(.notFound, code: "not_found", detail: "the file is no longer there")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentDisposition] = "attachment; filename=\"\(name)\""
        let box = HandleBox(handle)
        let body = ResponseBody(contentLength: size) { writer in
            defer { try? box.handle.close() }
            while let data = try box.handle.read(upToCount: 1 << 16), !data.isEmpty {
                try await writer.write(ByteBuffer(bytes: data))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// A file handle carried into a response body's writer.
// @unchecked Sendable: the handle is used by the one body writer only, after the route returned.
private final class HandleBox: @unchecked Sendable {
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }
}

/// An upload streamed into a job's input file, bounded by the server's limit.
final class FileSink: UploadSink {
    let handle: FileHandle
    let url: URL
    let limit: Int64
    private(set) var size: Int64 = 0
    private var isClosed = false

    init(url: URL, limit: Int64) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw APIError(.serviceUnavailable, code: "storage_failure", detail: "cannot create the job's input file")
        }
        self.url = url
        self.limit = limit
        self.handle = try FileHandle(forWritingTo: url)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        self.size += Int64(bytes.count)
        guard self.size <= self.limit else { throw BatchJobsAPI.tooLarge(self.limit) }
        try self.handle.write(contentsOf: Data(bytes))
    }

    /// Closes the file and keeps it (the multipart reader calls this on errors too; the route then removes it).
    func abort() {
        guard !self.isClosed else { return }
        self.isClosed = true
        try? self.handle.close()
    }

    /// Closes and removes the file.
    func discard() {
        self.abort()
        try? FileManager.default.removeItem(at: self.url)
    }
}
