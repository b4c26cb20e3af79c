import ArgumentParser
import Foundation

/// The options every management command takes: which server, which credential, which output form.
///
/// Each option falls back to an environment variable, and an option given on the command line beats any
/// environment variable.
struct ManagementOptions: ParsableArguments {
    /// The server used when neither `--server` nor `SLIPWAY_SERVER` is given.
    static let defaultServer = "http://127.0.0.1:8080"

    @Option(
        help: ArgumentHelp(
            "The Slipway server's base URL (env SLIPWAY_SERVER; default \(Self.defaultServer)).",
            valueName: "url"
        )
    )
    var server: String?

    @Option(
        help: ArgumentHelp("A user's API token (env SLIPWAY_TOKEN).", valueName: "token")
    )
    var token: String?

    @Option(
        name: .customLong("deploy-key"),
        help: ArgumentHelp(
            "A deploy key (env SLIPWAY_DEPLOY_KEY); deploy, activate, rollback and promote prefer it to a token.",
            valueName: "key"
        )
    )
    var deployKey: String?

    @Flag(help: "Print the server's JSON instead of the human-readable form.")
    var json = false

    func validate() throws {
        if let server = self.server {
            _ = try Self.serverURL(server)
        }
    }

    /// The server's base URL: `--server`, then `SLIPWAY_SERVER`, then the default.
    func resolvedServer(in context: CommandContext) throws -> URL {
        try Self.serverURL(self.server ?? context.variable("SLIPWAY_SERVER") ?? Self.defaultServer)
    }

    /// The credential to send, or `nil` for an anonymous request.
    ///
    /// Options beat environment variables. Among credentials from the same source a token wins over a deploy key,
    /// except for deploy commands (`preferDeployKey`), which prefer the deploy key.
    func credential(in context: CommandContext, preferDeployKey: Bool) -> String? {
        func pick(token: String?, deployKey: String?) -> String? {
            preferDeployKey ? deployKey ?? token : token ?? deployKey
        }
        let fromOptions = pick(
            token: self.token.flatMap(Self.nonEmpty),
            deployKey: self.deployKey.flatMap(Self.nonEmpty)
        )
        return fromOptions
            ?? pick(token: context.variable("SLIPWAY_TOKEN"), deployKey: context.variable("SLIPWAY_DEPLOY_KEY"))
    }

    private static func nonEmpty(_ text: String) -> String? {
        text.isEmpty ? nil : text
    }

    /// Parses a server URL: `http` or `https` with a host; a trailing slash is dropped.
    static func serverURL(_ text: String) throws -> URL {
        var text = text
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else {
            throw ValidationError(
                "the server must be an http:// or https:// URL with a host, like \(Self.defaultServer)"
            )
        }
        return url
    }
}
