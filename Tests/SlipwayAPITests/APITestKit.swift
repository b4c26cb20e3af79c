import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SlipwayAPI
import SlipwayBatch
import SlipwayFeedback
import SlipwayMetrics
import SlipwayRegistry
import SlipwayRuntime
import SlipwayServer
import Testing

// The API test kit: a server on a temporary SQLite data folder, a small client wrapper, JSON reading,
// a multipart encoder for deploys, and helpers that create users, organisations, models, keys and deployments.

/// The iris random forest from the model zoo (72 KB of ONNX).
let fixtureModelURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .appendingPathComponent("Fixtures/zoo/iris_random_forest/model.onnx")

/// The bytes of the fixture model, read once.
let fixtureModel: Data = {
    do {
        return try Data(contentsOf: fixtureModelURL)
    } catch {
        fatalError("cannot read the fixture model at \(fixtureModelURL.path): \(error)")
    }
}()

/// A built Slipway application on its own temporary data folder.
struct TestServer: Sendable {
    let slipway: SlipwayApplication
    let dataDirectory: URL
    let adminToken: String

    var registry: Registry { self.slipway.registry }
    var objectsFolder: URL { self.dataDirectory.appendingPathComponent("artifacts/objects") }
    var temporaryFolder: URL { self.dataDirectory.appendingPathComponent("artifacts/tmp") }

    /// Every file under `artifacts/objects` (the content-addressed artifacts).
    func objectFiles() -> [String] {
        Self.files(under: self.objectsFolder)
    }

    /// Every file under `artifacts/tmp` (uploads in progress).
    func temporaryFiles() -> [String] {
        Self.files(under: self.temporaryFolder)
    }

    static func files(under folder: URL) -> [String] {
        guard
            let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        var files: [String] = []
        for case let url as URL in enumerator {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                files.append(url.path)
            }
        }
        return files.sorted()
    }
}

