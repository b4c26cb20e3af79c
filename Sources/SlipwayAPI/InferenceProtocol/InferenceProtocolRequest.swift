import SlipwayInference

/// An Open Inference Protocol inference request, decoded from JSON or from JSON plus binary tensor data.
///
/// With the binary tensor data extension the body is the JSON header (`Inference-Header-Content-Length` bytes)
/// followed by the raw tensors of the inputs that carry a `binary_data_size` parameter, in input order:
/// little-endian, row-major, BOOL one byte per element, each BYTES element a 4-byte little-endian length and its
/// bytes.
struct InferenceProtocolRequest: Sendable {
    /// One requested output and whether it should travel as binary data.
    struct RequestedOutput: Sendable, Equatable {
        var name: String
        /// The output's own `binary_data` parameter, if it has one.
        var binary: Bool?
    }

    /// The request id, echoed in the response.
    var id: String?
    /// The input tensors, in request order.
    var inputs: [(name: String, tensor: Tensor)]
    /// The outputs asked for, or `nil` for all.
    var outputs: [RequestedOutput]?
    /// The request-level `binary_data_output` parameter: outputs without their own setting travel as binary data.
    var binaryDataOutput: Bool

    /// The inputs by name.
    var inputDictionary: [String: Tensor] {
        Dictionary(self.inputs.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether output `name` is returned as binary data.
    func isBinary(_ name: String) -> Bool {
        self.outputs?.first(where: { $0.name == name })?.binary ?? self.binaryDataOutput
    }

    /// Decodes a body.
    ///
    /// - Parameters:
    ///   - body: the whole request body.
    ///   - headerLength: the `Inference-Header-Content-Length` value, or `nil` for a JSON-only body.
    /// - Throws: ``InferenceProtocolError`` (400) naming the field at fault.
    static func decode(_ body: [UInt8], headerLength: Int?) throws -> InferenceProtocolRequest {
        let jsonEnd = headerLength ?? body.count
        guard jsonEnd >= 0, jsonEnd <= body.count else {
            throw InferenceProtocolError.badRequest(
                "Inference-Header-Content-Length is \(jsonEnd) but the body holds only \(body.count) bytes"
            )
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(body[0..<jsonEnd]))
        } catch let error as InferenceError {
            throw InferenceProtocolError.badRequest("the request header is not valid JSON: \(error.message)")
        }
        var binary = BinaryReader(bytes: body, position: jsonEnd)
        guard case .object(let members) = json else {
            throw InferenceProtocolError.badRequest("the request must be a JSON object, got \(json.kind)")
        }
        for (key, _) in members where !["id", "inputs", "outputs", "parameters"].contains(key) {
            throw InferenceProtocolError.badRequest(
                "unknown field '\(key)' in the request; expected id, inputs, outputs, parameters"
            )
        }
        var id: String?
        switch json["id"] {
        case .string(let text)?: id = text
        case nil, .null?: id = nil
        case let other?: throw InferenceProtocolError.badRequest("'id' must be a string, got \(other.kind)")
        }
        let parameters = try Self.parameters(json["parameters"], at: "parameters")
        let binaryDataOutput = try Self.boolean(parameters, "binary_data_output", at: "parameters") ?? false

        guard let inputsValue = json["inputs"] else {
            throw InferenceProtocolError.badRequest("the request has no 'inputs' field (an array of input tensors)")
        }
        guard case .array(let items) = inputsValue else {
            throw InferenceProtocolError.badRequest(
                "'inputs' must be an array of input tensors, got \(inputsValue.kind)"
            )
        }
        guard !items.isEmpty else {
            throw InferenceProtocolError.badRequest("'inputs' is empty; send one tensor per model input")
        }
        var inputs: [(name: String, tensor: Tensor)] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            let path = "inputs[\(index)]"
            let itemParameters = try Self.parameters(item["parameters"], at: "\(path).parameters")
            let decoded: (name: String, tensor: Tensor)
            if let sizeValue = itemParameters["binary_data_size"] {
                guard headerLength != nil else {
                    throw InferenceProtocolError.badRequest(
                        "\(path) has a binary_data_size parameter but the request has no Inference-Header-Content-Length header"
                    )
                }
                guard case .int(let size) = sizeValue, size >= 0 else {
                    throw InferenceProtocolError.badRequest(
                        "\(path).parameters.binary_data_size must be a non-negative integer"
                    )
                }
                decoded = try Self.binaryTensor(item, size: Int(clamping: size), from: &binary, at: path)
            } else {
                do {
                    decoded = try InferenceRequest.decodeTensor(item, at: path)
                } catch let error as InferenceError {
                    throw InferenceProtocolError.badRequest(error.message)
                }
            }
            guard decoded.tensor.count > 0 else {
                throw InferenceProtocolError.badRequest(
                    "\(path) ('\(decoded.name)') has no elements (shape \(decoded.tensor.shape)); send at least one row"
                )
            }
            guard seen.insert(decoded.name).inserted else {
                throw InferenceProtocolError.badRequest("\(path): input '\(decoded.name)' is given twice")
            }
            inputs.append(decoded)
        }
        guard binary.remaining == 0 else {
            throw InferenceProtocolError.badRequest(
                "the body holds \(binary.remaining) bytes of binary data after the last input's binary_data_size"
            )
        }

        var outputs: [RequestedOutput]?
        if let value = json["outputs"], value != .null {
            guard case .array(let list) = value else {
                throw InferenceProtocolError.badRequest("'outputs' must be an array of {\"name\": …} objects")
            }
            var names: Set<String> = []
            outputs = try list.enumerated().map { index, item in
                let path = "outputs[\(index)]"
                guard case .object(let fields) = item else {
                    throw InferenceProtocolError.badRequest("\(path) must be an object such as {\"name\": \"label\"}")
                }
                for (key, _) in fields where key != "name" && key != "parameters" {
                    throw InferenceProtocolError.badRequest(
                        "\(path): unknown field '\(key)'; expected name, parameters"
                    )
                }
                guard case .string(let name)? = item["name"] else {
                    throw InferenceProtocolError.badRequest("\(path).name must be a string")
                }
                guard names.insert(name).inserted else {
                    throw InferenceProtocolError.badRequest("\(path): output '\(name)' is requested twice")
                }
                let outputParameters = try Self.parameters(item["parameters"], at: "\(path).parameters")
                if let classification = outputParameters["classification"], classification != .int(0) {
                    throw InferenceProtocolError.badRequest(
                        "\(path).parameters.classification: the classification extension is not supported; "
                            + "request the probabilities and pick the top classes on the client"
                    )
                }
                let binary = try Self.boolean(outputParameters, "binary_data", at: "\(path).parameters")
                return RequestedOutput(name: name, binary: binary)
            }
        }
        return InferenceProtocolRequest(id: id, inputs: inputs, outputs: outputs, binaryDataOutput: binaryDataOutput)
    }

