import ArgumentParser

/// A model named on the command line as `OWNER/NAME`.
///
/// Only the shape is checked here (one slash, two non-empty parts, no spaces or URL punctuation); the server
/// checks the naming rules and names the offending field when they are broken.
struct ModelReference: Sendable, Equatable, CustomStringConvertible {
    var owner: String
    var name: String

    /// Parses `OWNER/NAME`, throwing a `ValidationError` that shows the expected form.
    init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("expected a model as OWNER/NAME (for example acme/churn), got '\(text)'")
        }
        self.owner = String(parts[0])
        self.name = String(parts[1])
        try Self.checkSegment(self.owner, what: "model owner", in: text)
        try Self.checkSegment(self.name, what: "model name", in: text)
    }

    var description: String { "\(self.owner)/\(self.name)" }

    /// The model's path under the API root: `models/OWNER/NAME`.
    var pathSegments: [String] { ["models", self.owner, self.name] }

    /// Rejects characters that can never be part of a name and would change a URL's meaning.
    static func checkSegment(_ segment: String, what: String, in text: String? = nil) throws {
        let forbidden: Set<Character> = ["/", "?", "#", "%", "\\"]
        if segment.isEmpty || segment.contains(where: { $0.isWhitespace || forbidden.contains($0) }) {
            let shown = text ?? segment
            throw ValidationError("'\(shown)' is not a valid \(what): names use letters, digits, '-', '_' and '.'")
        }
    }
}

/// Checks the arguments shared by several commands.
enum ArgumentChecks {
    /// Checks an environment name given with `--env`, `--from` or `--to`.
    static func environment(_ name: String, option: String = "--env") throws {
        try ModelReference.checkSegment(name, what: "environment name for \(option)")
    }

    /// Checks a deployment version: a positive integer.
    static func version(_ version: Int, option: String = "--version") throws {
        guard version >= 1 else {
            throw ValidationError("\(option) must be a deployment version, 1 or more (got \(version))")
        }
    }
}
