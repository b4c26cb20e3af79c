/// Who made a change, as recorded in the activity log.
public struct ActivityActor: Hashable, Sendable, Codable {
    /// The kind of credential that acted.
    public enum Kind: String, Hashable, Sendable, Codable {
        case user
        case deployKey = "deploy_key"
        case servingKey = "serving_key"
        case system
    }

    /// The kind of credential.
    public var kind: Kind
    /// The user's id or the key's id (empty for the system).
    public var id: String
    /// The username or the key's name, kept so the log stays readable after a key is revoked.
    public var name: String

    /// Creates an actor.
    public init(kind: Kind, id: String, name: String) {
        self.kind = kind
        self.id = id
        self.name = name
    }

    /// Slipway itself (migrations, background verification, first start).
    public static let system = ActivityActor(kind: .system, id: "", name: "slipway")
}
