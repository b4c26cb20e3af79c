/// An error thrown by the inference engine: loading, validating or running a model.
///
/// Every error carries a machine-readable ``Code`` and a one-line human-readable message that names
/// the node, operator, input or field concerned and what was expected.
public struct InferenceError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The category of an ``InferenceError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String {
            case invalidModel
            case unsupportedModel
            case unsupportedOperator
            case invalidAttribute
            case invalidGraph
            case invalidInput
            case invalidRequest
            case resourceLimit
            case runtimeFailure
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The bytes are not a well-formed ONNX model.
        public static let invalidModel = Code(.invalidModel)
        /// A well-formed model that uses something the engine does not implement (IR version, opset, external data).
        public static let unsupportedModel = Code(.unsupportedModel)
        /// A node uses an operator (or an operator version) the engine does not implement.
        public static let unsupportedOperator = Code(.unsupportedOperator)
        /// A node attribute is missing, of the wrong type, or out of range.
        public static let invalidAttribute = Code(.invalidAttribute)
        /// The graph is malformed: undefined inputs, cycles, type mismatches.
        public static let invalidGraph = Code(.invalidGraph)
        /// A tensor given to `run` does not match the model's declared inputs.
        public static let invalidInput = Code(.invalidInput)
        /// A request document (JSON) is malformed.
        public static let invalidRequest = Code(.invalidRequest)
        /// A tensor would exceed the engine's size limits.
        public static let resourceLimit = Code(.resourceLimit)
        /// An operator failed while running (for example an index out of range in the data).
        public static let runtimeFailure = Code(.runtimeFailure)

        public var description: String { self.value.rawValue }
    }

    /// The category of the error.
    public var code: Code
    /// A one-line description naming what was wrong and what was expected.
    public var message: String

    /// Creates an error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }
}

extension InferenceError {
    static func invalidModel(_ message: String) -> InferenceError { .init(.invalidModel, message) }
    static func unsupportedModel(_ message: String) -> InferenceError { .init(.unsupportedModel, message) }
    static func invalidGraph(_ message: String) -> InferenceError { .init(.invalidGraph, message) }
    static func invalidInput(_ message: String) -> InferenceError { .init(.invalidInput, message) }
    static func invalidRequest(_ message: String) -> InferenceError { .init(.invalidRequest, message) }
    static func runtimeFailure(_ message: String) -> InferenceError { .init(.runtimeFailure, message) }
}
