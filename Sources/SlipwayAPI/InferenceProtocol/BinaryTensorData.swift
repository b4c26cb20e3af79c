import SlipwayInference

/// The binary tensor data extension's element encoding: little-endian, row-major, BOOL one byte per element
/// (0 or 1), each BYTES element a 4-byte little-endian unsigned length followed by its UTF-8 bytes.
enum BinaryTensorData {
    /// The bytes one element of a fixed-size type takes, or `nil` for BYTES.
    static func elementSize(_ type: ElementType) -> Int? {
        switch type {
        case .float, .int32: 4
        case .double, .int64: 8
        case .bool: 1
        case .string: nil
        }
    }

    /// Decodes `count` elements of `type` from exactly the bytes of `chunk`; `path` names the input in errors.
    static func decode(
        _ chunk: ArraySlice<UInt8>,
        type: ElementType,
        count: Int,
        at path: String
    ) throws
        -> Tensor.Storage
    {
        if let size = self.elementSize(type) {
            guard chunk.count == count * size else {
                throw InferenceProtocolError.badRequest(
                    "\(path): binary_data_size is \(chunk.count) bytes, but \(count) \(type.protocolName) elements "
                        + "take \(count * size)"
                )
            }
        }
        return try chunk.withUnsafeBytes { raw -> Tensor.Storage in
            func load<T: FixedWidthInteger>(_: T.Type, _ index: Int) -> T {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
            }
            switch type {
            case .float:
                return .float((0..<count).map { Float(bitPattern: load(UInt32.self, $0)) })
            case .double:
                return .double((0..<count).map { Double(bitPattern: load(UInt64.self, $0)) })
            case .int32:
                return .int32((0..<count).map { load(Int32.self, $0) })
            case .int64:
                return .int64((0..<count).map { load(Int64.self, $0) })
            case .bool:
                return .bool(
                    try (0..<count).map { index in
                        switch raw[index] {
                        case 0: return false
                        case 1: return true
                        case let other:
                            throw InferenceProtocolError.badRequest(
                                "\(path): BOOL element \(index) is the byte \(other); expected 0 or 1"
                            )
                        }
                    }
                )
            case .string:
                var strings: [String] = []
                strings.reserveCapacity(min(count, raw.count / 4))
                var offset = 0
                for index in 0..<count {
                    guard raw.count - offset >= 4 else {
                        throw InferenceProtocolError.badRequest(
                            "\(path): the binary data ends before BYTES element \(index)'s 4-byte length"
                        )
                    }
                    let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    offset += 4
                    guard raw.count - offset >= length else {
                        throw InferenceProtocolError.badRequest(
                            "\(path): BYTES element \(index) declares \(length) bytes but only \(raw.count - offset) are left"
                        )
                    }
                    guard let text = String(validating: raw[offset..<offset + length], as: UTF8.self) else {
                        throw InferenceProtocolError.badRequest(
                            "\(path): BYTES element \(index) is not valid UTF-8; the models take text"
                        )
                    }
                    strings.append(text)
                    offset += length
                }
                guard offset == raw.count else {
                    throw InferenceProtocolError.badRequest(
                        "\(path): binary_data_size is \(raw.count) bytes, but the \(count) BYTES elements take \(offset)"
                    )
                }
                return .string(strings)
            }
        }
    }

    /// Appends a tensor's elements to `out`.
    static func encode(_ tensor: Tensor, into out: inout [UInt8]) {
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        switch tensor.storage {
        case .float(let values):
            out.reserveCapacity(out.count + values.count * 4)
            for value in values { append(value.bitPattern) }
        case .double(let values):
            out.reserveCapacity(out.count + values.count * 8)
            for value in values { append(value.bitPattern) }
        case .int32(let values):
            for value in values { append(value) }
        case .int64(let values):
            for value in values { append(value) }
        case .bool(let values):
            out.append(contentsOf: values.map { $0 ? 1 : 0 })
        case .string(let values):
            for value in values {
                let bytes = Array(value.utf8)
                append(UInt32(truncatingIfNeeded: bytes.count))
                out.append(contentsOf: bytes)
            }
        }
    }
}
