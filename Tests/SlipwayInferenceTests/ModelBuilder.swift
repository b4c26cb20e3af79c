import SwiftProtobuf

@testable import SlipwayInference

/// Builds small ONNX models in code for loader and session tests.
struct ModelBuilder {
    var proto = Onnx_ModelProto()

    init(irVersion: Int64 = 8, opsets: [(String, Int64)] = [("", 17)]) {
        self.proto.irVersion = irVersion
        self.proto.producerName = "slipway-tests"
        self.proto.opsetImport = opsets.map { domain, version in
            var o = Onnx_OperatorSetIdProto()
            o.domain = domain
            o.version = version
            return o
        }
        self.proto.graph.name = "test"
    }

    static func valueInfo(_ name: String, _ type: ElementType, _ shape: [Int64?]?) -> Onnx_ValueInfoProto {
        var vi = Onnx_ValueInfoProto()
        vi.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = Int32(type.onnxDataType)
        if let shape {
            t.shape.dim = shape.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                if let d { dim.dimValue = d } else { dim.dimParam = "N" }
                return dim
            }
        }
        vi.type.tensorType = t
        return vi
    }

    mutating func input(_ name: String, _ type: ElementType = .float, _ shape: [Int64?]? = [nil, 2]) {
        self.proto.graph.input.append(Self.valueInfo(name, type, shape))
    }

    mutating func output(_ name: String, _ type: ElementType = .float, _ shape: [Int64?]? = nil) {
        self.proto.graph.output.append(Self.valueInfo(name, type, shape))
    }

    mutating func initializer(_ name: String, _ tensor: Tensor) {
        self.proto.graph.initializer.append(tensor.makeTensorProto(name: name))
    }

    mutating func node(
        _ op: String,
        _ inputs: [String],
        _ outputs: [String],
        domain: String = "",
        name: String = "",
        attributes: [Onnx_AttributeProto] = []
    ) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.domain = domain
        n.name = name
        n.attribute = attributes
        self.proto.graph.node.append(n)
    }

    static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = value
        return a
    }

    static func floatAttribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func stringAttribute(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Array(value.utf8).withUnsafeBufferPointer { Data(buffer: $0) }
        return a
    }

    func bytes() throws -> [UInt8] { try self.proto.serializedBytes() }

    func load() throws -> Model { try ModelLoader.load(bytes: try self.bytes()) }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