/// Builds a server on a fresh temporary folder, runs `body` against it, and removes the folder afterwards.
///
/// - Parameters:
///   - setup: `.router` (in process) or `.live` (real HTTP over loopback).
///   - maximumArtifactBytes: the upload limit.
///   - runtime: the model host's settings; by default it does not verify deployments (the tests set statuses
///     through the administrator's route).
///   - prediction: the prediction routes' limits (rows and body size per request).
///   - recorders: receivers of every prediction request's record.
///   - metrics: the `/metrics` settings (scrape token, series limit).
///   - feedback: the feedback layer's settings (records flushed every 50 ms here).
///   - drift: where drift alerts read the PSI.
///   - afterShutdown: called with the data folder once the server has shut down gracefully.
///   - maximumBatchBytes: the batch job upload limit (the job queue is polled every 50 ms here).
func withServer<Value: Sendable>(
    _ setup: TestingSetup = .router,
    maximumArtifactBytes: Int64 = FileArtifactStore.defaultMaximumSize,
    runtime: ModelHost.Configuration = ModelHost.Configuration(verifiesDeployments: false),
    prediction: PredictionAPI.Configuration = PredictionAPI.Configuration(),
    recorders: [any PredictionRecorder] = [],
    metrics: SlipwayMetrics.Configuration = SlipwayMetrics.Configuration(),
    feedback: FeedbackConfiguration = FeedbackConfiguration(flushInterval: .milliseconds(50)),
    drift: (any DriftSource)? = nil,
    afterShutdown: @Sendable (URL) async throws -> Void = { _ in },
    maximumBatchBytes: Int64 = 1 << 30,
    _ body: @Sendable (TestAPI) async throws -> Value
) async throws -> Value {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("slipway-apitests-\(UUID().uuidString.lowercased())", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var logger = Logger(label: "slipway.apitests")
    logger.logLevel = .critical
    var configuration = ServerConfiguration(
        port: 0,
        dataDirectory: folder.path,
        maximumArtifactBytes: maximumArtifactBytes,
        logLevel: .critical,
        runtime: runtime,
        prediction: prediction,
        metrics: metrics,
        feedback: feedback
    )
    configuration.maximumBatchBytes = maximumBatchBytes
    configuration.batch.pollInterval = 0.05
    let slipway = try await buildApplication(
        configuration: configuration,
        logger: logger,
        recorders: recorders,
        drift: drift
    )
    let admin = try #require(slipway.bootstrapAdministrator, "the first start creates an administrator")
    let server = TestServer(slipway: slipway, dataDirectory: folder, adminToken: admin.secret)
    let value = try await slipway.application.test(setup) { client in
        try await body(TestAPI(client: client, server: server))
    }
    try await afterShutdown(folder)
    return value
}

/// The credential a request carries.
struct Credential: Sendable, CustomStringConvertible {
    var headers: HTTPFields
    var description: String

    static let anonymous = Credential(headers: [:], description: "anonymous")

    /// `Authorization: Bearer <secret>`.
    static func bearer(_ secret: String) -> Credential {
        Credential(headers: [.authorization: "Bearer \(secret)"], description: "Bearer \(secret.prefix(18))…")
    }

    /// A raw `Authorization` header.
    static func authorization(_ value: String) -> Credential {
        Credential(headers: [.authorization: value], description: "Authorization: \(value.prefix(24))")
    }

    /// `X-Serving-Key: <secret>`.
    static func servingKey(_ secret: String) -> Credential {
        Credential(headers: [HTTPField.Name("X-Serving-Key")!: secret], description: "X-Serving-Key")
    }
}

/// A response with its body read as text or JSON.
struct Reply: Sendable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: Data

    var text: String { String(decoding: self.body, as: UTF8.self) }

    /// The body as JSON (`.null` when it is not JSON, which the assertions then catch).
    var json: JSON { (try? JSONDecoder().decode(JSON.self, from: self.body)) ?? .invalid(self.text) }

    var description: String { "\(self.status.code) \(self.text.prefix(400))" }

    /// Expects an API error: the status, the `code`, and (when given) the `field`; `detail` must be a sentence.
    func expectError(
        _ status: HTTPResponse.Status,
        code: String,
        field: String? = nil,
        detailContains: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(self.status == status, "\(self)", sourceLocation: sourceLocation)
        let json = self.json
        #expect(json["code"]?.string == code, "\(self)", sourceLocation: sourceLocation)
        let detail = json["detail"]?.string ?? ""
        #expect(!detail.isEmpty, "the error names what went wrong: \(self)", sourceLocation: sourceLocation)
        if let field {
            #expect(json["field"]?.string == field, "\(self)", sourceLocation: sourceLocation)
        }
        if let detailContains {
            #expect(detail.contains(detailContains), "\(self)", sourceLocation: sourceLocation)
        }
        #expect(
            self.headers[.contentType]?.hasPrefix("application/json") == true,
            "errors are JSON: \(self.headers)",
            sourceLocation: sourceLocation
        )
        let keys = json.keys
        #expect(keys.isSubset(of: ["detail", "code", "field"]), "\(keys)", sourceLocation: sourceLocation)
    }
}

/// A JSON value read from a response.
enum JSON: Sendable, Equatable, Decodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])
    /// The body was not JSON.
    case invalid(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    subscript(index: Int) -> JSON? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var int: Int? {
        if case .number(let value) = self, value.rounded() == value { return Int(value) }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var array: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var isNull: Bool { self == .null }

    /// The keys of an object (empty for anything else).
    var keys: Set<String> {
        if case .object(let object) = self { return Set(object.keys) }
        return []
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .array(let values): "[\(values.map(\.description).joined(separator: ", "))]"
        case .object(let object):
            "{\(object.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", "))}"
        case .invalid(let text): "<not JSON: \(text.prefix(200))>"
        }
    }
}