    /// A `parameters` object as a dictionary (absent or `null` = empty).
    static func parameters(_ value: JSONValue?, at path: String) throws -> [String: JSONValue] {
        switch value {
        case nil, .null?: return [:]
        case .object(let members)?:
            return Dictionary(members, uniquingKeysWith: { _, last in last })
        case let other?:
            throw InferenceProtocolError.badRequest("'\(path)' must be an object, got \(other.kind)")
        }
    }

    /// A Boolean parameter.
    static func boolean(_ parameters: [String: JSONValue], _ key: String, at path: String) throws -> Bool? {
        switch parameters[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?:
            throw InferenceProtocolError.badRequest("\(path).\(key) must be true or false, got \(other.kind)")
        }
    }

    /// Decodes an input whose data travels as `size` bytes of binary data.
    static func binaryTensor(
        _ item: JSONValue,
        size: Int,
        from reader: inout BinaryReader,
        at path: String
    ) throws -> (name: String, tensor: Tensor) {
        guard case .object(let members) = item else {
            throw InferenceProtocolError.badRequest("\(path) must be an object with name, shape, datatype")
        }
        for (key, _) in members where !["name", "shape", "datatype", "parameters"].contains(key) {
            if key == "data" {
                throw InferenceProtocolError.badRequest(
                    "\(path) has both 'data' and a binary_data_size parameter; send the values one way"
                )
            }
            throw InferenceProtocolError.badRequest(
                "\(path): unknown field '\(key)'; expected name, shape, datatype, parameters"
            )
        }
        guard case .string(let name)? = item["name"] else {
            throw InferenceProtocolError.badRequest("\(path).name must be a string")
        }
        let at = "\(path) ('\(name)')"
        guard case .array(let dimensions)? = item["shape"] else {
            throw InferenceProtocolError.badRequest("\(at).shape must be an array of non-negative integers")
        }
        let shape: [Int] = try dimensions.enumerated().map { index, dimension in
            guard case .int(let value) = dimension, value >= 0, value <= Int64(Tensor.maximumElementCount) else {
                throw InferenceProtocolError.badRequest(
                    "\(at).shape[\(index)] must be a non-negative integer no larger than \(Tensor.maximumElementCount)"
                )
            }
            return Int(value)
        }
        let count: Int
        do {
            count = try Tensor.elementCount(of: shape)
        } catch let error as InferenceError {
            throw InferenceProtocolError.badRequest("\(at).shape: \(error.message)")
        }
        guard case .string(let datatype)? = item["datatype"] else {
            throw InferenceProtocolError.badRequest("\(at).datatype must be a string such as \"FP32\"")
        }
        guard let type = ElementType(protocolName: datatype) else {
            throw InferenceProtocolError.badRequest(
                "\(at).datatype '\(datatype)' is not supported; expected FP32, FP64, INT64, INT32, BOOL or BYTES"
            )
        }
        guard size <= reader.remaining else {
            throw InferenceProtocolError.badRequest(
                "\(at).parameters.binary_data_size is \(size) but only \(reader.remaining) bytes of binary data are left"
            )
        }
        let chunk = reader.take(size)
        let storage = try BinaryTensorData.decode(chunk, type: type, count: count, at: at)
        return (name, Tensor(unchecked: shape, storage))
    }
}

/// Reads consecutive chunks of a request body.
struct BinaryReader {
    let bytes: [UInt8]
    var position: Int

    /// Bytes not yet read.
    var remaining: Int { self.bytes.count - self.position }

    /// The next `count` bytes (the caller checked ``remaining``).
    mutating func take(_ count: Int) -> ArraySlice<UInt8> {
        let chunk = self.bytes[self.position..<self.position + count]
        self.position += count
        return chunk
    }
}
