import Foundation
import Logging
import SlipwayInference
import SlipwayRegistry

/// What the prediction routes (TeachableHub's predict API, the Open Inference Protocol) need from the runtime.
///
/// ```swift
/// let prepared = try await predictor.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
/// let outputs = try await predictor.infer(prepared, inputs: ["X": tensor], outputs: nil)
/// ```
public protocol Predictor: Sendable {
    /// The warm deployment that answers for `owner/name` in `environment`: the active one when `version` is `nil`
    /// or 0, else that version (which must be verified). Loads it on first use. Never reads the database on the
    /// hot path: routes and loaded sessions are cached and refreshed in the background.
    ///
    /// - Throws: ``RuntimeError`` (`.notFound` for an unknown model, environment or version, `.notActive` when
    ///   the environment has no active deployment, `.notVerified` for an unverified pinned version,
    ///   `.loadFailed` when the artifact cannot be loaded).
    func prepare(owner: String, name: String, environment: String, version: Int?) async throws -> PreparedModel

    /// Runs the model off Swift's cooperative thread pool, with bounded concurrency per deployment.
    ///
    /// - Throws: ``RuntimeError/Code/overloaded`` (with a retry-after) when the deployment's queue is full;
    ///   the engine's `InferenceError` for inputs the model refuses.
    func infer(_ model: PreparedModel, inputs: [String: Tensor], outputs: [String]?) async throws -> [(String, Value)]

    /// Runs the model through the deployment's gate as ``infer(_:inputs:outputs:)`` does, but on the calling task's
    /// thread and with one engine thread: for background work (batch jobs) running on a low-priority thread, whose
    /// large calls would otherwise spread over every core, or over the inference threads online requests need.
    func inferInBackground(
        _ model: PreparedModel,
        inputs: [String: Tensor],
        outputs: [String]?
    ) async throws -> [(String, Value)]

    /// The warm deployment when it is ready now (no route fetch, no load, no waiting), else `nil`: the caller then
    /// takes ``prepare(owner:name:environment:version:)``. Never throws: errors come from `prepare`.
    func preparedIfReady(owner: String, name: String, environment: String, version: Int?) -> PreparedModel?

    /// A slot reserved to run `rows` rows of `model` on the calling thread right away, when the deployment's calls
    /// are measured cheap (``ModelHost/Configuration/inlineThreshold``) and it has a free slot; else `nil`, and the
    /// caller takes ``infer(_:inputs:outputs:)``. The HTTP fast path runs such calls on its network thread.
    func inlineSlot(_ model: PreparedModel, rows: Int) -> InlineInference?
}

extension Predictor {
    /// No background threads of its own: background calls are ordinary calls.
    public func inferInBackground(
        _ model: PreparedModel,
        inputs: [String: Tensor],
        outputs: [String]?
    ) async throws -> [(String, Value)] {
        try await self.infer(model, inputs: inputs, outputs: outputs)
    }

    /// No ready models without waiting: every caller takes `prepare`.
    public func preparedIfReady(owner: String, name: String, environment: String, version: Int?) -> PreparedModel? {
        nil
    }

    /// No inline calls: every caller takes `infer`.
    public func inlineSlot(_ model: PreparedModel, rows: Int) -> InlineInference? { nil }
}

/// One inference call admitted by a deployment's gate, to run on the caller's thread: ``run(_:outputs:)`` once, or
/// drop it, which frees the slot.
public final class InlineInference {
    let session: InferenceSession
    let gate: AdmissionGate
    let rows: Int
    private var isOpen = true

    init(session: InferenceSession, gate: AdmissionGate, rows: Int) {
        self.session = session
        self.gate = gate
        self.rows = rows
    }

    /// Runs the model and frees the slot (the call's time feeds the deployment's cost estimate).
    public func run(_ inputs: [String: Tensor], outputs: [String]?) throws -> [(String, Value)] {
        precondition(self.isOpen, "an inline inference slot runs once")
        self.isOpen = false
        defer { self.gate.release() }
        return try self.gate.measured(rows: self.rows) { try self.session.run(inputs, outputNames: outputs) }
    }

    deinit {
        if self.isOpen { self.gate.release() }
    }
}

