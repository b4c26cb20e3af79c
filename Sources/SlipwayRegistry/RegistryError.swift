/// An error from the registry: a domain rule refused a change, or a lookup found nothing.
///
/// The API module maps each ``Code`` to one HTTP status; nothing below it knows about HTTP.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, independent of the message wording.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidInput = "invalid_input"
            case unauthenticated
            case forbidden
            case notFound = "not_found"
            case conflict
            case notVerified = "not_verified"
            case payloadTooLarge = "payload_too_large"
            case artifactCorrupt = "artifact_corrupt"
            case storageFailure = "storage_failure"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A field is missing, mistyped or breaks a rule; ``RegistryError/field`` names it.
        public static let invalidInput = Code(.invalidInput)
        /// No credential, or an unknown, expired or revoked one.
        public static let unauthenticated = Code(.unauthenticated)
        /// The credential is valid but may not do this.
        public static let forbidden = Code(.forbidden)
        /// The model, environment, deployment, key, user or organisation does not exist (or is hidden).
        public static let notFound = Code(.notFound)
        /// The change collides with existing state (a taken name, an environment with an active deployment).
        public static let conflict = Code(.conflict)
        /// Only verified deployments may become active.
        public static let notVerified = Code(.notVerified)
        /// An upload or body is larger than the configured limit.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// A stored artifact no longer matches its SHA-256 digest.
        public static let artifactCorrupt = Code(.artifactCorrupt)
        /// The database or artifact folder failed; the message says how.
        public static let storageFailure = Code(.storageFailure)

        /// The stable, snake_case name used on the wire (`"not_found"`).
        public var description: String { self.base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// A sentence for people, naming the field or object and what was expected.
    public var message: String
    /// The request field at fault, when there is one (`"name"`, `"schema.features.age.type"`).
    public var field: String?
    /// The underlying error, if any.
    public var cause: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, field: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.cause = cause
    }

    public var description: String { "\(self.code): \(self.message)" }

    /// A field breaks a rule.
    public static func invalid(_ field: String, _ message: String) -> RegistryError {
        RegistryError(.invalidInput, message, field: field)
    }

    /// A named object does not exist.
    public static func notFound(_ message: String) -> RegistryError {
        RegistryError(.notFound, message)
    }

    /// A change collides with existing state.
    public static func conflict(_ message: String, field: String? = nil) -> RegistryError {
        RegistryError(.conflict, message, field: field)
    }

    /// The caller may not do this.
    public static func forbidden(_ message: String) -> RegistryError {
        RegistryError(.forbidden, message)
    }
}
