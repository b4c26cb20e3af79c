import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the management commands write and what environment they read.
///
/// Commands never touch `FileHandle.standardOutput` or `ProcessInfo` directly: they go through
/// `CommandContext.current`, which tests replace for the duration of one call:
///
/// ```swift
/// let capture = OutputCapture()
/// try await CommandContext.$current.withValue(capture.context(environment: [:])) {
///     try await command.run()
/// }
/// ```
struct CommandContext: Sendable {
    /// Writes text (already ending in a newline where one is wanted) to standard output.
    var writeOutput: @Sendable (String) -> Void
    /// Writes text to standard error.
    var writeError: @Sendable (String) -> Void
    /// Whether standard error is a terminal (the upload progress bar is drawn only then).
    var isErrorTerminal: Bool
    /// The environment variables (`SLIPWAY_SERVER`, `SLIPWAY_TOKEN`, `SLIPWAY_DEPLOY_KEY`).
    var environment: [String: String]

    /// The process's real standard output, standard error and environment.
    static var standard: CommandContext {
        CommandContext(
            writeOutput: { FileHandle.standardOutput.write(Data($0.utf8)) },
            writeError: { FileHandle.standardError.write(Data($0.utf8)) },
            isErrorTerminal: isatty(STDERR_FILENO) == 1,
            environment: ProcessInfo.processInfo.environment
        )
    }

    /// The context of the running command.
    @TaskLocal static var current: CommandContext = .standard

    /// Writes one line to standard output.
    func printLine(_ text: String) {
        self.writeOutput(text + "\n")
    }

    /// Writes one line to standard error.
    func printError(_ text: String) {
        self.writeError(text + "\n")
    }

    /// The value of an environment variable, or `nil` when it is unset or empty.
    func variable(_ name: String) -> String? {
        guard let value = self.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
