import Foundation

/// One immutable artifact plus metadata created in one environment, numbered per environment.
///
/// Only ``description`` and the verification ``status`` (with its report) change after creation.
public struct Deployment: Hashable, Sendable {
    /// Stable identifier (TeachableHub's `uuid`).
    public var id: UUID
    /// The model it belongs to.
    public var modelID: UUID
    /// The environment it was created in.
    public var environmentID: UUID
    /// The environment's name (filled in by the repository).
    public var environmentName: String
    /// 1, 2, 3… within the environment, assigned by the repository.
    public var version: Int
    /// The artifact's SHA-256, hex-encoded.
    public var artifactDigest: String
    /// The artifact's size in bytes.
    public var artifactSize: Int64
    /// The artifact's format (`onnx`).
    public var format: String
    /// A one-line summary, like a commit message; required.
    public var summary: String
    /// A longer, editable description (a changelog).
    public var description: String
    /// The feature schema, as JSON text.
    public var schema: String?
    /// Example inputs (`{"ndarray": …, "features": …}`), as JSON text.
    public var samples: String?
    /// Output index → class label, as JSON text.
    public var classes: String?
    /// Free-form provenance (git commit, library versions…), as JSON text.
    public var context: String?
    /// Free-form parameters, as JSON text.
    public var params: String?
    /// How many rows the reference (training) distribution sent with the deployment holds, or `nil` when none was
    /// sent. The rows themselves are read with ``RegistryRepository/deploymentReference(id:)``.
    public var referenceRows: Int?
    /// Verification state.
    public var status: DeploymentStatus
    /// Why verification failed, when it did.
    public var statusReason: String?
    /// When verification finished.
    public var verifiedAt: Date?
    /// The verification report, as JSON text: per sample the input form, the outputs and the latency; the total;
    /// the engine's view of the model's inputs and outputs. Written by the runtime's verifier.
    public var verification: String?
    /// Activate as soon as verification passes.
    public var activateOnVerify: Bool
    /// The deployment this one was promoted from, if any.
    public var promotedFromID: UUID?
    /// Who created it.
    public var createdBy: ActivityActor
    /// When it was created.
    public var createdAt: Date

    /// Creates a deployment value. The repository assigns ``version`` on insert.
    public init(
        id: UUID = UUID(),
        modelID: UUID,
        environmentID: UUID,
        environmentName: String,
        version: Int = 0,
        artifactDigest: String,
        artifactSize: Int64,
        format: String = "onnx",
        summary: String,
        description: String = "",
        schema: String? = nil,
        samples: String? = nil,
        classes: String? = nil,
        context: String? = nil,
        params: String? = nil,
        referenceRows: Int? = nil,
        status: DeploymentStatus = .pending,
        statusReason: String? = nil,
        verifiedAt: Date? = nil,
        verification: String? = nil,
        activateOnVerify: Bool = false,
        promotedFromID: UUID? = nil,
        createdBy: ActivityActor,
        createdAt: Date
    ) {
        self.id = id
        self.modelID = modelID
        self.environmentID = environmentID
        self.environmentName = environmentName
        self.version = version
        self.artifactDigest = artifactDigest
        self.artifactSize = artifactSize
        self.format = format
        self.summary = summary
        self.description = description
        self.schema = schema
        self.samples = samples
        self.classes = classes
        self.context = context
        self.params = params
        self.referenceRows = referenceRows
        self.status = status
        self.statusReason = statusReason
        self.verifiedAt = verifiedAt
        self.verification = verification
        self.activateOnVerify = activateOnVerify
        self.promotedFromID = promotedFromID
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A deployment's verification state: `pending` → `verified` or `failed`, once.
public enum DeploymentStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case pending
    case verified
    case failed

    /// Whether a deployment may move from this state to `next`.
    public func canTransition(to next: DeploymentStatus) -> Bool {
        self == .pending && next != .pending
    }
}
