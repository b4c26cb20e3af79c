import ArgumentParser
import Foundation
import SlipwayInference

/// `slipway keys create|list|revoke`: deploy and serving keys of a model.
public struct KeysCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke a model's deploy and serving keys.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    public init() {}

    /// A key lifetime given as `30d` (days) or `12h` (hours).
    struct Lifetime: Equatable, Sendable {
        var seconds: Int

        init(_ text: String) throws {
            let invalid = ValidationError(
                "--expires takes a number of days or hours, like 30d or 12h (got '\(text)')"
            )
            guard let unit = text.last, let count = Int(text.dropLast()), count > 0, count <= 100 * 365 * 24 else {
                throw invalid
            }
            switch unit {
            case "d": self.seconds = count * 86_400
            case "h": self.seconds = count * 3_600
            default: throw invalid
            }
        }

        /// The moment the key expires when created at `now`, as RFC 3339 UTC.
        func expiry(from now: Date) -> String {
            now.addingTimeInterval(TimeInterval(self.seconds)).formatted(.iso8601)
        }
    }

    /// `slipway keys create OWNER/NAME --kind deploy|serving --env ENV [--env ENV…] [--name NAME] [--expires 30d]
    /// [--rate-limit N]`.
    ///
    /// The secret is printed once, as the last line of standard output (the `secret` field with `--json`).
    public struct Create: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Create a deploy or serving key; its secret is the last line of the output.",
            discussion: """
                The secret is shown once and never again: store it at once. A deploy key may deploy, activate, \
                roll back and promote within its environments; a serving key may only call the prediction API.
                """
        )

        @OptionGroup var options: ManagementOptions

        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        @Option(help: ArgumentHelp("The kind of key: deploy or serving.", valueName: "deploy|serving"))
        var kind: String

        @Option(
            name: [.customLong("env")],
            help: ArgumentHelp("An environment the key may act in (repeat for several).", valueName: "env")
        )
        var environments: [String] = []

        @Option(help: "A name for the key (default: the kind and the environments, like deploy-production).")
        var name: String?

        @Option(help: ArgumentHelp("Expire the key after this long: 30d (days) or 12h (hours).", valueName: "duration"))
        var expires: String?

        @Option(
            name: .customLong("rate-limit"),
            help: ArgumentHelp("Serving keys: the most predictions allowed per second.", valueName: "n")
        )
        var rateLimit: Int?

        public init() {}

        public func validate() throws {
            _ = try ModelReference(self.model)
            guard self.kind == "deploy" || self.kind == "serving" else {
                throw ValidationError("--kind must be deploy or serving (got '\(self.kind)')")
            }
            guard !self.environments.isEmpty else {
                throw ValidationError("give at least one --env that the key may act in")
            }
            for environment in self.environments { try ArgumentChecks.environment(environment) }
            if let expires = self.expires { _ = try Lifetime(expires) }
            if let rateLimit = self.rateLimit {
                guard self.kind == "serving" else {
                    throw ValidationError("--rate-limit applies to serving keys only")
                }
                guard rateLimit >= 1 else { throw ValidationError("--rate-limit must be 1 or more (got \(rateLimit))") }
            }
            if let name = self.name, name.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--name must not be empty")
            }
        }

        /// The key's name: `--name`, or the kind followed by the environments (`deploy-production-staging`).
        var resolvedName: String {
            self.name ?? ([self.kind] + self.environments).joined(separator: "-")
        }

        /// The JSON body of `POST /api/v1/models/{model}/keys`.
        func requestBody(now: Date) throws -> JSONValue {
            var body: [(String, JSONValue)] = [
                ("kind", .string(self.kind)),
                ("name", .string(self.resolvedName)),
                ("environments", .array(self.environments.map { .string($0) })),
            ]
            if let expires = self.expires {
                body.append(("expires_at", .string(try Lifetime(expires).expiry(from: now))))
            }
            if let rateLimit = self.rateLimit { body.append(("rate_limit", .int(Int64(rateLimit)))) }
            return .object(body)
        }

        public func run() async throws {
            let model = try ModelReference(self.model)
            try await ManagementSession.run(self.options) { session in
                let response = try await session.send(
                    .post,
                    model.pathSegments + ["keys"],
                    body: try self.requestBody(now: Date())
                )
                session.print(response.body) { key in
                    guard let secret = key.string("secret") else {
                        return HumanFormat.key(key) + "\n(the server sent no secret)"
                    }
                    return HumanFormat.key(key) + "\n\nThe secret is shown only this once; store it now:\n" + secret
                }
            }
        }
    }

    /// `slipway keys list OWNER/NAME`.
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List a model's keys (without secrets).")

        @OptionGroup var options: ManagementOptions

        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        public init() {}

        public func validate() throws {
            _ = try ModelReference(self.model)
        }

        public func run() async throws {
            let model = try ModelReference(self.model)
            try await ManagementSession.run(self.options) { session in
                let response = try await session.send(.get, model.pathSegments + ["keys"])
                session.print(response.body, human: HumanFormat.keys)
            }
        }
    }

    /// `slipway keys revoke OWNER/NAME KEY_ID`.
    public struct Revoke: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Revoke a key at once.")

        @OptionGroup var options: ManagementOptions

        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        @Argument(help: ArgumentHelp("The key's id (see `slipway keys list`).", valueName: "key-id"))
        var keyID: String

        public init() {}

        public func validate() throws {
            _ = try ModelReference(self.model)
            try ModelReference.checkSegment(self.keyID, what: "key id")
        }

        public func run() async throws {
            let model = try ModelReference(self.model)
            try await ManagementSession.run(self.options) { session in
                try await session.delete(
                    model.pathSegments + ["keys", self.keyID],
                    done: "Revoked key \(self.keyID) of \(model)."
                )
            }
        }
    }
}
