import Foundation

/// A person or service account; its `username` is also an owner namespace for models.
public struct User: Hashable, Sendable {
    /// Stable identifier.
    public var id: UUID
    /// The namespace name (follows ``Names``), unique across users and organisations.
    public var username: String
    /// A display name, free text.
    public var displayName: String
    /// An e-mail address, unchecked beyond its length.
    public var email: String?
    /// Administrators may do everything on every model.
    public var isAdmin: Bool
    /// When the user was created.
    public var createdAt: Date

    /// Creates a user value (nothing is stored until the repository is asked to).
    public init(
        id: UUID = UUID(),
        username: String,
        displayName: String = "",
        email: String? = nil,
        isAdmin: Bool = false,
        createdAt: Date
    ) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.email = email
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }
}

/// A user's management credential (`Authorization: Bearer …` or `Token …`).
///
/// Only the SHA-256 of the secret is stored; see ``Secret``.
public struct APIToken: Hashable, Sendable {
    /// The public part of the secret, used to look the token up.
    public var id: String
    /// The user the token acts as.
    public var userID: UUID
    /// A label chosen by the user (`"laptop"`, `"ci"`).
    public var name: String
    /// SHA-256 of the secret part, hex-encoded.
    public var secretHash: String
    /// When the token was created.
    public var createdAt: Date
    /// When the token stops working, if ever.
    public var expiresAt: Date?
    /// When the token was revoked, if it was.
    public var revokedAt: Date?

    /// Creates a token value.
    public init(
        id: String,
        userID: UUID,
        name: String,
        secretHash: String,
        createdAt: Date,
        expiresAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the token may be used at `date`.
    public func isUsable(at date: Date) -> Bool {
        self.revokedAt == nil && (self.expiresAt.map { date < $0 } ?? true)
    }
}

/// An organisation: an owner namespace shared by its members.
public struct Organization: Hashable, Sendable {
    /// Stable identifier.
    public var id: UUID
    /// The namespace name (follows ``Names``), unique across users and organisations.
    public var name: String
    /// A display name, free text.
    public var displayName: String
    /// When the organisation was created.
    public var createdAt: Date

    /// Creates an organisation value.
    public init(id: UUID = UUID(), name: String, displayName: String = "", createdAt: Date) {
        self.id = id
        self.name = name
        self.displayName = displayName
        self.createdAt = createdAt
    }
}

/// A member's role in an organisation, from most to least powerful.
public enum Role: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    /// Everything, including deleting models and managing members.
    case owner
    /// Create and edit models, environments, deployments and keys; activate, roll back and promote.
    case maintainer
    /// Read models, environments, deployments and the activity log.
    case viewer

    private var rank: Int {
        switch self {
        case .owner: 3
        case .maintainer: 2
        case .viewer: 1
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// One user's membership in one organisation.
public struct Membership: Hashable, Sendable {
    /// The organisation.
    public var organizationID: UUID
    /// The member.
    public var userID: UUID
    /// The member's username (filled in by the repository when listing).
    public var username: String
    /// What the member may do.
    public var role: Role

    /// Creates a membership value.
    public init(organizationID: UUID, userID: UUID, username: String, role: Role) {
        self.organizationID = organizationID
        self.userID = userID
        self.username = username
        self.role = role
    }
}
