/// An Open Inference Protocol (KServe v2) inference request body, decoded into tensors.
///
/// ```json
/// {"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}
/// ```
/// `data` may be flat or nested. In FP32/FP64 data, `null`, `NaN`, `Infinity` and `-Infinity` stand for the
/// non-finite values.
public struct InferenceRequest: Sendable {
    /// The request id, echoed in the response.
    public var id: String?
    /// The input tensors in request order.
    public var inputs: [(name: String, tensor: Tensor)]
    /// The outputs asked for, or `nil` for all.
    public var outputs: [String]?

    /// Creates a request.
    public init(id: String? = nil, inputs: [(name: String, tensor: Tensor)], outputs: [String]? = nil) {
        self.id = id
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The inputs as a dictionary for ``InferenceSession/run(_:outputs:)``.
    public var inputDictionary: [String: Tensor] {
        Dictionary(self.inputs.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }

    /// Decodes a request body.
    public static func decode(_ bytes: [UInt8]) throws -> InferenceRequest {
        try Self.decode(JSONValue.parse(bytes))
    }

    /// Decodes a parsed request body.
    public static func decode(_ json: JSONValue) throws -> InferenceRequest {
        guard case .object(let members) = json else {
            throw InferenceError.invalidRequest("the request must be a JSON object, got \(json.kind)")
        }
        for (key, _) in members where !["id", "inputs", "outputs", "parameters"].contains(key) {
            throw InferenceError.invalidRequest(
                "unknown field '\(key)' in the request; expected id, inputs, outputs, parameters"
            )
        }
        var id: String?
        switch json["id"] {
        case .string(let s)?: id = s
        case nil, .null?: id = nil
        case let other?: throw InferenceError.invalidRequest("'id' must be a string, got \(other.kind)")
        }
        guard let inputsValue = json["inputs"] else {
            throw InferenceError.invalidRequest("the request has no 'inputs' field (an array of input tensors)")
        }
        guard case .array(let items) = inputsValue else {
            throw InferenceError.invalidRequest("'inputs' must be an array of input tensors, got \(inputsValue.kind)")
        }
        var inputs: [(name: String, tensor: Tensor)] = []
        var seen: Set<String> = []
        for (i, item) in items.enumerated() {
            let decoded = try Self.decodeTensor(item, at: "inputs[\(i)]")
            guard seen.insert(decoded.name).inserted else {
                throw InferenceError.invalidRequest("inputs[\(i)]: input '\(decoded.name)' is given twice")
            }
            inputs.append(decoded)
        }
        var outputs: [String]?
        if let value = json["outputs"] {
            guard case .array(let list) = value else {
                throw InferenceError.invalidRequest("'outputs' must be an array of {\"name\": …} objects")
            }
            outputs = try list.enumerated().map { i, o in
                guard case .string(let name)? = o["name"] else {
                    throw InferenceError.invalidRequest("outputs[\(i)].name must be a string")
                }
                return name
            }
        }
        return InferenceRequest(id: id, inputs: inputs, outputs: outputs)
    }

    /// Decodes one `{"name", "shape", "datatype", "data"}` tensor object; `path` names it in errors.
    public static func decodeTensor(_ json: JSONValue, at path: String) throws -> (name: String, tensor: Tensor) {
        guard case .object(let members) = json else {
            throw InferenceError.invalidRequest("\(path) must be an object with name, shape, datatype and data")
        }
        for (key, _) in members where !["name", "shape", "datatype", "data", "parameters"].contains(key) {
            throw InferenceError.invalidRequest(
                "\(path): unknown field '\(key)'; expected name, shape, datatype, data, parameters"
            )
        }
        guard case .string(let name)? = json["name"] else {
            throw InferenceError.invalidRequest("\(path).name must be a string")
        }
        let at = "\(path) ('\(name)')"
        guard case .array(let dims)? = json["shape"] else {
            throw InferenceError.invalidRequest("\(at).shape must be an array of non-negative integers")
        }
        let shape: [Int] = try dims.enumerated().map { i, d in
            guard case .int(let v) = d, v >= 0, v <= Int64(Tensor.maximumElementCount) else {
                throw InferenceError.invalidRequest(
                    "\(at).shape[\(i)] must be a non-negative integer no larger than \(Tensor.maximumElementCount)"
                )
            }
            return Int(v)
        }
        let count: Int
        do {
            count = try Tensor.elementCount(of: shape)
        } catch let error as InferenceError {
            throw InferenceError(error.code, "\(at).shape: \(error.message)")
        }
        guard case .string(let datatypeName)? = json["datatype"] else {
            throw InferenceError.invalidRequest("\(at).datatype must be a string such as \"FP32\"")
        }
        guard let type = ElementType(protocolName: datatypeName) else {
            throw InferenceError.invalidRequest(
                "\(at).datatype '\(datatypeName)' is not supported; expected FP32, FP64, INT64, INT32, BOOL or BYTES"
            )
        }
        guard let data = json["data"] else { throw InferenceError.invalidRequest("\(at) has no 'data'") }
        var flat: [JSONValue] = []
        flat.reserveCapacity(count)
        try Self.flatten(data, into: &flat, at: "\(at).data", depth: 0)
        guard flat.count == count else {
            throw InferenceError.invalidRequest(
                "\(at).data holds \(flat.count) values, shape \(shape) needs \(count)"
            )
        }
        func element(_ i: Int) -> String { "\(at).data[\(i)]" }
        let storage: Tensor.Storage
        switch type {
        case .float, .double:
            let values: [Double] = try flat.enumerated().map { i, v in
                switch v {
                case .int(let x): return Double(x)
                case .double(let x): return x
                case .float(let x): return Double(x)
                case .null: return .nan
                default:
                    throw InferenceError.invalidRequest(
                        "\(element(i)) must be a number for \(datatypeName), got \(v.kind)"
                    )
                }
            }
            storage = type == .float ? .float(values.map { Float($0) }) : .double(values)
        case .int64, .int32:
            let values: [Int64] = try flat.enumerated().map { i, v in
                switch v {
                case .int(let x): return x
                case .double(let x) where x == x.rounded() && abs(x) < 9.2e18: return Int64(x)
                default:
                    throw InferenceError.invalidRequest(
                        "\(element(i)) must be an integer for \(datatypeName), got \(v.kind)"
                    )
                }
            }
            if type == .int32 {
                storage = .int32(
                    try values.enumerated().map { i, x in
                        guard let y = Int32(exactly: x) else {
                            throw InferenceError.invalidRequest("\(element(i)) = \(x) is out of the INT32 range")
                        }
                        return y
                    }
                )
            } else {
                storage = .int64(values)
            }
        case .bool:
            storage = .bool(
                try flat.enumerated().map { i, v in
                    guard case .bool(let b) = v else {
                        throw InferenceError.invalidRequest(
                            "\(element(i)) must be true or false for BOOL, got \(v.kind)"
                        )
                    }
                    return b
                }
            )
        case .string:
            storage = .string(
                try flat.enumerated().map { i, v in
                    guard case .string(let s) = v else {
                        throw InferenceError.invalidRequest("\(element(i)) must be a string for BYTES, got \(v.kind)")
                    }
                    return s
                }
            )
        }
        return (name, Tensor(unchecked: shape, storage))
    }

    private static func flatten(_ value: JSONValue, into out: inout [JSONValue], at path: String, depth: Int) throws {
        if case .array(let items) = value {
            guard depth < 32 else { throw InferenceError.invalidRequest("\(path) is nested too deeply") }
            for item in items { try Self.flatten(item, into: &out, at: path, depth: depth + 1) }
        } else if depth == 0 {
            throw InferenceError.invalidRequest("\(path) must be an array, got \(value.kind)")
        } else {
            out.append(value)
        }
    }
}

/// Encodes inference results as an Open Inference Protocol response body.
public enum InferenceResponse {
    /// The response body `{"model_name"?, "id"?, "outputs": [...]}`.
    ///
    /// A ZipMap output (sequence of maps) is written as an FP32 tensor of shape `[rows, classes]` with the class
    /// labels in `parameters.keys`.
    public static func encode(modelName: String? = nil, id: String? = nil, outputs: [(String, Value)]) -> JSONValue {
        var members: [(String, JSONValue)] = []
        if let modelName { members.append(("model_name", .string(modelName))) }
        if let id { members.append(("id", .string(id))) }
        members.append(("outputs", .array(outputs.map { Self.encode(name: $0.0, value: $0.1) })))
        return .object(members)
    }

    /// One output tensor object.
    public static func encode(name: String, value: Value) -> JSONValue {
        switch value {
        case .tensor(let t):
            return .object([
                ("name", .string(name)),
                ("datatype", .string(t.elementType.protocolName)),
                ("shape", .array(t.shape.map { .int(Int64($0)) })),
                ("data", Self.data(t)),
            ])
        case .mapSequence(let m):
            let keys: JSONValue =
                switch m.keys {
                case .strings(let s): .array(s.map { .string($0) })
                case .int64s(let k): .array(k.map { .int($0) })
                }
            return .object([
                ("name", .string(name)),
                ("datatype", .string("FP32")),
                ("shape", .array(m.scores.shape.map { .int(Int64($0)) })),
                ("data", Self.data(m.scores)),
                ("parameters", .object([("keys", keys)])),
            ])
        }
    }

    static func data(_ t: Tensor) -> JSONValue {
        switch t.storage {
        case .float(let v): .array(v.map { .float($0) })
        case .double(let v): .array(v.map { .double($0) })
        case .int64(let v): .array(v.map { .int($0) })
        case .int32(let v): .array(v.map { .int(Int64($0)) })
        case .bool(let v): .array(v.map { .bool($0) })
        case .string(let v): .array(v.map { .string($0) })
        }
    }
}
