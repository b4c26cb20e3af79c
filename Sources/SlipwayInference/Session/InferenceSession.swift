/// Options for an ``InferenceSession``.
public struct SessionOptions: Sendable {
    /// The number of threads one `run` call may use (kernels split large batches across them).
    public var threads: Int

    /// Creates options; one thread per call by default.
    public init(threads: Int = 1) {
        self.threads = max(1, threads)
    }
}

/// Runs a loaded ``Model``. A session is immutable and can be used from many threads at once.
///
/// ```swift
/// let session = InferenceSession(model: try ModelLoader.load(contentsOf: "iris.onnx"))
/// let out = try session.run(["X": try Tensor(shape: [1, 4], floats: [5.1, 3.5, 1.4, 0.2])])
/// print(out["label"]!)
/// ```
public struct InferenceSession: Sendable {
    /// The model this session runs.
    public let model: Model
    /// The session's options.
    public let options: SessionOptions
    private let outputIndex: [String: Int]
    /// Position in the graph's input list of each input slot.
    private let inputPosition: [Int: Int]

    /// Creates a session for a model.
    public init(model: Model, options: SessionOptions = SessionOptions()) {
        self.model = model
        self.options = options
        var index: [String: Int] = [:]
        for (i, output) in model.outputs.enumerated() { index[output.name] = i }
        self.outputIndex = index
        self.inputPosition = Dictionary(
            model.graph.inputSlots.enumerated().map { ($1, $0) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    /// Runs the model on named input tensors and returns the requested outputs (all by default).
    ///
    /// Inputs are checked against the model's declarations: every required input present, no unknown names,
    /// element types equal, ranks equal and fixed dimensions matching.
    public func run(_ inputs: [String: Tensor], outputs requested: [String]? = nil) throws -> [String: Value] {
        let values = try self.run(inputs, outputNames: requested)
        var result: [String: Value] = [:]
        for (name, value) in values { result[name] = value }
        return result
    }

    /// Runs the model and returns the outputs as ordered `(name, value)` pairs, in model order unless
    /// `outputNames` lists them.
    public func run(_ inputs: [String: Tensor], outputNames requested: [String]?) throws -> [(String, Value)] {
        try self.run(inputs, outputNames: requested, threads: self.options.threads)
    }

    /// Runs the model as ``run(_:outputNames:)`` does, with at most `threads` threads instead of the session's
    /// (background work such as a batch job runs on one, leaving the other cores to online requests).
    public func run(
        _ inputs: [String: Tensor],
        outputNames requested: [String]?,
        threads: Int
    ) throws -> [(String, Value)] {
        let model = self.model
        var args = [Value?](repeating: nil, count: model.graph.inputSlots.count)
        let position = self.inputPosition
        for (name, tensor) in inputs {
            guard let slot = model.inputSlotIndex[name], let info = model.allInputs[name], let p = position[slot]
            else {
                let known = model.inputs.map(\.name).joined(separator: ", ")
                throw InferenceError.invalidInput("unknown input '\(name)'; the model's inputs are: \(known)")
            }
            try Self.check(tensor, against: info)
            args[p] = .tensor(tensor)
        }
        for info in model.inputs where inputs[info.name] == nil {
            throw InferenceError.invalidInput("input '\(info.name)' is missing (\(Self.describe(info)))")
        }
        let selected: [Int]
        if let requested {
            selected = try requested.map { name in
                guard let i = self.outputIndex[name] else {
                    let known = model.outputs.map(\.name).joined(separator: ", ")
                    throw InferenceError.invalidInput("unknown output '\(name)'; the model's outputs are: \(known)")
                }
                return i
            }
        } else {
            selected = Array(model.outputs.indices)
        }
        let results = try model.graph.run(inputs: args, context: ExecutionContext(threads: threads))
        return selected.map { (model.outputs[$0].name, results[$0]) }
    }

    static func describe(_ info: ValueInfo) -> String {
        let shape = info.shape.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" } ?? "any shape"
        return "\(info.type), shape \(shape)"
    }

    static func check(_ tensor: Tensor, against info: ValueInfo) throws {
        guard info.type == .tensor(tensor.elementType) else {
            throw InferenceError.invalidInput(
                "input '\(info.name)' has element type \(tensor.elementType), expected \(info.type.elementType.map { "\($0)" } ?? "\(info.type)")"
            )
        }
        guard let shape = info.shape else { return }
        guard shape.count == tensor.rank else {
            throw InferenceError.invalidInput(
                "input '\(info.name)' has shape \(tensor.shape) (rank \(tensor.rank)), expected rank \(shape.count): "
                    + Self.describe(info)
            )
        }
        for (i, (dim, actual)) in zip(shape, tensor.shape).enumerated() {
            if case .fixed(let n) = dim, n != actual {
                throw InferenceError.invalidInput(
                    "input '\(info.name)' has size \(actual) in dimension \(i), expected \(n): \(Self.describe(info))"
                )
            }
        }
    }
}
