import Foundation

/// Everything an operator needs to know about one node when it compiles it: attributes, the opset in force,
/// the types of its inputs and the values of inputs that are constant (initializers, `Constant` outputs).
package struct NodeContext {
    /// The node's name (may be empty).
    package var name: String
    /// The operator type, such as `Add` or `TreeEnsembleClassifier`.
    package var opType: String
    /// The operator domain, `ai.onnx` for the default domain.
    package var domain: String
    /// The opset version the model imports for `domain`.
    package var opset: Int
    /// The node's attributes by name.
    package var attributes: [String: Attribute]
    /// The type of each input; `nil` for an omitted optional input.
    package var inputTypes: [ValueType?]
    /// The value of each input that is known when the model loads.
    package var constantInputs: [Tensor?]
    /// The number of outputs the node declares (including omitted optional ones).
    package var outputCount: Int
    /// Compiles a graph-valued attribute into a runnable subgraph (for `Scan` and `Loop`).
    package var compileSubgraph: (Onnx_GraphProto, [ValueType]) throws -> Subgraph

    /// `Op 'name' (domain opset N)` for messages.
    package var label: String {
        let who = self.name.isEmpty ? "" : " '\(self.name)'"
        return "\(self.opType)\(who) (\(self.domain) opset \(self.opset))"
    }

    /// An error naming this node.
    package func error(_ message: String, code: InferenceError.Code = .invalidGraph) -> InferenceError {
        InferenceError(code, "\(self.label): \(message)")
    }

    /// An attribute error naming this node and the attribute.
    package func attributeError(_ attribute: String, _ message: String) -> InferenceError {
        InferenceError(.invalidAttribute, "\(self.label): attribute '\(attribute)' \(message)")
    }

    // MARK: Inputs

    /// Checks the number of inputs (counting omitted optional ones present as empty names).
    package func requireInputs(_ range: ClosedRange<Int>) throws {
        guard range.contains(self.inputTypes.count) else {
            let expected =
                range.lowerBound == range.upperBound
                ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw self.error("expects \(expected) inputs, got \(self.inputTypes.count)")
        }
        for i in 0..<range.lowerBound where self.inputTypes[i] == nil {
            throw self.error("required input \(i) is missing")
        }
    }

    /// The tensor element type of input `index`; throws when the input is missing or not a tensor.
    package func inputType(_ index: Int) throws -> ElementType {
        guard index < self.inputTypes.count, let type = self.inputTypes[index] else {
            throw self.error("required input \(index) is missing")
        }
        guard let element = type.elementType else {
            throw self.error("input \(index) is \(type), expected a tensor")
        }
        return element
    }

    /// The tensor element type of optional input `index`, or `nil` when omitted.
    package func optionalInputType(_ index: Int) throws -> ElementType? {
        guard index < self.inputTypes.count, self.inputTypes[index] != nil else { return nil }
        return try self.inputType(index)
    }

    /// Checks that input `index` has one of `allowed` element types and returns it.
    @discardableResult
    package func requireInputType(_ index: Int, in allowed: Set<ElementType>) throws -> ElementType {
        let type = try self.inputType(index)
        guard allowed.contains(type) else {
            let names = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            throw InferenceError(
                .unsupportedOperator,
                "\(self.label): input \(index) has element type \(type), supported: \(names)"
            )
        }
        return type
    }

    /// Checks that inputs `indices` all have the same element type and returns it.
    package func requireSameType(_ indices: [Int]) throws -> ElementType {
        let first = try self.inputType(indices[0])
        for i in indices.dropFirst() {
            let t = try self.inputType(i)
            guard t == first else {
                throw self.error("input \(i) has element type \(t), expected \(first) like input \(indices[0])")
            }
        }
        return first
    }

    /// The constant value of input `index`, if known at load time.
    package func constant(_ index: Int) -> Tensor? {
        index < self.constantInputs.count ? self.constantInputs[index] : nil
    }

    // MARK: Attributes

    /// Whether the attribute is present.
    package func has(_ name: String) -> Bool { self.attributes[name] != nil }

    private func typeError(_ name: String, _ expected: String, _ found: Attribute) -> InferenceError {
        self.attributeError(name, "must be of type \(expected), found \(found.typeName)")
    }

    /// An `int` attribute, or `default` when absent.
    package func int(_ name: String, default value: Int? = nil) throws -> Int {
        switch self.attributes[name] {
        case .int(let v)?: return v
        case nil:
            guard let value else { throw self.attributeError(name, "is required") }
            return value
        case let other?: throw self.typeError(name, "int", other)
        }
    }

    /// An optional `int` attribute.
    package func optionalInt(_ name: String) throws -> Int? {
        self.has(name) ? try self.int(name) : nil
    }

    /// A `float` attribute, or `default` when absent.
    package func float(_ name: String, default value: Float? = nil) throws -> Float {
        switch self.attributes[name] {
        case .float(let v)?: return v
        case nil:
            guard let value else { throw self.attributeError(name, "is required") }
            return value
        case let other?: throw self.typeError(name, "float", other)
        }
    }

    /// A `string` attribute, or `default` when absent.
    package func string(_ name: String, default value: String? = nil) throws -> String {
        switch self.attributes[name] {
        case .string(let v)?: return v
        case nil:
            guard let value else { throw self.attributeError(name, "is required") }
            return value
        case let other?: throw self.typeError(name, "string", other)
        }
    }

    /// A `string` attribute that must be one of `allowed`.
    package func string(_ name: String, default value: String? = nil, oneOf allowed: [String]) throws -> String {
        let s = try self.string(name, default: value)
        guard allowed.contains(s) else {
            throw self.attributeError(name, "is '\(s)', expected one of \(allowed.joined(separator: ", "))")
        }
        return s
    }

    /// An `ints` attribute, or `default` when absent.
    package func ints(_ name: String, default value: [Int]? = nil) throws -> [Int] {
        switch self.attributes[name] {
        case .ints(let v)?: return v
        case .int64s(let v)?: return v.map { Int(clamping: $0) }
        case nil:
            guard let value else { throw self.attributeError(name, "is required") }
            return value
        case let other?: throw self.typeError(name, "ints", other)
        }
    }

    /// An `ints` attribute as 64-bit integers (the protobuf's own list, not copied), or `default` when absent.
    package func int64s(_ name: String, default value: [Int64]? = nil) throws -> [Int64] {
        switch self.attributes[name] {
        case .int64s(let v)?: return v
        case .ints(let v)?: return v.map { Int64($0) }
        case nil:
            guard let value else { throw self.attributeError(name, "is required") }
            return value
        case let other?: throw self.typeError(name, "ints", other)
        }
    }

    /// A `floats` attribute, or `default` when absent.
    package func floats(_ name: String, default value: [Float]? = nil) throws -> [Float] {
        switch self.attributes[name] {
        case .floats(let v)?: return v
        case nil:
            guard let value else { throw self.attributeError(name, "is required") }
            return value
        case let other?: throw self.typeError(name, "floats", other)
        }
    }

    /// A `strings` attribute, or `default` when absent.
    package func strings(_ name: String, default value: [String]? = nil) throws -> [String] {
        switch self.attributes[name] {
        case .strings(let v)?: return v
        case .stringBytes(let v)?: return v.map { String(decoding: $0, as: UTF8.self) }
        case nil:
            guard let value else { throw self.attributeError(name, "is required") }
            return value
        case let other?: throw self.typeError(name, "strings", other)
        }
    }

    /// A `strings` attribute with each entry mapped from its UTF-8 bytes (no `String` is built); `nil` when absent.
    package func mappedStrings<T>(
        _ name: String,
        _ transform: (UnsafeRawBufferPointer) throws -> T
    ) throws -> [T]? {
        switch self.attributes[name] {
        case .stringBytes(let v)?:
            var out: [T] = []
            out.reserveCapacity(v.count)
            for data in v { out.append(try data.withUnsafeBytes(transform)) }
            return out
        case .strings(let v)?:
            var out: [T] = []
            out.reserveCapacity(v.count)
            for var s in v { out.append(try s.withUTF8 { try transform(UnsafeRawBufferPointer($0)) }) }
            return out
        case nil: return nil
        case let other?: throw self.typeError(name, "strings", other)
        }
    }

    /// A `tensor` attribute, or `nil` when absent.
    package func tensor(_ name: String) throws -> Tensor? {
        switch self.attributes[name] {
        case .tensor(let v)?: return v
        case nil: return nil
        case .unsupportedTensor(let proto)?:
            throw InferenceError(
                .unsupportedModel,
                "\(self.label): attribute '\(name)' has element type \(ElementType.onnxName(Int(proto.dataType))); "
                    + "supported: float, double, int64, int32, bool, string"
            )
        case let other?: throw self.typeError(name, "tensor", other)
        }
    }

    /// The values of an integer tensor attribute of any integer element type (uint8, int32, int64, …).
    package func integerTensor(_ name: String) throws -> [Int]? {
        switch self.attributes[name] {
        case .tensor(let t)?:
            guard let values = t.integers ?? t.bools.map({ $0.map { $0 ? 1 : 0 } }) else {
                throw self.attributeError(name, "must be an integer tensor, found \(t.elementType)")
            }
            return values
        case .unsupportedTensor(let proto)?:
            return try proto.integerValues(what: "\(self.label): attribute '\(name)'")
        case nil: return nil
        case let other?: throw self.typeError(name, "tensor", other)
        }
    }

    /// A `graph` attribute.
    package func graph(_ name: String) throws -> Onnx_GraphProto {
        switch self.attributes[name] {
        case .graph(let v)?: return v
        case nil: throw self.attributeError(name, "is required")
        case let other?: throw self.typeError(name, "graph", other)
        }
    }

    /// Normalises a possibly negative axis against `rank`, throwing when out of range.
    package func axis(_ axis: Int, rank: Int, attribute: String = "axis") throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < max(rank, 1) || (rank == 0 && a == 0) else {
            throw self.attributeError(attribute, "is \(axis), out of range for rank \(rank)")
        }
        return a
    }
}
