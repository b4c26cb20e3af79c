import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SlipwayAPI
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime
import SlipwayServer
import SlipwayStorage
import Synchronization
import Testing

// Support for the Open Inference Protocol tests: a small Predictor that loads deployments straight from the
// registry with the engine (the real model host lives in SlipwayRuntime), a server with the /v2 routes, and helpers
// to build binary tensor bodies.

/// A zoo model's ONNX bytes.
func zooModel(_ name: String) throws -> Data {
    try Data(
        contentsOf: fixtureModelURL.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("\(name)/model.onnx")
    )
}

/// A zoo model's `expected.json` (inputs in the Open Inference Protocol's shape, and ONNX Runtime's outputs).
func zooExpected(_ name: String) throws -> JSONValue {
    let url = fixtureModelURL.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("\(name)/expected.json")
    return try JSONValue.parse(Array(try Data(contentsOf: url)))
}

/// A test Predictor: reads the registry directly on every call and keeps one engine session per deployment.
///
/// A model named `echo` answers with its inputs as outputs (to exercise every datatype through the routes).
final class FakePredictor: Predictor {
    let registry: Registry
    private let sessions = Mutex<[UUID: InferenceSession]>([:])
    /// When set, `infer` throws `overloaded` with this retry-after.
    let overloadedRetryAfter = Mutex<Int?>(nil)

    init(registry: Registry) {
        self.registry = registry
    }

    func prepare(owner: String, name: String, environment: String, version: Int?) async throws -> PreparedModel {
        let repository = self.registry.repository
        guard let model = try await repository.model(owner: owner, name: name) else {
            throw RuntimeError(.notFound, "model \(owner)/\(name) does not exist")
        }
        guard let target = try await repository.environment(modelID: model.id, name: environment) else {
            throw RuntimeError(.notFound, "environment '\(environment)' does not exist in \(model.fullName)")
        }
        let deployment: Deployment
        if let version, version != 0 {
            guard let found = try await repository.deployment(environmentID: target.id, version: version) else {
                throw RuntimeError(.notFound, "\(model.fullName) has no version \(version) in '\(environment)'")
            }
            guard found.status == .verified else {
                throw RuntimeError(.notVerified, "version \(version) of \(model.fullName) is \(found.status.rawValue)")
            }
            deployment = found
        } else {
            guard let id = target.activeDeploymentID, let found = try await repository.deployment(id: id) else {
                throw RuntimeError(
                    .notActive,
                    "environment '\(environment)' of \(model.fullName) has no active deployment"
                )
            }
            deployment = found
        }
        let session: InferenceSession
        if let cached = self.sessions.withLock({ $0[deployment.id] }) {
            session = cached
        } else {
            do {
                session = InferenceSession(
                    model: try ModelLoader.load(data: try self.registry.artifact(of: deployment))
                )
            } catch {
                throw RuntimeError(.loadFailed, "cannot load \(model.fullName) version \(deployment.version): \(error)")
            }
            self.sessions.withLock { $0[deployment.id] = session }
        }
        return PreparedModel(
            model: model,
            environment: environment,
            deployment: deployment,
            session: session,
            schema: nil,
            classes: nil
        )
    }

    func infer(_ model: PreparedModel, inputs: [String: Tensor], outputs: [String]?) async throws -> [(String, Value)] {
        if let retryAfter = self.overloadedRetryAfter.withLock({ $0 }) {
            throw RuntimeError(.overloaded, "\(model.model.fullName) is busy", retryAfter: retryAfter)
        }
        if model.model.name == "echo" {
            let names = outputs ?? inputs.keys.sorted()
            return try names.map { name in
                guard let tensor = inputs[name] else {
                    throw InferenceError(.invalidInput, "unknown output '\(name)'")
                }
                return (name, .tensor(tensor))
            }
        }
        return try model.session.run(inputs, outputNames: outputs)
    }
}

