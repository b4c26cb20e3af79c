/// The element types the engine computes with.
public enum ElementType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case float
    case double
    case int64
    case int32
    case bool
    case string

    /// The ONNX `TensorProto.DataType` number of this element type.
    public var onnxDataType: Int {
        switch self {
        case .float: 1
        case .int32: 6
        case .int64: 7
        case .string: 8
        case .bool: 9
        case .double: 11
        }
    }

    /// The element type for an ONNX `TensorProto.DataType` number, or `nil` when the engine does not support it.
    public init?(onnxDataType: Int) {
        switch onnxDataType {
        case 1: self = .float
        case 6: self = .int32
        case 7: self = .int64
        case 8: self = .string
        case 9: self = .bool
        case 11: self = .double
        default: return nil
        }
    }

    /// The Open Inference Protocol datatype name (`FP32`, `FP64`, `INT64`, `INT32`, `BOOL`, `BYTES`).
    public var protocolName: String {
        switch self {
        case .float: "FP32"
        case .double: "FP64"
        case .int64: "INT64"
        case .int32: "INT32"
        case .bool: "BOOL"
        case .string: "BYTES"
        }
    }

    /// The element type for an Open Inference Protocol datatype name.
    public init?(protocolName: String) {
        guard let match = ElementType.allCases.first(where: { $0.protocolName == protocolName }) else {
            return nil
        }
        self = match
    }

    /// Whether the type is a floating-point type.
    public var isFloatingPoint: Bool { self == .float || self == .double }
    /// Whether the type is numeric (floating-point or integer).
    public var isNumeric: Bool { self != .bool && self != .string }

    public var description: String { self.rawValue }

    /// Human-readable name of an ONNX data type number, including the ones the engine does not support.
    public static func onnxName(_ dataType: Int) -> String {
        let names = [
            0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
            8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64",
            15: "complex128", 16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
            20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
        ]
        return names[dataType] ?? "type \(dataType)"
    }
}
