import ArgumentParser
import Foundation
import SlipwayInference

/// `slipway activity OWNER/NAME [--env ENV] [--at TIME]`: a model's activity log, or which version was live.
public struct ActivityCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "activity",
        abstract: "Show a model's activity log, newest first, or which version was live at a given time.",
        discussion: """
            With --at, prints the version that was live in the environment at that moment (the model's default \
            environment, production unless changed, when --env is not given).
            """
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Option(help: ArgumentHelp("Only this environment's events.", valueName: "env"))
    var env: String?

    @Option(help: ArgumentHelp("Show which version was live at this RFC 3339 time instead.", valueName: "time"))
    var at: String?

    @Option(help: "The page to show (1 is the first).")
    var page: Int?

    @Option(name: .customLong("per-page"), help: "Events per page (1–200; the server's default is 50).")
    var perPage: Int?

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        if let env = self.env { try ArgumentChecks.environment(env) }
        if let at = self.at, Self.parseTime(at) == nil {
            throw ValidationError("--at takes an RFC 3339 time, like 2026-11-28T04:31:07Z (got '\(at)')")
        }
        if let page = self.page, page < 1 { throw ValidationError("--page must be 1 or more (got \(page))") }
        if let perPage = self.perPage, !(1...200).contains(perPage) {
            throw ValidationError("--per-page must be between 1 and 200 (got \(perPage))")
        }
    }

    /// Parses an RFC 3339 time, with or without fractional seconds.
    static func parseTime(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        try await ManagementSession.run(self.options) { session in
            if let at = self.at {
                var environment = self.env
                if environment == nil {
                    let answer = try await session.send(.get, model.pathSegments)
                    environment = answer.body?.string("default_environment") ?? "production"
                }
                let response = try await session.send(
                    .get,
                    model.pathSegments + ["environments", environment ?? "production", "live"],
                    query: [("at", at)]
                )
                session.print(response.body) { HumanFormat.live($0, model: model) }
                return
            }
            let response = try await session.send(
                .get,
                model.pathSegments + ["activity"],
                query: [
                    ("environment", self.env), ("page", self.page.map(String.init)),
                    ("per_page", self.perPage.map(String.init)),
                ]
            )
            session.print(response.body, human: HumanFormat.activity)
        }
    }
}
