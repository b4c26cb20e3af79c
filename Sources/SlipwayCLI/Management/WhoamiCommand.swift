import ArgumentParser

/// `slipway whoami`: the user the token belongs to.
public struct WhoamiCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the user that the API token belongs to."
    )

    @OptionGroup var options: ManagementOptions

    public init() {}

    public func run() async throws {
        try await ManagementSession.run(self.options) { session in
            let response = try await session.send(.get, ["users", "me"])
            session.print(response.body, human: HumanFormat.user)
        }
    }
}
