import ArgumentParser
import SlipwayInference

/// `slipway deployments list|show`: a model's deployments.
public struct DeploymentsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deployments",
        abstract: "List and show a model's deployments.",
        subcommands: [List.self, Show.self]
    )

    public init() {}

    /// `slipway deployments list OWNER/NAME [--env ENV] [--status S]`.
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "List a model's deployments, newest first within each environment."
        )

        @OptionGroup var options: ManagementOptions

        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        @Option(help: ArgumentHelp("Only this environment's deployments.", valueName: "env"))
        var env: String?

        @Option(help: ArgumentHelp("Only deployments in this state.", valueName: "pending|verified|failed"))
        var status: String?

        @Option(help: "The page to show (1 is the first).")
        var page: Int?

        @Option(name: .customLong("per-page"), help: "Deployments per page (1–200; the server's default is 50).")
        var perPage: Int?

        public init() {}

        public func validate() throws {
            _ = try ModelReference(self.model)
            if let env = self.env { try ArgumentChecks.environment(env) }
            if let status = self.status, !["pending", "verified", "failed"].contains(status) {
                throw ValidationError("--status must be pending, verified or failed (got '\(status)')")
            }
            if let page = self.page, page < 1 { throw ValidationError("--page must be 1 or more (got \(page))") }
            if let perPage = self.perPage, !(1...200).contains(perPage) {
                throw ValidationError("--per-page must be between 1 and 200 (got \(perPage))")
            }
        }

        public func run() async throws {
            let model = try ModelReference(self.model)
            try await ManagementSession.run(self.options) { session in
                let response = try await session.send(
                    .get,
                    model.pathSegments + ["deployments"],
                    query: [
                        ("environment", self.env), ("status", self.status),
                        ("page", self.page.map(String.init)), ("per_page", self.perPage.map(String.init)),
                    ]
                )
                session.print(response.body) { list in
                    HumanFormat.deployments(list, showEnvironment: self.env == nil)
                        + Self.pageNote(shown: list.items.count, total: response.totalCount)
                }
            }
        }

        static func pageNote(shown: Int, total: Int?) -> String {
            guard let total, total > shown else { return "" }
            return "\n(showing \(shown) of \(total) deployments; use --page and --per-page for more)"
        }
    }

    /// `slipway deployments show OWNER/NAME --env ENV --version N`.
    public struct Show: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Show one deployment.")

        @OptionGroup var options: ManagementOptions

        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        @Option(help: ArgumentHelp("The environment.", valueName: "env"))
        var env: String

        @Option(help: ArgumentHelp("The deployment version.", valueName: "n"))
        var version: Int

        public init() {}

        public func validate() throws {
            _ = try ModelReference(self.model)
            try ArgumentChecks.environment(self.env)
            try ArgumentChecks.version(self.version)
        }

        public func run() async throws {
            let model = try ModelReference(self.model)
            try await ManagementSession.run(self.options) { session in
                let response = try await session.send(
                    .get,
                    model.pathSegments + ["environments", self.env, "deployments", String(self.version)]
                )
                session.print(response.body, human: HumanFormat.deployment)
            }
        }
    }
}
