/// The naming rules shared by owners (users and organisations), models and environments.
///
/// A name is 1–64 characters of lowercase ASCII letters, digits, `-`, `_` and `.`; it starts and ends with a
/// letter or a digit and never holds two punctuation characters in a row. Names are therefore safe in URL
/// paths, file names and log lines without escaping, and `owner/name` is unambiguous.
public enum Names {
    /// The longest name accepted.
    public static let maximumLength = 64

    /// Checks `name` against the rules and throws an ``RegistryError/Code/invalidInput`` naming `field`.
    public static func validate(_ name: String, field: String) throws(RegistryError) {
        if let problem = self.problem(with: name) {
            throw .invalid(
                field,
                "\(field) \(problem); expected 1–64 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
            )
        }
    }

    /// Owner names the server's own routes use: `/v1/teachables/…` is TeachableHub's management API, so no user or
    /// organisation may be called `teachables` (its models' prediction paths would read as those routes).
    public static let reservedOwnerNames: Set<String> = ["teachables"]

    /// Checks a new user or organisation name: the naming rules, and not one of ``reservedOwnerNames``.
    public static func validateOwner(_ name: String, field: String) throws(RegistryError) {
        try self.validate(name, field: field)
        if self.reservedOwnerNames.contains(name) {
            throw .invalid(field, "\(field) '\(name)' is reserved for the server's own routes; choose another name")
        }
    }

    /// Whether `name` follows the rules.
    public static func isValid(_ name: String) -> Bool { self.problem(with: name) == nil }

    private static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "is empty" }
        if bytes.count > self.maximumLength { return "is longer than \(self.maximumLength) characters" }
        var previousWasPunctuation = true
        for (index, byte) in bytes.enumerated() {
            let isAlphanumeric =
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            let isPunctuation = byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            if !isAlphanumeric && !isPunctuation {
                return "'\(name)' contains a character other than a-z, 0-9, '-', '_' or '.'"
            }
            if isPunctuation && (previousWasPunctuation || index == bytes.count - 1) {
                return "'\(name)' must start and end with a letter or digit and not repeat punctuation"
            }
            previousWasPunctuation = isPunctuation
        }
        return nil
    }
}
