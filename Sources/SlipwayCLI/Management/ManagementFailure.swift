/// A management command's failure, printed as `slipway: error: <message>` with exit code 1.
struct ManagementFailure: Error, CustomStringConvertible, Sendable {
    /// The one-line message shown after `slipway: error: `.
    var message: String
    /// The HTTP status the server answered, when the failure is the server's answer.
    var status: Int?
    /// The server's error `code` (`invalid_input`, `not_found`, …), when it sent one.
    var code: String?

    init(_ message: String, status: Int? = nil, code: String? = nil) {
        self.message = message
        self.status = status
        self.code = code
    }

    var description: String { self.message }
}
