import Foundation
import SlipwayInference
import SlipwayMonitoring
import SlipwayRegistry
import SlipwayRuntime
import SlipwayStorage

/// The repository's root folder.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A file of the iris example (`examples/iris`) as text.
func irisExample(_ name: String) throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent("examples/iris/\(name)"), encoding: .utf8)
}

/// A deterministic pseudo-random generator (64-bit LCG), so every run checks the same numbers.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state = self.state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return self.state
    }
}

/// The iris example deployed in a fresh SQLite database: the model, its environment and deployment rows, and a
/// prepared model (with its engine session) whose records the recorder can take.
struct IrisWorld: Sendable {
    let repository: SQLRegistryRepository
    let model: SlipwayRegistry.Model
    let environment: SlipwayRegistry.Environment
    let deployment: Deployment
    let prepared: PreparedModel
    let folder: URL

    static func make(folder: URL? = nil, samples: Bool = true) async throws -> IrisWorld {
        let folder =
            folder
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "slipway-monitoring-\(UUID().uuidString.lowercased())",
                isDirectory: true
            )
        let repository = try await SQLRegistryRepository.makeSQLite(
            path: folder.appendingPathComponent("slipway.sqlite").path,
            logger: SQLRegistryRepository.quietLogger
        )
        try await repository.migrate()
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        let actor = ActivityActor(kind: .user, id: "admin-id", name: "admin")
        try await repository.createUser(User(username: "admin", displayName: "Admin", isAdmin: true, createdAt: at))
        let model = SlipwayRegistry.Model(owner: "admin", name: "iris", createdAt: at)
        let environment = SlipwayRegistry.Environment(modelID: model.id, name: "production", createdAt: at)
        try await repository.createModel(
            model,
            environments: [environment],
            event: ActivityEvent(modelID: model.id, at: at, actor: actor, action: .modelCreated)
        )
        let deployment = try await repository.createDeployment(
            Deployment(
                modelID: model.id,
                environmentID: environment.id,
                environmentName: "production",
                artifactDigest: String(repeating: "a", count: 64),
                artifactSize: 1,
                summary: "iris",
                schema: try irisExample("schema.json"),
                samples: samples ? try irisExample("samples.json") : nil,
                classes: try irisExample("classes.json"),
                createdBy: actor,
                createdAt: at
            ),
            event: ActivityEvent(modelID: model.id, at: at, actor: actor, action: .deploymentCreated)
        )
        let session = InferenceSession(
            model: try ModelLoader.load(
                data: try Data(contentsOf: repositoryRoot.appendingPathComponent("examples/iris/model.onnx"))
            )
        )
        let prepared = PreparedModel(
            model: model,
            environment: "production",
            deployment: deployment,
            session: session,
            schema: FeatureSchema.parse(deployment.schema),
            classes: PreparedModel.parseClasses(deployment.classes)
        )
        return IrisWorld(
            repository: repository,
            model: model,
            environment: environment,
            deployment: deployment,
            prepared: prepared,
            folder: folder
        )
    }

    /// Another repository on the same database file (a second server process).
    func openAgain() async throws -> SQLRegistryRepository {
        try await SQLRegistryRepository.makeSQLite(
            path: self.folder.appendingPathComponent("slipway.sqlite").path,
            logger: SQLRegistryRepository.quietLogger
        )
    }

    func close() async {
        try? await self.repository.shutdown()
        try? FileManager.default.removeItem(at: self.folder)
    }

    /// A record of a request with these rows, run through the model like the prediction route does.
    func record(
        _ rows: [[Double]],
        at date: Date,
        latency: Double = 0.002,
        status: Int = 200,
        errorCode: String? = nil
    ) throws -> PredictionRecord {
        let input = try Tensor(shape: [rows.count, 4], floats: rows.flatMap { $0.map(Float.init) })
        var outputs: [OutputReader.Row]?
        if status == 200 {
            let values = try self.prepared.session.run(
                [self.prepared.session.model.inputs[0].name: input],
                outputNames: nil
            )
            outputs = OutputReader.rows(values, count: rows.count, classCount: 3)
        }
        return PredictionRecord(
            requestID: UUID().uuidString,
            receivedAt: date,
            latency: latency,
            surface: .teachableHub,
            status: status,
            errorCode: errorCode,
            prepared: self.prepared,
            rows: nil,
            inputs: [self.prepared.session.model.inputs[0].name: input],
            outputs: outputs
        )
    }
}
