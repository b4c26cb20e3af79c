import Foundation

/// Who is calling: the identity a credential resolved to.
public enum Principal: Sendable, Hashable {
    /// No credential.
    case anonymous
    /// A user's API token.
    case user(User)
    /// A deploy key.
    case deployKey(AccessKey)
    /// A serving key (predictions only).
    case servingKey(AccessKey)

    /// How the activity log names this caller.
    public var actor: ActivityActor {
        switch self {
        case .anonymous: ActivityActor(kind: .system, id: "", name: "anonymous")
        case .user(let user): ActivityActor(kind: .user, id: user.id.uuidString.lowercased(), name: user.username)
        case .deployKey(let key): ActivityActor(kind: .deployKey, id: key.id, name: key.name)
        case .servingKey(let key): ActivityActor(kind: .servingKey, id: key.id, name: key.name)
        }
    }

    /// The user behind the credential, if it is a user token.
    public var user: User? {
        if case .user(let user) = self { return user }
        return nil
    }

    /// Whether the caller is an administrator.
    public var isAdmin: Bool { self.user?.isAdmin ?? false }
}

/// What a caller may do on one model, from the most to the least.
public enum ModelAccess: Sendable, Hashable {
    /// A role on the model's owner (admins are owners of everything).
    case role(Role)
    /// A deploy key of this model: read, plus deploy/activate/rollback/promote within these environments.
    case deployKey(environments: Set<String>)
    /// The model is hidden from the caller.
    case none

    /// Whether the caller may read the model.
    public var canRead: Bool {
        if case .none = self { return false }
        return true
    }

    /// Whether the caller's role is at least `role`.
    public func hasRole(_ role: Role) -> Bool {
        if case .role(let actual) = self { return actual >= role }
        return false
    }

    /// Whether the caller may deploy, activate, roll back and promote in `environment`.
    public func canDeploy(to environment: String) -> Bool {
        switch self {
        case .role(let role): role >= .maintainer
        case .deployKey(let environments): environments.contains(environment)
        case .none: false
        }
    }
}
