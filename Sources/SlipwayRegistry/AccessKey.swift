import Foundation

/// A deploy or serving key: a named credential scoped to one model and some of its environments.
///
/// Only the SHA-256 of the secret is stored; see ``Secret``.
public struct AccessKey: Hashable, Sendable {
    /// What the key may do.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// Deploy, activate, roll back and promote within its environments; read the model.
        case deploy
        /// Predictions only.
        case serving
    }

    /// The public part of the secret, used to look the key up.
    public var id: String
    /// The model the key belongs to.
    public var modelID: UUID
    /// What the key may do.
    public var kind: Kind
    /// A label (`"ci"`, `"ios-app-production"`), unique per model and kind among unrevoked keys.
    public var name: String
    /// The environments (by name) the key works in; never empty.
    public var environments: [String]
    /// SHA-256 of the secret part, hex-encoded.
    public var secretHash: String
    /// Requests per second allowed (serving keys only); `nil` for no limit.
    public var rateLimit: Int?
    /// When the key stops working, if ever.
    public var expiresAt: Date?
    /// When the key was revoked, if it was.
    public var revokedAt: Date?
    /// Who created it.
    public var createdBy: ActivityActor
    /// When it was created.
    public var createdAt: Date

    /// Creates a key value.
    public init(
        id: String,
        modelID: UUID,
        kind: Kind,
        name: String,
        environments: [String],
        secretHash: String,
        rateLimit: Int? = nil,
        expiresAt: Date? = nil,
        revokedAt: Date? = nil,
        createdBy: ActivityActor,
        createdAt: Date
    ) {
        self.id = id
        self.modelID = modelID
        self.kind = kind
        self.name = name
        self.environments = environments
        self.secretHash = secretHash
        self.rateLimit = rateLimit
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// Whether the key may be used at `date`.
    public func isUsable(at date: Date) -> Bool {
        self.revokedAt == nil && (self.expiresAt.map { date < $0 } ?? true)
    }
}