/// A loaded, verified deployment ready to answer, with everything the routes need to validate and shape answers.
public final class PreparedModel: Sendable {
    /// The model project (id, owner, name, visibility).
    public let model: SlipwayRegistry.Model
    /// The environment's name.
    public let environment: String
    /// The deployment answering.
    public let deployment: Deployment
    /// The engine session (immutable, safe to share).
    public let session: InferenceSession
    /// The parsed feature schema, if the deployment has one.
    public let schema: FeatureSchema?
    /// Class labels by output index, if the deployment has classes.
    public let classes: [String]?
    /// The deployment's admission gate (bounded concurrency and queue), set by ``ModelHost``.
    let admission: AdmissionGate?
    /// The environment's traffic split and shadows, on the active deployment of an environment that has a policy.
    public let traffic: TrafficRoute?

    /// Creates a prepared model.
    public convenience init(
        model: SlipwayRegistry.Model,
        environment: String,
        deployment: Deployment,
        session: InferenceSession,
        schema: FeatureSchema?,
        classes: [String]?
    ) {
        self.init(
            model: model,
            environment: environment,
            deployment: deployment,
            session: session,
            schema: schema,
            classes: classes,
            admission: nil
        )
    }

    init(
        model: SlipwayRegistry.Model,
        environment: String,
        deployment: Deployment,
        session: InferenceSession,
        schema: FeatureSchema?,
        classes: [String]?,
        admission: AdmissionGate?,
        traffic: TrafficRoute? = nil
    ) {
        self.model = model
        self.environment = environment
        self.deployment = deployment
        self.session = session
        self.schema = schema
        self.classes = classes
        self.admission = admission
        self.traffic = traffic
    }
}

/// A deployment's feature schema, parsed: the rules per feature and the positional order.
public struct FeatureSchema: Sendable, Hashable {
    /// A feature's type rule.
    public enum FeatureType: String, Sendable, Hashable {
        case float, integer, number, string, boolean
    }

    /// The rules of one feature.
    public struct Feature: Sendable, Hashable {
        public var name: String
        public var type: FeatureType?
        public var allowed: [JSONTree]?
        public var minimum: Double?
        public var maximum: Double?
        public var minimumLength: Int?
        public var maximumLength: Int?
        public var help: String?
        public var isPII: Bool
        /// Features are required unless `required: false`.
        public var isRequired: Bool

        /// Creates a feature.
        public init(
            name: String,
            type: FeatureType? = nil,
            allowed: [JSONTree]? = nil,
            minimum: Double? = nil,
            maximum: Double? = nil,
            minimumLength: Int? = nil,
            maximumLength: Int? = nil,
            help: String? = nil,
            isPII: Bool = false,
            isRequired: Bool = true
        ) {
            self.name = name
            self.type = type
            self.allowed = allowed
            self.minimum = minimum
            self.maximum = maximum
            self.minimumLength = minimumLength
            self.maximumLength = maximumLength
            self.help = help
            self.isPII = isPII
            self.isRequired = isRequired
        }
    }

    /// The features by name.
    public var features: [String: Feature]
    /// The positional order for `ndarray` rows (the schema's `ndarray` map), if given.
    public var order: [String]?

    /// Creates a schema.
    public init(features: [String: Feature], order: [String]?) {
        self.features = features
        self.order = order
    }
}

/// An error from the runtime.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, Hashable {
        /// No such model, environment or version.
        case notFound = "not_found"
        /// The environment has no active deployment.
        case notActive = "not_active"
        /// The pinned version is not verified.
        case notVerified = "not_verified"
        /// The artifact could not be loaded into the engine.
        case loadFailed = "load_failed"
        /// The deployment's queue is full; retry after ``RuntimeError/retryAfter`` seconds.
        case overloaded
        /// The server is shutting down.
        case unavailable
    }

    /// What went wrong.
    public var code: Code
    /// A sentence naming the model, environment or version and what was expected.
    public var message: String
    /// Seconds after which a retry may succeed (overloaded).
    public var retryAfter: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(self.code.rawValue): \(self.message)" }
}

/// What the management routes tell the runtime about deployments, so activations switch to warm models and new
/// deployments are verified promptly.
public protocol DeploymentLifecycle: Sendable {
    /// Loads a deployment before it is activated (throws when it cannot be loaded; the activation is then refused).
    func warm(_ deployment: Deployment) async throws
    /// Switches this process to an activation's deployment at once.
    func didActivate(_ activation: Activation) async throws
    /// Queues a new deployment for verification.
    func verifySoon(_ deployment: Deployment)
    /// Reloads this process's routes at once after a traffic policy or rollout changed.
    func trafficChanged() async
}

extension ModelHost: DeploymentLifecycle {
    public func trafficChanged() async {
        do {
            try await self.refresh(force: true)
        } catch {
            self.logger.info("route reload after a traffic change failed", metadata: ["error": "\(error)"])
        }
    }
}
