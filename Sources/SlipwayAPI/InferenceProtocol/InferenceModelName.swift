import Foundation
import SlipwayRegistry

/// How an Open Inference Protocol model name maps to a Slipway model and environment.
///
/// A v2 model name is `owner__name` (two underscores) for the `production` environment, or
/// `owner__name__environment` for any other environment. Slipway names never hold two punctuation characters in a
/// row, so the double underscore cannot occur inside a name and the split is unambiguous:
///
/// ```swift
/// InferenceModelName("acme__churn")            // acme/churn, production
/// InferenceModelName("acme__churn__staging")   // acme/churn, staging
/// InferenceModelName("acme/churn")             // nil
/// ```
public struct InferenceModelName: Sendable, Hashable, CustomStringConvertible {
    /// The separator between owner, name and environment.
    public static let separator = "__"
    /// The environment a two-part name addresses.
    public static let defaultEnvironment = "production"

    /// The model's owner.
    public var owner: String
    /// The model's name.
    public var name: String
    /// The environment.
    public var environment: String

    /// Creates a name from its parts.
    public init(owner: String, name: String, environment: String = InferenceModelName.defaultEnvironment) {
        self.owner = owner
        self.name = name
        self.environment = environment
    }

    /// Parses `owner__name` or `owner__name__environment`; `nil` when the text is not such a name.
    public init?(_ text: String) {
        let parts = text.components(separatedBy: Self.separator)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ Names.isValid($0) }) else { return nil }
        self.owner = parts[0]
        self.name = parts[1]
        self.environment = parts.count == 3 ? parts[2] : Self.defaultEnvironment
    }

    /// The canonical v2 name: the environment is left out for `production`.
    public var description: String {
        let base = self.owner + Self.separator + self.name
        return self.environment == Self.defaultEnvironment ? base : base + Self.separator + self.environment
    }

    /// `owner/name` as the rest of Slipway writes it.
    public var fullName: String { "\(self.owner)/\(self.name)" }
}
