/// A dense, row-major tensor with copy-on-write storage.
///
/// ```swift
/// let x = try Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
/// let outputs = try session.run(["X": x])
/// ```
public struct Tensor: Sendable, Equatable {
    /// The typed element buffer of a tensor. Swift arrays give copy-on-write semantics.
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case double([Double])
        case int64([Int64])
        case int32([Int32])
        case bool([Bool])
        case string([String])
    }

    /// The dimensions, outermost first. A scalar has an empty shape.
    public let shape: [Int]
    /// The elements in row-major order.
    public let storage: Storage

    /// Creates a tensor without checking that the element count matches the shape.
    package init(unchecked shape: [Int], _ storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    /// Creates a tensor, checking that the number of elements matches the shape.
    public init(shape: [Int], storage: Storage) throws {
        let expected = try Tensor.elementCount(of: shape)
        let actual = storage.count
        guard expected == actual else {
            throw InferenceError.invalidInput(
                "tensor of shape \(shape) needs \(expected) elements, got \(actual)"
            )
        }
        self.shape = shape
        self.storage = storage
    }

    /// Creates a float32 tensor.
    public init(shape: [Int], floats: [Float]) throws { try self.init(shape: shape, storage: .float(floats)) }
    /// Creates a float64 tensor.
    public init(shape: [Int], doubles: [Double]) throws { try self.init(shape: shape, storage: .double(doubles)) }
    /// Creates an int64 tensor.
    public init(shape: [Int], int64s: [Int64]) throws { try self.init(shape: shape, storage: .int64(int64s)) }
    /// Creates an int32 tensor.
    public init(shape: [Int], int32s: [Int32]) throws { try self.init(shape: shape, storage: .int32(int32s)) }
    /// Creates a bool tensor.
    public init(shape: [Int], bools: [Bool]) throws { try self.init(shape: shape, storage: .bool(bools)) }
    /// Creates a string tensor.
    public init(shape: [Int], strings: [String]) throws { try self.init(shape: shape, storage: .string(strings)) }

    /// The element type.
    public var elementType: ElementType { self.storage.elementType }
    /// The number of elements.
    public var count: Int { self.storage.count }
    /// The number of dimensions.
    public var rank: Int { self.shape.count }

    /// The elements as float32, or `nil` for another element type.
    public var floats: [Float]? { if case .float(let v) = self.storage { v } else { nil } }
    /// The elements as float64, or `nil` for another element type.
    public var doubles: [Double]? { if case .double(let v) = self.storage { v } else { nil } }
    /// The elements as int64, or `nil` for another element type.
    public var int64s: [Int64]? { if case .int64(let v) = self.storage { v } else { nil } }
    /// The elements as int32, or `nil` for another element type.
    public var int32s: [Int32]? { if case .int32(let v) = self.storage { v } else { nil } }
    /// The elements as bool, or `nil` for another element type.
    public var bools: [Bool]? { if case .bool(let v) = self.storage { v } else { nil } }
    /// The elements as strings, or `nil` for another element type.
    public var strings: [String]? { if case .string(let v) = self.storage { v } else { nil } }

    /// The same elements with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, storage: self.storage)
    }

    /// A tensor of `shape` filled with zeros (empty strings, `false`) of `type`.
    package static func zeros(_ type: ElementType, shape: [Int]) throws -> Tensor {
        let n = try Tensor.elementCount(of: shape)
        let storage: Storage =
            switch type {
            case .float: .float(Array(repeating: 0, count: n))
            case .double: .double(Array(repeating: 0, count: n))
            case .int64: .int64(Array(repeating: 0, count: n))
            case .int32: .int32(Array(repeating: 0, count: n))
            case .bool: .bool(Array(repeating: false, count: n))
            case .string: .string(Array(repeating: "", count: n))
            }
        return Tensor(unchecked: shape, storage)
    }
}

extension Tensor.Storage {
    /// The element type of the storage.
    public var elementType: ElementType {
        switch self {
        case .float: .float
        case .double: .double
        case .int64: .int64
        case .int32: .int32
        case .bool: .bool
        case .string: .string
        }
    }

    /// The number of elements.
    public var count: Int {
        switch self {
        case .float(let v): v.count
        case .double(let v): v.count
        case .int64(let v): v.count
        case .int32(let v): v.count
        case .bool(let v): v.count
        case .string(let v): v.count
        }
    }
}

extension Tensor {
    /// The largest number of elements a single tensor may hold (2^28, 1 GiB of float32).
    public static let maximumElementCount = 1 << 28

    /// The element limit in force for the current task: ``maximumElementCount``, or less while the loader
    /// evaluates constant subexpressions (so that a model file cannot make loading allocate gigabytes).
    @TaskLocal package static var elementLimit = Tensor.maximumElementCount

    /// The element count of a shape, checked for negative dimensions, overflow and ``maximumElementCount``.
    public static func elementCount(of shape: [Int]) throws -> Int {
        let limit = Tensor.elementLimit
        var n = 1
        for d in shape {
            guard d >= 0 else {
                throw InferenceError(.invalidInput, "negative dimension \(d) in shape \(shape)")
            }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= limit || d == 0 else {
                throw InferenceError(.resourceLimit, "shape \(shape) exceeds the limit of \(limit) elements per tensor")
            }
            n = p
        }
        guard n <= limit else {
            throw InferenceError(.resourceLimit, "shape \(shape) exceeds the limit of \(limit) elements per tensor")
        }
        return n
    }

    /// Row-major strides of a shape.
    ///
    /// Multiplication wraps: for a tensor with elements every stride fits (its count is bounded), and an empty
    /// tensor may have other dimensions whose product overflows, where strides are never used.
    package static func strides(of shape: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s = s &* shape[i]
        }
        return strides
    }

    /// The numpy broadcast of several shapes, or `nil` when they are incompatible.
    package static func broadcastShape(_ shapes: [[Int]]) -> [Int]? {
        var rank = 0
        for shape in shapes { rank = Swift.max(rank, shape.count) }
        var result = Array(repeating: 1, count: rank)
        for shape in shapes {
            let offset = rank - shape.count
            for (i, d) in shape.enumerated() {
                let r = result[offset + i]
                if r == d || d == 1 { continue }
                if r == 1 {
                    result[offset + i] = d
                } else {
                    return nil
                }
            }
        }
        return result
    }
}
