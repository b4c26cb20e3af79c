/// An element type a ``Tensor`` can hold, for writing kernels once over several element types.
package protocol TensorElement: Sendable, Equatable {
    /// The engine's element type for `Self`.
    static var elementType: ElementType { get }
    /// Wraps an array as tensor storage.
    static func storage(_ elements: [Self]) -> Tensor.Storage
    /// Unwraps tensor storage holding `Self`.
    static func elements(_ storage: Tensor.Storage) -> [Self]?
    /// The zero (false, empty) value.
    static var zero: Self { get }
}

extension Float: TensorElement {
    package static var elementType: ElementType { .float }
    package static func storage(_ elements: [Float]) -> Tensor.Storage { .float(elements) }
    package static func elements(_ storage: Tensor.Storage) -> [Float]? {
        if case .float(let v) = storage { v } else { nil }
    }
}

extension Double: TensorElement {
    package static var elementType: ElementType { .double }
    package static func storage(_ elements: [Double]) -> Tensor.Storage { .double(elements) }
    package static func elements(_ storage: Tensor.Storage) -> [Double]? {
        if case .double(let v) = storage { v } else { nil }
    }
}

extension Int64: TensorElement {
    package static var elementType: ElementType { .int64 }
    package static func storage(_ elements: [Int64]) -> Tensor.Storage { .int64(elements) }
    package static func elements(_ storage: Tensor.Storage) -> [Int64]? {
        if case .int64(let v) = storage { v } else { nil }
    }
}

extension Int32: TensorElement {
    package static var elementType: ElementType { .int32 }
    package static func storage(_ elements: [Int32]) -> Tensor.Storage { .int32(elements) }
    package static func elements(_ storage: Tensor.Storage) -> [Int32]? {
        if case .int32(let v) = storage { v } else { nil }
    }
}

extension Bool: TensorElement {
    package static var elementType: ElementType { .bool }
    package static var zero: Bool { false }
    package static func storage(_ elements: [Bool]) -> Tensor.Storage { .bool(elements) }
    package static func elements(_ storage: Tensor.Storage) -> [Bool]? {
        if case .bool(let v) = storage { v } else { nil }
    }
}

extension String: TensorElement {
    package static var elementType: ElementType { .string }
    package static var zero: String { "" }
    package static func storage(_ elements: [String]) -> Tensor.Storage { .string(elements) }
    package static func elements(_ storage: Tensor.Storage) -> [String]? {
        if case .string(let v) = storage { v } else { nil }
    }
}

extension Tensor {
    /// Creates a tensor from typed elements without checking the count against the shape.
    package init<T: TensorElement>(unchecked shape: [Int], elements: [T]) {
        self.init(unchecked: shape, T.storage(elements))
    }

    /// The elements as `T`, or `nil` when the tensor holds another element type.
    package func elements<T: TensorElement>(as type: T.Type = T.self) -> [T]? {
        T.elements(self.storage)
    }

    /// A scalar tensor.
    package static func scalar<T: TensorElement>(_ value: T) -> Tensor {
        Tensor(unchecked: [], elements: [value])
    }

    /// The elements converted to `Int` (from int64 or int32), or `nil` for other element types.
    package var integers: [Int]? {
        switch self.storage {
        case .int64(let v): v.map { Int($0) }
        case .int32(let v): v.map { Int($0) }
        default: nil
        }
    }
}

/// Numeric tensor elements with the arithmetic kernels need.
package protocol NumericElement: TensorElement, Numeric, Comparable {}
extension Float: NumericElement {}
extension Double: NumericElement {}
extension Int64: NumericElement {}
extension Int32: NumericElement {}
