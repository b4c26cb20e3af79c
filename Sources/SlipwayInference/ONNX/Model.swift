/// A loaded, validated ONNX model, ready to run with an ``InferenceSession``.
///
/// ```swift
/// let model = try ModelLoader.load(contentsOf: "model.onnx")
/// let session = InferenceSession(model: model)
/// let outputs = try session.run(["X": try Tensor(shape: [1, 4], floats: [5.1, 3.5, 1.4, 0.2])])
/// ```
public struct Model: Sendable {
    /// The ONNX IR version of the file.
    public let irVersion: Int
    /// The opset version imported for each domain (`ai.onnx` for the default domain).
    public let opsets: [String: Int]
    /// The tool that wrote the model, such as `skl2onnx`.
    public let producerName: String
    /// The version of the tool that wrote the model.
    public let producerVersion: String
    /// The model's own version number.
    public let modelVersion: Int
    /// The model's documentation string.
    public let documentation: String
    /// The graph's name.
    public let graphName: String
    /// Key/value metadata stored in the model.
    public let metadata: [String: String]
    /// The inputs a caller must (or may) provide; initializers overridable as inputs are excluded.
    public let inputs: [ValueInfo]
    /// The outputs the model produces.
    public let outputs: [ValueInfo]
    /// How many nodes use each operator (including nodes inside subgraphs).
    public let operatorCounts: [OperatorCount]
    /// The size of the model file in bytes.
    public let byteCount: Int

    package let graph: CompiledGraph
    /// Slot of each formal graph input by name, including initializer-backed ones.
    package let inputSlotIndex: [String: Int]
    /// Names of formal inputs that have an initializer default.
    package let defaultedInputs: Set<String>
    /// The declared info of every formal graph input by name.
    package let allInputs: [String: ValueInfo]

    package init(
        irVersion: Int,
        opsets: [String: Int],
        producerName: String,
        producerVersion: String,
        modelVersion: Int,
        documentation: String,
        graphName: String,
        metadata: [String: String],
        inputs: [ValueInfo],
        outputs: [ValueInfo],
        operatorCounts: [OperatorCount],
        byteCount: Int,
        graph: CompiledGraph,
        inputSlotIndex: [String: Int],
        defaultedInputs: Set<String>,
        allInputs: [String: ValueInfo]
    ) {
        self.irVersion = irVersion
        self.opsets = opsets
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.modelVersion = modelVersion
        self.documentation = documentation
        self.graphName = graphName
        self.metadata = metadata
        self.inputs = inputs
        self.outputs = outputs
        self.operatorCounts = operatorCounts
        self.byteCount = byteCount
        self.graph = graph
        self.inputSlotIndex = inputSlotIndex
        self.defaultedInputs = defaultedInputs
        self.allInputs = allInputs
    }
}

/// The name, type and declared shape of a model input or output.
public struct ValueInfo: Sendable, Equatable {
    /// One dimension of a declared shape.
    public enum Dimension: Sendable, Equatable, CustomStringConvertible {
        /// A fixed size.
        case fixed(Int)
        /// A named, variable size such as `batch` or `N`.
        case symbolic(String)
        /// A variable size without a name.
        case unknown

        public var description: String {
            switch self {
            case .fixed(let n): "\(n)"
            case .symbolic(let s): s
            case .unknown: "?"
            }
        }
    }

    /// The value's name.
    public var name: String
    /// The value's type.
    public var type: ValueType
    /// The declared shape, or `nil` when the model does not declare a rank.
    public var shape: [Dimension]?

    public init(name: String, type: ValueType, shape: [Dimension]?) {
        self.name = name
        self.type = type
        self.shape = shape
    }
}

/// The number of nodes that use one operator.
public struct OperatorCount: Sendable, Equatable {
    /// `ai.onnx` or `ai.onnx.ml`.
    public var domain: String
    /// The operator type.
    public var name: String
    /// The number of nodes.
    public var count: Int
}
