/// A model file that cannot be translated: malformed, inconsistent, too large or of an unsupported kind.
///
/// The description names the field and what was expected, for example
/// `field 'coef_' has 3 rows, expected 1 (one per class for 2 classes)`.
public struct FormatError: Error, CustomStringConvertible, Sendable {
    /// One line naming the problem.
    public var description: String

    /// Creates an error with a one-line description.
    public init(_ description: String) {
        self.description = description
    }
}
