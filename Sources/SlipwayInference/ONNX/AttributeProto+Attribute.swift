extension Onnx_AttributeProto {
    /// Converts the attribute, decoding tensors.
    ///
    /// Tensor attributes whose element type the engine does not compute with (such as the uint8 `nodes_modes`
    /// of `TreeEnsemble`) are kept for ``NodeContext/integerTensor(_:)`` and rejected by ``NodeContext/tensor(_:)``.
    func makeAttribute(node: String) throws -> Attribute {
        let what = "\(node): attribute '\(self.name)'"
        if !self.refAttrName.isEmpty {
            throw InferenceError.unsupportedModel("\(what) refers to a function attribute, which is not supported")
        }
        let type = self.hasType ? self.type : self.inferredType
        switch type {
        case .float: return .float(self.f)
        case .int: return .int(Int(clamping: self.i))
        case .string: return .string(String(decoding: self.s, as: UTF8.self))
        case .tensor:
            if ElementType(onnxDataType: Int(self.t.dataType)) == nil {
                return .unsupportedTensor(self.t)
            }
            return .tensor(try self.t.makeTensor(what: what))
        case .graph: return .graph(self.g)
        case .floats: return .floats(self.floats)
        case .ints: return .int64s(self.ints)
        case .strings: return .stringBytes(self.strings)
        case .tensors: return .tensors(try self.tensors.map { try $0.makeTensor(what: what) })
        case .graphs: return .graphs(self.graphs)
        case .sparseTensor, .sparseTensors:
            return .unsupported("sparse tensor")
        case .typeProto, .typeProtos:
            return .unsupported("type proto")
        case .undefined:
            throw InferenceError.invalidModel("\(what) has no type and no value")
        }
    }

    /// The type of an attribute written without its `type` field (very old exporters).
    private var inferredType: AttributeType {
        if self.hasF { return .float }
        if self.hasI { return .int }
        if self.hasS { return .string }
        if self.hasT { return .tensor }
        if self.hasG { return .graph }
        if !self.floats.isEmpty { return .floats }
        if !self.ints.isEmpty { return .ints }
        if !self.strings.isEmpty { return .strings }
        if !self.tensors.isEmpty { return .tensors }
        if !self.graphs.isEmpty { return .graphs }
        return .undefined
    }
}
