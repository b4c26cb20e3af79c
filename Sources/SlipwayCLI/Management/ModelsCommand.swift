import ArgumentParser
import SlipwayInference

/// `slipway models create|list|show|delete`: model projects.
public struct ModelsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Create, list, show and delete models (owner/name projects).",
        subcommands: [Create.self, List.self, Show.self, Delete.self]
    )

    public init() {}

    /// `slipway models create OWNER/NAME [--public] [--description TEXT]`.
    public struct Create: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Create a model, with the `production` and `staging` environments."
        )

        @OptionGroup var options: ManagementOptions

        @Argument(help: ArgumentHelp("The model to create.", valueName: "owner/name"))
        var model: String

        @Flag(help: "Make the model public (anyone may read it); models are private by default.")
        var `public` = false

        @Option(help: "A description of the model.")
        var description: String?

        public init() {}

        public func validate() throws {
            _ = try ModelReference(self.model)
        }

        public func run() async throws {
            let model = try ModelReference(self.model)
            try await ManagementSession.run(self.options) { session in
                var body: [(String, JSONValue)] = [("owner", .string(model.owner)), ("name", .string(model.name))]
                if self.public { body.append(("public", .bool(true))) }
                if let description = self.description { body.append(("description", .string(description))) }
                let response = try await session.send(.post, ["models"], body: .object(body))
                session.print(response.body, human: HumanFormat.model)
            }
        }
    }

    /// `slipway models list [--owner O] [--public|--private] [--search Q] [--page N --per-page N]`.
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List the models you may read.")

        @OptionGroup var options: ManagementOptions

        @Option(help: "Only models of this owner (a user or an organisation).")
        var owner: String?

        @Flag(help: "Only public models.")
        var `public` = false

        @Flag(help: "Only private models.")
        var `private` = false

        @Option(help: ArgumentHelp("Only models whose name or description contains this text.", valueName: "text"))
        var search: String?

        @Option(help: "The page to show (1 is the first).")
        var page: Int?

        @Option(name: .customLong("per-page"), help: "Models per page (1–200; the server's default is 50).")
        var perPage: Int?

        public init() {}

        public func validate() throws {
            if self.public && self.private {
                throw ValidationError("--public and --private exclude each other; give at most one")
            }
            if let owner = self.owner { try ModelReference.checkSegment(owner, what: "owner for --owner") }
            if let page = self.page, page < 1 { throw ValidationError("--page must be 1 or more (got \(page))") }
            if let perPage = self.perPage, !(1...200).contains(perPage) {
                throw ValidationError("--per-page must be between 1 and 200 (got \(perPage))")
            }
        }

        public func run() async throws {
            try await ManagementSession.run(self.options) { session in
                let visibility: String? = self.public ? "public" : self.private ? "private" : nil
                let response = try await session.send(
                    .get,
                    ["models"],
                    query: [
                        ("owner", self.owner), ("visibility", visibility), ("q", self.search),
                        ("page", self.page.map(String.init)), ("per_page", self.perPage.map(String.init)),
                    ]
                )
                session.print(response.body) { list in
                    HumanFormat.models(list) + Self.pageNote(shown: list.items.count, total: response.totalCount)
                }
            }
        }

        /// `(showing 50 of 120 models; use --page for more)` when the list is one page of several.
        static func pageNote(shown: Int, total: Int?) -> String {
            guard let total, total > shown else { return "" }
            return "\n(showing \(shown) of \(total) models; use --page and --per-page for more)"
        }
    }

    /// `slipway models show OWNER/NAME`.
    public struct Show: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show a model, its environments and active versions."
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
                let response = try await session.send(.get, model.pathSegments)
                session.print(response.body, human: HumanFormat.model)
            }
        }
    }

    /// `slipway models delete OWNER/NAME`.
    public struct Delete: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Delete a model with its environments, deployments and keys (needs the owner role)."
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
                try await session.delete(model.pathSegments, done: "Deleted model \(model).")
            }
        }
    }
}
