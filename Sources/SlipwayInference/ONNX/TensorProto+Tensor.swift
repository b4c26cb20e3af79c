import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Onnx_TensorProto {
    /// The dimensions, checked to be non-negative and within the engine's element limit.
    func checkedShape(what: String) throws -> (shape: [Int], count: Int) {
        var shape = [Int]()
        shape.reserveCapacity(self.dims.count)
        for d in self.dims {
            guard d >= 0, d <= Int64(Tensor.maximumElementCount) else {
                throw InferenceError.invalidModel("\(what) has invalid dimension \(d)")
            }
            shape.append(Int(d))
        }
        do {
            return (shape, try Tensor.elementCount(of: shape))
        } catch let error as InferenceError {
            throw InferenceError(error.code, "\(what): \(error.message)")
        }
    }

    /// Decodes the tensor into an engine ``Tensor``.
    ///
    /// - Parameter what: how to name the tensor in errors (`initializer 'W'`, `attribute 'value' of Constant`).
    func makeTensor(what: String) throws -> Tensor {
        if self.hasDataLocation, self.dataLocation == .external || !self.externalData.isEmpty {
            throw InferenceError.unsupportedModel(
                "\(what) keeps its data in an external file; models that need external data files are not supported "
                    + "(save the model with all tensors inside the .onnx file)"
            )
        }
        if !self.externalData.isEmpty {
            throw InferenceError.unsupportedModel("\(what) references external data, which is not supported")
        }
        guard let type = ElementType(onnxDataType: Int(self.dataType)) else {
            throw InferenceError(
                .unsupportedModel,
                "\(what) has element type \(ElementType.onnxName(Int(self.dataType))); supported: "
                    + "float, double, int64, int32, bool, string"
            )
        }
        let (shape, n) = try self.checkedShape(what: what)
        let storage: Tensor.Storage
        if self.hasRawData, type != .string {
            storage = try Self.decodeRaw(self.rawData, type: type, count: n, what: what)
        } else {
            switch type {
            case .float: storage = .float(try Self.check(self.floatData, n, what))
            case .double: storage = .double(try Self.check(self.doubleData, n, what))
            case .int64: storage = .int64(try Self.check(self.int64Data, n, what))
            case .int32: storage = .int32(try Self.check(self.int32Data, n, what))
            case .bool: storage = .bool(try Self.check(self.int32Data, n, what).map { $0 != 0 })
            case .string:
                storage = .string(try Self.check(self.stringData, n, what).map { String(decoding: $0, as: UTF8.self) })
            }
        }
        return Tensor(unchecked: shape, storage)
    }

    /// The elements of an integer tensor of any integer ONNX type (uint8, int8, …, int64) as `Int`.
    func integerValues(what: String) throws -> [Int] {
        let dataType = Int(self.dataType)
        let sizes = [2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 12: 4, 13: 8]
        guard let size = sizes[dataType] else {
            throw InferenceError(
                .invalidAttribute,
                "\(what) has element type \(ElementType.onnxName(dataType)), expected an integer type"
            )
        }
        let (_, n) = try self.checkedShape(what: what)
        if self.hasRawData {
            guard self.rawData.count == n * size else {
                throw InferenceError.invalidModel(
                    "\(what) raw data holds \(self.rawData.count) bytes, expected \(n * size) for \(n) elements"
                )
            }
            let signed = [3, 5, 6, 7].contains(dataType)
            return self.rawData.withUnsafeBytes { raw in
                (0..<n).map { i in
                    switch (size, signed) {
                    case (1, true): Int(raw.loadUnaligned(fromByteOffset: i, as: Int8.self))
                    case (1, false): Int(raw.loadUnaligned(fromByteOffset: i, as: UInt8.self))
                    case (2, true): Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
                    case (2, false):
                        Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                    case (4, true): Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                    case (4, false):
                        Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                    case (_, true): Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                    default:
                        Int(
                            truncatingIfNeeded: UInt64(
                                littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                            )
                        )
                    }
                }
            }
        }
        switch dataType {
        case 7: return try Self.check(self.int64Data, n, what).map { Int($0) }
        case 13: return try Self.check(self.uint64Data, n, what).map { Int(truncatingIfNeeded: $0) }
        default: return try Self.check(self.int32Data, n, what).map { Int($0) }
        }
    }

    private static func check<T>(_ values: [T], _ n: Int, _ what: String) throws -> [T] {
        guard values.count == n else {
            throw InferenceError.invalidModel("\(what) holds \(values.count) elements, its dimensions need \(n)")
        }
        return values
    }

    private static func decodeRaw(_ data: Data, type: ElementType, count n: Int, what: String) throws -> Tensor.Storage
    {
        let size =
            switch type {
            case .float, .int32: 4
            case .double, .int64: 8
            case .bool: 1
            case .string: 0
            }
        guard data.count == n * size else {
            throw InferenceError.invalidModel(
                "\(what) raw data holds \(data.count) bytes, expected \(n * size) for \(n) \(type) elements"
            )
        }
        return data.withUnsafeBytes { raw -> Tensor.Storage in
            switch type {
            case .float:
                .float(
                    (0..<n).map {
                        Float(
                            bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))
                        )
                    }
                )
            case .double:
                .double(
                    (0..<n).map {
                        Double(
                            bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))
                        )
                    }
                )
            case .int64:
                .int64((0..<n).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) })
            case .int32:
                .int32((0..<n).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) })
            case .bool:
                .bool((0..<n).map { raw[$0] != 0 })
            case .string:
                .string([])
            }
        }
    }
}

extension Tensor {
    /// Encodes the tensor as an ONNX `TensorProto` (raw little-endian data for numbers).
    package func makeTensorProto(name: String = "") -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = self.shape.map { Int64($0) }
        proto.dataType = Int32(self.elementType.onnxDataType)
        switch self.storage {
        case .float(let v): proto.floatData = v
        case .double(let v): proto.doubleData = v
        case .int64(let v): proto.int64Data = v
        case .int32(let v): proto.int32Data = v
        case .bool(let v): proto.int32Data = v.map { $0 ? 1 : 0 }
        case .string(let v): proto.stringData = v.map { Data($0.utf8) }
        }
        return proto
    }

    /// Decodes a serialized ONNX `TensorProto` (a `.pb` file of ONNX's test data sets).
    public init(serializedTensorProto bytes: [UInt8]) throws {
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: bytes)
        } catch {
            throw InferenceError.invalidModel("not a valid ONNX TensorProto: \(error)")
        }
        self = try proto.makeTensor(what: "tensor '\(proto.name)'")
    }
}
