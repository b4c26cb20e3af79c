/// A value flowing through a graph: a tensor, or the sequence of maps that `ZipMap` produces.
public enum Value: Sendable, Equatable {
    case tensor(Tensor)
    case mapSequence(MapSequence)

    /// The tensor, or `nil` for a map sequence.
    public var tensor: Tensor? { if case .tensor(let t) = self { t } else { nil } }

    /// The type of the value.
    public var type: ValueType {
        switch self {
        case .tensor(let t): .tensor(t.elementType)
        case .mapSequence(let m): .mapSequence(keys: m.keyType)
        }
    }
}

/// A sequence of maps from class label to score, one map per row, all with the same keys (ZipMap's output).
public struct MapSequence: Sendable, Equatable {
    /// The map keys: class labels, strings or int64.
    public enum Keys: Sendable, Equatable {
        case strings([String])
        case int64s([Int64])
    }
    /// The keys shared by every map.
    public let keys: Keys
    /// The scores, shape `[rows, keys]`, row-major, float32.
    public let scores: Tensor

    /// Creates a map sequence from keys and a `[rows, keys]` float score tensor.
    public init(keys: Keys, scores: Tensor) {
        self.keys = keys
        self.scores = scores
    }

    /// The key element type.
    public var keyType: ElementType {
        switch self.keys {
        case .strings: .string
        case .int64s: .int64
        }
    }

    /// The number of maps (rows).
    public var count: Int { self.scores.shape.first ?? 0 }
}

/// The static type of a graph value.
public enum ValueType: Sendable, Hashable, CustomStringConvertible {
    case tensor(ElementType)
    case mapSequence(keys: ElementType)

    /// The tensor element type, or `nil` for a map sequence.
    public var elementType: ElementType? { if case .tensor(let t) = self { t } else { nil } }

    public var description: String {
        switch self {
        case .tensor(let t): "tensor(\(t))"
        case .mapSequence(let k): "seq(map(\(k),float))"
        }
    }
}