/// A `multipart/form-data` body, for deploys.
struct Multipart: Sendable {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var contentType: String?
        var data: Data
    }

    var boundary = "slipway-test-\(UUID().uuidString.lowercased())"
    var parts: [Part] = []

    /// A deploy of `file` with these text fields.
    static func deploy(file: Data? = fixtureModel, fields: [String: String] = ["summary": "iris forest"]) -> Multipart {
        var multipart = Multipart()
        if let file { multipart.file("model", filename: "model.onnx", file) }
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { multipart.field(name, value) }
        return multipart
    }

    mutating func field(_ name: String, _ value: String) {
        self.parts.append(Part(name: name, data: Data(value.utf8)))
    }

    mutating func file(_ name: String, filename: String, _ data: Data) {
        self.parts.append(Part(name: name, filename: filename, contentType: "application/octet-stream", data: data))
    }

    var contentType: String { "multipart/form-data; boundary=\(self.boundary)" }

    /// The encoded body; `closed: false` leaves off the closing boundary (an interrupted upload).
    func encoded(closed: Bool = true) -> Data {
        var body = Data()
        for part in self.parts {
            body.append(Data("--\(self.boundary)\r\n".utf8))
            var disposition = "Content-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { disposition += "; filename=\"\(filename)\"" }
            body.append(Data("\(disposition)\r\n".utf8))
            if let contentType = part.contentType { body.append(Data("Content-Type: \(contentType)\r\n".utf8)) }
            body.append(Data("\r\n".utf8))
            body.append(part.data)
            body.append(Data("\r\n".utf8))
        }
        if closed { body.append(Data("--\(self.boundary)--\r\n".utf8)) }
        return body
    }
}

/// The client side of a test: requests with credentials, and helpers that build a world through the API.
struct TestAPI: Sendable {
    let client: any TestClientProtocol
    let server: TestServer

    var admin: Credential { .bearer(self.server.adminToken) }
    var registry: Registry { self.server.registry }