/// A server with the management API and the /v2 routes over a fresh data folder and a ``FakePredictor``.
func withInferenceServer<Value: Sendable>(
    maximumBodyBytes: Int = InferenceProtocolAPI.Configuration.defaultMaximumBodyBytes,
    ready: Bool = true,
    _ body: @Sendable (TestAPI, FakePredictor) async throws -> Value
) async throws -> Value {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("slipway-oiptests-\(UUID().uuidString.lowercased())", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var logger = Logger(label: "slipway.oiptests")
    logger.logLevel = .critical
    let slipway = try await buildApplication(
        configuration: ServerConfiguration(port: 0, dataDirectory: folder.path, logLevel: .critical),
        logger: logger
    )
    defer {
        if let repository = slipway.registry.repository as? SQLRegistryRepository {
            Task { try? await repository.shutdown() }
        }
    }
    let admin = try #require(slipway.bootstrapAdministrator, "the first start creates an administrator")
    let predictor = FakePredictor(registry: slipway.registry)
    let router = Router(context: SlipwayRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    ManagementAPI(registry: slipway.registry, readiness: {}).register(on: router)
    InferenceProtocolAPI(
        registry: slipway.registry,
        predictor: predictor,
        configuration: .init(maximumBodyBytes: maximumBodyBytes, serverVersion: "9.9.9"),
        readiness: {
            if !ready { throw CancellationError() }
        }
    ).register(on: router)
    let application = Application(router: router, logger: logger)
    let server = TestServer(slipway: slipway, dataDirectory: folder, adminToken: admin.secret)
    return try await application.test(.router) { client in
        let api = TestAPI(client: client, server: server)
        try await api.createOrganization("acme", as: api.admin)
        return try await body(api, predictor)
    }
}

extension TestAPI {
    /// Creates `fullName` (public models allow anonymous predictions), deploys `file` to `environment`, verifies and
    /// activates it; returns the version.
    @discardableResult
    func publish(
        _ fullName: String,
        file: Data = fixtureModel,
        environment: String = "production",
        isPublic: Bool = false,
        createModel: Bool = true,
        activate: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Int {
        if createModel {
            let parts = fullName.split(separator: "/")
            let created = try await self.post(
                "/api/v1/models",
                as: self.admin,
                json:
                    #"{"owner": "\#(parts[0])", "name": "\#(parts[1])", "public": \#(isPublic), "public_predictions": \#(isPublic)}"#
            )
            try #require(created.status == .created, "\(created)", sourceLocation: sourceLocation)
        }
        if !Environment.defaultNames.contains(environment) {
            try await self.createEnvironment(environment, in: fullName, sourceLocation: sourceLocation)
        }
        let reply = try await self.upload(
            "/api/v1/models/\(fullName)/environments/\(environment)/deployments",
            as: self.admin,
            .deploy(file: file, fields: ["summary": "test model"])
        )
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
        let version = try #require(reply.json["version"]?.int, sourceLocation: sourceLocation)
        try await self.verify(fullName, environment, version, sourceLocation: sourceLocation)
        if activate { try await self.activate(fullName, environment, version, sourceLocation: sourceLocation) }
        return version
    }

    /// Posts an infer request with a JSON body.
    func infer(_ path: String, as credential: Credential = .anonymous, json: String) async throws -> Reply {
        try await self.request(.post, path, as: credential, json: json)
    }

    /// Posts an infer request with the binary tensor data extension.
    func infer(
        _ path: String,
        as credential: Credential = .anonymous,
        header: String,
        binary: [UInt8],
        headerLength: Int? = nil
    ) async throws -> Reply {
        var body = Data(header.utf8)
        body.append(contentsOf: binary)
        return try await self.request(
            .post,
            path,
            as: credential,
            body: body,
            headers: [
                HTTPField.Name("Inference-Header-Content-Length")!: String(headerLength ?? header.utf8.count),
                .contentType: "application/octet-stream",
            ]
        )
    }
}

extension Reply {
    /// Expects an Open Inference Protocol error: the status, a JSON body with exactly `error`, naming `contains`.
    func expectProtocolError(
        _ status: HTTPResponse.Status,
        contains: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(self.status == status, "\(self)", sourceLocation: sourceLocation)
        #expect(self.json.keys == ["error"], "\(self)", sourceLocation: sourceLocation)
        let message = self.json["error"]?.string ?? ""
        #expect(!message.isEmpty, "\(self)", sourceLocation: sourceLocation)
        if let contains {
            #expect(message.contains(contains), "\(self)", sourceLocation: sourceLocation)
        }
        #expect(self.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    }

    /// The JSON header and binary part of a binary response.
    func binaryParts(sourceLocation: SourceLocation = #_sourceLocation) throws -> (JSON, [UInt8]) {
        let length = try #require(
            self.headers[HTTPField.Name("Inference-Header-Content-Length")!].flatMap { Int($0) },
            "\(self.headers)",
            sourceLocation: sourceLocation
        )
        let bytes = Array(self.body)
        let header = try JSONDecoder().decode(JSON.self, from: Data(bytes[0..<length]))
        return (header, Array(bytes[length...]))
    }
}

/// Little-endian bytes of fixed-width values.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// Little-endian float32 bytes.
func float32Bytes(_ values: [Float]) -> [UInt8] { littleEndianBytes(values.map(\.bitPattern)) }

/// Triton's BYTES encoding: each element a 4-byte little-endian length and its bytes.
func bytesElements(_ values: [String]) -> [UInt8] {
    values.flatMap { littleEndianBytes([UInt32($0.utf8.count)]) + Array($0.utf8) }
}

/// Reads little-endian float32 values.
func readFloat32(_ bytes: ArraySlice<UInt8>) -> [Float] {
    stride(from: bytes.startIndex, to: bytes.endIndex, by: 4).map { start in
        var bits: UInt32 = 0
        for (shift, byte) in bytes[start..<start + 4].enumerated() { bits |= UInt32(byte) << (8 * shift) }
        return Float(bitPattern: bits)
    }
}

/// Reads little-endian int64 values.
func readInt64(_ bytes: ArraySlice<UInt8>) -> [Int64] {
    stride(from: bytes.startIndex, to: bytes.endIndex, by: 8).map { start in
        var bits: UInt64 = 0
        for (shift, byte) in bytes[start..<start + 8].enumerated() { bits |= UInt64(byte) << (8 * shift) }
        return Int64(bitPattern: bits)
    }
}

extension JSON {
    /// A number's value.
    var double: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// An array of numbers.
    var doubles: [Double]? { self.array?.compactMap(\.double) }
}

/// The infer body for a zoo model's expected inputs (optionally with an id and requested outputs).
func zooInferBody(_ name: String, id: String? = nil, outputs: [String]? = nil) throws -> String {
    let expected = try zooExpected(name)
    var members: [(String, JSONValue)] = []
    if let id { members.append(("id", .string(id))) }
    members.append(("inputs", try #require(expected["inputs"])))
    if let outputs { members.append(("outputs", .array(outputs.map { .object([("name", .string($0))]) }))) }
    return JSONValue.object(members).serialized()
}

/// The expected output `name` of a zoo model, as doubles.
func zooExpectedOutput(_ model: String, _ name: String) throws -> [Double] {
    guard case .array(let outputs)? = try zooExpected(model)["outputs"],
        let output = outputs.first(where: { $0["name"] == .string(name) }),
        case .array(let data)? = output["data"]
    else { throw InferenceError(.invalidRequest, "no output \(name) in \(model)'s expected.json") }
    return data.compactMap { value in
        switch value {
        case .int(let x): Double(x)
        case .double(let x): x
        case .float(let x): Double(x)
        default: nil
        }
    }
}

/// Whether two arrays agree within `tolerance`.
func close(_ a: [Double], _ b: [Double], tolerance: Double = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}
