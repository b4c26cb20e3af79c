import Foundation

/// A node attribute, converted from `AttributeProto`.
package enum Attribute: Sendable {
    case float(Float)
    case int(Int)
    case string(String)
    case tensor(Tensor)
    case graph(Onnx_GraphProto)
    case floats([Float])
    case ints([Int])
    /// An `ints` attribute as the protobuf decoded it (converted on access, so unread lists cost no copy).
    case int64s([Int64])
    case strings([String])
    /// A `strings` attribute as the protobuf decoded it (UTF-8 bytes, decoded on access).
    case stringBytes([Data])
    case tensors([Tensor])
    case graphs([Onnx_GraphProto])
    /// A tensor of an element type the engine does not compute with (uint8, int8, float16, …).
    case unsupportedTensor(Onnx_TensorProto)
    /// An attribute kind the engine does not support (sparse tensors, type protos), with its name.
    case unsupported(String)

    /// The ONNX name of the attribute's type, for error messages.
    package var typeName: String {
        switch self {
        case .float: "float"
        case .int: "int"
        case .string: "string"
        case .tensor: "tensor"
        case .graph: "graph"
        case .floats: "floats"
        case .ints, .int64s: "ints"
        case .strings, .stringBytes: "strings"
        case .tensors: "tensors"
        case .graphs: "graphs"
        case .unsupportedTensor(let t): "tensor(\(ElementType.onnxName(Int(t.dataType))))"
        case .unsupported(let kind): kind
        }
    }
}