    /// Sends a request; `json` is sent as `application/json` text.
    func request(
        _ method: HTTPRequest.Method,
        _ path: String,
        as credential: Credential = .anonymous,
        json: String? = nil,
        body: Data? = nil,
        headers: HTTPFields = [:]
    ) async throws -> Reply {
        var fields = credential.headers
        for field in headers { fields.append(field) }
        var buffer: ByteBuffer?
        if let json {
            if fields[.contentType] == nil { fields[.contentType] = "application/json" }
            buffer = ByteBuffer(string: json)
        } else if let body {
            buffer = ByteBuffer(bytes: body)
        }
        let response = try await self.client.executeRequest(uri: path, method: method, headers: fields, body: buffer)
        return Reply(status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
    }

    func get(_ path: String, as credential: Credential = .anonymous) async throws -> Reply {
        try await self.request(.get, path, as: credential)
    }

    func post(_ path: String, as credential: Credential = .anonymous, json: String = "{}") async throws -> Reply {
        try await self.request(.post, path, as: credential, json: json)
    }

    func patch(_ path: String, as credential: Credential = .anonymous, json: String) async throws -> Reply {
        try await self.request(.patch, path, as: credential, json: json)
    }

    func put(_ path: String, as credential: Credential = .anonymous, json: String) async throws -> Reply {
        try await self.request(.put, path, as: credential, json: json)
    }

    func delete(_ path: String, as credential: Credential = .anonymous) async throws -> Reply {
        try await self.request(.delete, path, as: credential)
    }

    /// Sends a multipart upload.
    func upload(
        _ path: String,
        as credential: Credential,
        _ multipart: Multipart,
        closed: Bool = true
    ) async throws
        -> Reply
    {
        try await self.request(
            .post,
            path,
            as: credential,
            body: multipart.encoded(closed: closed),
            headers: [.contentType: multipart.contentType]
        )
    }

    // MARK: World building (each helper requires its success answer)

    /// Creates a user (as the administrator); returns the user's API token.
    @discardableResult
    func createUser(
        _ username: String,
        isAdmin: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> Credential
    {
        let reply = try await self.post(
            "/api/v1/users",
            as: self.admin,
            json: #"{"username": "\#(username)", "is_admin": \#(isAdmin)}"#
        )
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
        return .bearer(try #require(reply.json["token"]?["secret"]?.string, sourceLocation: sourceLocation))
    }

    /// Creates an organisation owned by `owner`.
    func createOrganization(
        _ name: String,
        as owner: Credential,
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let reply = try await self.post("/api/v1/orgs", as: owner, json: #"{"name": "\#(name)"}"#)
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
    }

    /// Gives `username` a role in an organisation (as the administrator).
    func setMember(_ username: String, role: String, in organization: String) async throws {
        let reply = try await self.put(
            "/api/v1/orgs/\(organization)/members/\(username)",
            as: self.admin,
            json: #"{"role": "\#(role)"}"#
        )
        try #require(reply.status == .ok, "\(reply)")
    }

    /// Creates a model (as `credential`, the administrator by default); returns its JSON.
    @discardableResult
    func createModel(
        _ fullName: String,
        isPublic: Bool = false,
        as credential: Credential? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSON {
        let parts = fullName.split(separator: "/")
        let reply = try await self.post(
            "/api/v1/models",
            as: credential ?? self.admin,
            json: #"{"owner": "\#(parts[0])", "name": "\#(parts[1])", "public": \#(isPublic)}"#
        )
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
        return reply.json
    }

    /// Creates an environment (as the administrator).
    func createEnvironment(
        _ name: String,
        in model: String,
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let reply = try await self.post(
            "/api/v1/models/\(model)/environments",
            as: self.admin,
            json: #"{"name": "\#(name)"}"#
        )
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
    }

    /// Creates a key (as the administrator); returns its id and secret.
    func createKey(
        _ kind: String,
        in model: String,
        environments: [String],
        name: String? = nil,
        extra: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (id: String, secret: String) {
        let list = environments.map { "\"\($0)\"" }.joined(separator: ", ")
        let reply = try await self.post(
            "/api/v1/models/\(model)/keys",
            as: self.admin,
            json:
                #"{"kind": "\#(kind)", "name": "\#(name ?? "\(kind) key \(UUID().uuidString.prefix(8))")", "environments": [\#(list)]\#(extra)}"#
        )
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
        return (
            try #require(reply.json["id"]?.string, sourceLocation: sourceLocation),
            try #require(reply.json["secret"]?.string, sourceLocation: sourceLocation)
        )
    }

    /// Deploys the fixture model; returns the new version.
    @discardableResult
    func deploy(
        _ model: String,
        _ environment: String,
        as credential: Credential? = nil,
        fields: [String: String] = ["summary": "iris forest"],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Int {
        let reply = try await self.upload(
            "/api/v1/models/\(model)/environments/\(environment)/deployments",
            as: credential ?? self.admin,
            .deploy(fields: fields)
        )
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
        return try #require(reply.json["version"]?.int, sourceLocation: sourceLocation)
    }

    /// Marks a deployment verified (the administrator's status route).
    func verify(
        _ model: String,
        _ environment: String,
        _ version: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let reply = try await self.post(
            "/api/v1/models/\(model)/environments/\(environment)/deployments/\(version)/status",
            as: self.admin,
            json: #"{"state": "verified"}"#
        )
        try #require(reply.status == .ok, "\(reply)", sourceLocation: sourceLocation)
    }

    /// Activates a version (as the administrator).
    func activate(
        _ model: String,
        _ environment: String,
        _ version: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let reply = try await self.post(
            "/api/v1/models/\(model)/environments/\(environment)/activate",
            as: self.admin,
            json: #"{"version": \#(version)}"#
        )
        try #require(reply.status == .ok, "\(reply)", sourceLocation: sourceLocation)
    }

    /// Deploys and verifies; returns the version.
    @discardableResult
    func deployVerified(_ model: String, _ environment: String) async throws -> Int {
        let version = try await self.deploy(model, environment)
        try await self.verify(model, environment, version)
        return version
    }
}
