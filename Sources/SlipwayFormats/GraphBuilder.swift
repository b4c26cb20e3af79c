import Foundation
import SlipwayInference
import SwiftProtobuf

/// Builds an ONNX graph node by node; every helper returns the name of the value it produced.
struct GraphBuilder {
    var graph = Onnx_GraphProto()
    /// Prefix of generated names, so a subgraph's names never collide with its enclosing graph's.
    private var prefix: String
    private var counter = 0

    init(name: String, prefix: String = "") {
        self.graph.name = name
        self.prefix = prefix
    }

    mutating func fresh(_ hint: String) -> String {
        self.counter += 1
        return "\(self.prefix)\(hint)_\(self.counter)"
    }

    /// Adds an initializer holding `tensor`.
    mutating func constant(_ hint: String, _ tensor: Tensor) -> String {
        let name = self.fresh(hint)
        self.graph.initializer.append(tensor.makeTensorProto(name: name))
        return name
    }

    mutating func doubles(_ hint: String, _ shape: [Int], _ values: [Double]) throws -> String {
        self.constant(hint, try Tensor(shape: shape, doubles: values))
    }

    mutating func scalar(_ hint: String, _ value: Double) throws -> String {
        try self.doubles(hint, [], [value])
    }

    mutating func int64s(_ hint: String, _ values: [Int64]) throws -> String {
        self.constant(hint, try Tensor(shape: [values.count], int64s: values))
    }

    /// Adds a node with one output and returns the output's name.
    @discardableResult
    mutating func node(
        _ op: String,
        _ inputs: [String],
        _ attributes: [Onnx_AttributeProto] = [],
        domain: String = "",
        output: String? = nil
    ) -> String {
        let out = output ?? self.fresh(op.lowercased())
        var node = Onnx_NodeProto()
        node.opType = op
        node.domain = domain
        node.name = self.fresh("node_\(op)")
        node.input = inputs
        node.output = [out]
        node.attribute = attributes
        self.graph.node.append(node)
        return out
    }

    mutating func input(_ name: String, _ type: ElementType, _ shape: [Int?]?) {
        self.graph.input.append(Self.valueInfo(name, type, shape))
    }

    mutating func output(_ name: String, _ type: ElementType, _ shape: [Int?]?) {
        self.graph.output.append(Self.valueInfo(name, type, shape))
    }

    /// A value declaration; `nil` dimensions are the batch dimension `N`.
    static func valueInfo(_ name: String, _ type: ElementType, _ shape: [Int?]?) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.onnxDataType)
        if let shape {
            tensor.shape.dim = shape.map { size in
                var dim = Onnx_TensorShapeProto.Dimension()
                if let size { dim.dimValue = Int64(size) } else { dim.dimParam = "N" }
                return dim
            }
        }
        info.type.tensorType = tensor
        return info
    }

    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func graph(_ name: String, _ value: Onnx_GraphProto) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .graph
        a.g = value
        return a
    }

    /// Serializes a model around `graph` with the standard domain at `opset` (and `ai.onnx.ml` at `mlOpset`).
    static func serialize(
        _ graph: Onnx_GraphProto,
        docString: String,
        opset: Int64 = 17,
        mlOpset: Int64? = nil
    ) throws -> [UInt8] {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "slipway"
        model.producerVersion = "th-sklearn-json"
        model.docString = docString
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = opset
        model.opsetImport = [set]
        if let mlOpset {
            var ml = Onnx_OperatorSetIdProto()
            ml.domain = "ai.onnx.ml"
            ml.version = mlOpset
            model.opsetImport.append(ml)
        }
        model.graph = graph
        return try model.serializedBytes()
    }
}

// MARK: Common subgraphs

extension GraphBuilder {
    /// `Cast(x, to: double)`.
    mutating func toDouble(_ x: String) -> String {
        self.node("Cast", [x], [Self.int("to", ElementType.double.onnxDataType)])
    }

    /// `Cast(x, to: float)` written to `output`.
    mutating func toFloat(_ x: String, output: String) {
        self.node("Cast", [x], [Self.int("to", ElementType.float.onnxDataType)], output: output)
    }

    /// `x · w + b` for `w` of shape `[features, outputs]`.
    mutating func affine(_ x: String, weights: Matrix, bias: [Double]) throws -> String {
        let w = try self.doubles("weights", [weights.rows, weights.columns], weights.values)
        let b = try self.doubles("bias", [bias.count], bias)
        return self.node("Add", [self.node("MatMul", [x, w]), b])
    }

    /// Sum over `axis`, keeping it as a dimension of size 1 unless `keep` is false.
    mutating func reduceSum(_ x: String, axis: Int, keep: Bool = true) throws -> String {
        let axes = try self.int64s("axes", [Int64(axis)])
        return self.node("ReduceSum", [x, axes], [Self.int("keepdims", keep ? 1 : 0)])
    }

    /// The index of the largest value of each row (the first on ties, like numpy's `argmax`), as int64 `[N]`.
    mutating func argmax(_ x: String) -> String {
        self.node("ArgMax", [x], [Self.int("axis", 1), Self.int("keepdims", 0)])
    }

    /// `[-d, d]` for a `[N, 1]` decision: its argmax is `d > 0`, as scikit-learn's binary `predict`.
    mutating func binaryScores(_ decision: String) -> String {
        self.node("Concat", [self.node("Neg", [decision]), decision], [Self.int("axis", 1)])
    }

    /// Writes `label`: `classes[index]`.
    mutating func label(_ index: String, classes: ClassLabels) throws {
        let table = self.constant("classes", try classes.tensor())
        self.node("Gather", [table, index], [Self.int("axis", 0)], output: TeachableSklearn.labelOutput)
        self.output(TeachableSklearn.labelOutput, classes.elementType, [nil])
    }

    /// Writes `probabilities`: float `[N, classes]` from double values.
    mutating func probabilities(_ p: String, classes: Int) {
        self.toFloat(p, output: TeachableSklearn.probabilitiesOutput)
        self.output(TeachableSklearn.probabilitiesOutput, .float, [nil, classes])
    }
}
