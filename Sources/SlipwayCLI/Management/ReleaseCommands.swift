import ArgumentParser
import SlipwayInference

/// The arguments of `activate` and `rollback`: which version of which environment to switch to.
public struct SwitchArguments: ParsableArguments {
    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Option(help: ArgumentHelp("The environment.", valueName: "env"))
    var env: String

    @Option(help: ArgumentHelp("The deployment version to make active.", valueName: "n"))
    var version: Int

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.env)
        try ArgumentChecks.version(self.version)
    }
}

/// `slipway activate OWNER/NAME --env ENV --version N`: makes a verified deployment the active one.
public struct ActivateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Make a verified deployment the active one of its environment.",
        discussion: "Authenticates with a deploy key when one is given, otherwise with a token."
    )

    @OptionGroup var arguments: SwitchArguments

    public init() {}

    public func run() async throws {
        try await ReleaseAction.switchVersion(self.arguments, route: "activate", verb: "Activated")
    }
}

/// `slipway rollback OWNER/NAME --env ENV --version N`: re-activates an older deployment.
public struct RollbackCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Re-activate an earlier verified deployment of an environment.",
        discussion: "Authenticates with a deploy key when one is given, otherwise with a token."
    )

    @OptionGroup var arguments: SwitchArguments

    public init() {}

    public func run() async throws {
        try await ReleaseAction.switchVersion(self.arguments, route: "rollback", verb: "Rolled back")
    }
}

/// `slipway promote OWNER/NAME --from ENV --version N --to ENV`: copies a deployment into another environment.
public struct PromoteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Copy a deployment into another environment as a new deployment there.",
        discussion: """
            The new deployment reuses the artifact and metadata; a verified deployment arrives verified, any other \
            arrives pending. Authenticates with a deploy key when one is given, otherwise with a token.
            """
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Option(help: ArgumentHelp("The environment the deployment is in.", valueName: "env"))
    var from: String

    @Option(help: ArgumentHelp("The deployment version to promote.", valueName: "n"))
    var version: Int

    @Option(help: ArgumentHelp("The environment to promote it into.", valueName: "env"))
    var to: String

    @Option(help: "A summary for the new deployment (default: the promoted one's).")
    var summary: String?

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.from, option: "--from")
        try ArgumentChecks.environment(self.to, option: "--to")
        try ArgumentChecks.version(self.version)
        guard self.from != self.to else { throw ValidationError("--from and --to name the same environment") }
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        try await ManagementSession.run(self.options, preferDeployKey: true) { session in
            var body: [(String, JSONValue)] = [("to_environment", .string(self.to))]
            if let summary = self.summary { body.append(("summary", .string(summary))) }
            let response = try await session.send(
                .post,
                model.pathSegments + ["environments", self.from, "deployments", String(self.version), "promote"],
                body: .object(body)
            )
            session.print(response.body) { deployment in
                "Promoted \(model) \(self.from) version \(self.version) to \(self.to) "
                    + "as version \(deployment.text("version")).\n\n" + HumanFormat.deployment(deployment)
            }
        }
    }
}

/// The shared body of activate and rollback.
enum ReleaseAction {
    static func switchVersion(_ arguments: SwitchArguments, route: String, verb: String) async throws {
        let model = try ModelReference(arguments.model)
        try await ManagementSession.run(arguments.options, preferDeployKey: true) { session in
            let response = try await session.send(
                .post,
                model.pathSegments + ["environments", arguments.env, route],
                body: .object([("version", .int(Int64(arguments.version)))])
            )
            session.print(response.body) { HumanFormat.activation($0, model: model, verb: verb) }
        }
    }
}
