import ArgumentParser
import Foundation

/// Runs a command body, turning any error into a one-line message on standard error and exit code 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let oneLine = "\(error)".replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("slipway: error: \(oneLine)\n".utf8))
        throw ExitCode.failure
    }
}

/// Writes a line to standard output.
func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
