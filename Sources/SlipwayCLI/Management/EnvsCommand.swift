import ArgumentParser
import SlipwayInference

/// `slipway envs create|list|delete`: a model's environments.
public struct EnvsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "envs",
        abstract: "Create, list and delete a model's environments.",
        subcommands: [Create.self, List.self, Delete.self]
    )

    public init() {}

    /// `slipway envs create OWNER/NAME ENV`.
    public struct Create: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Create an environment in a model.")

        @OptionGroup var options: ManagementOptions

        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        @Argument(help: ArgumentHelp("The new environment's name.", valueName: "env"))
        var environment: String

        public init() {}

        public func validate() throws {
            _ = try ModelReference(self.model)
            try ArgumentChecks.environment(self.environment, option: "ENV")
        }

        public func run() async throws {
            let model = try ModelReference(self.model)
            try await ManagementSession.run(self.options) { session in
                let response = try await session.send(
                    .post,
                    model.pathSegments + ["environments"],
                    body: .object([("name", .string(self.environment))])
                )
                session.print(response.body, human: HumanFormat.environment)
            }
        }
    }

    /// `slipway envs list OWNER/NAME`.
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "List a model's environments and their active versions."
        )

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
                let response = try await session.send(.get, model.pathSegments + ["environments"])
                session.print(response.body, human: HumanFormat.environments)
            }
        }
    }

    /// `slipway envs delete OWNER/NAME ENV`.
    public struct Delete: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Delete an environment (refused while it has an active deployment)."
        )

        @OptionGroup var options: ManagementOptions

        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        @Argument(help: ArgumentHelp("The environment to delete.", valueName: "env"))
        var environment: String

        public init() {}

        public func validate() throws {
            _ = try ModelReference(self.model)
            try ArgumentChecks.environment(self.environment, option: "ENV")
        }

        public func run() async throws {
            let model = try ModelReference(self.model)
            try await ManagementSession.run(self.options) { session in
                try await session.delete(
                    model.pathSegments + ["environments", self.environment],
                    done: "Deleted environment \(self.environment) of \(model)."
                )
            }
        }
    }
}
