/// The operators of this family, registered in OperatorRegistry/standard.
///
/// Shape manipulation and data movement: Identity, Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size, Concat,
/// Gather, Slice, Transpose, Expand, Constant and ConstantOfShape.
package enum TensorOperators {
    package static let all: [OperatorDefinition] =
        TensorOperators.shapeDefinitions + TensorOperators.concatDefinitions + TensorOperators.gatherDefinitions
        + TensorOperators.sliceDefinitions + TensorOperators.transposeDefinitions
        + TensorOperators.expandDefinitions + TensorOperators.constantDefinitions
}

// MARK: Shared helpers

extension TensorOperators {
    /// Copies `length` consecutive elements starting at each of `starts`, in order, into a new storage.
    ///
    /// Every run must lie inside the storage; callers derive `starts` from validated shapes and indices.
    static func copyRuns(_ storage: Tensor.Storage, starts: [Int], length: Int) -> Tensor.Storage {
        switch storage {
        case .float(let v): .float(TensorOperators.copyRuns(v, starts, length))
        case .double(let v): .double(TensorOperators.copyRuns(v, starts, length))
        case .int64(let v): .int64(TensorOperators.copyRuns(v, starts, length))
        case .int32(let v): .int32(TensorOperators.copyRuns(v, starts, length))
        case .bool(let v): .bool(TensorOperators.copyRuns(v, starts, length))
        case .string(let v): .string(TensorOperators.copyRuns(v, starts, length))
        }
    }

    @inlinable
    static func copyRuns<T>(_ source: [T], _ starts: [Int], _ length: Int) -> [T] {
        var out = [T]()
        out.reserveCapacity(starts.count * length)
        if length == 1 {
            for s in starts { out.append(source[s]) }
        } else if length > 0 {
            for s in starts { out.append(contentsOf: source[s..<(s + length)]) }
        }
        return out
    }

    /// The source offsets of every element of `shape` (row-major) when dimension `d` advances the source by
    /// `strides[d]` from `base`.
    static func stridedOffsets(shape: [Int], strides: [Int], base: Int) -> [Int] {
        let n = shape.reduce(1, *)
        var out = [Int]()
        out.reserveCapacity(n)
        if n == 0 { return out }
        let rank = shape.count
        if rank == 0 { return [base] }
        var index = [Int](repeating: 0, count: rank)
        var offset = base
        let last = rank - 1
        let lastDim = shape[last]
        let lastStride = strides[last]
        while true {
            var o = offset
            for _ in 0..<lastDim {
                out.append(o)
                o += lastStride
            }
            // Advance the outer dimensions.
            var d = last - 1
            while d >= 0 {
                index[d] += 1
                offset += strides[d]
                if index[d] < shape[d] { break }
                offset -= strides[d] * index[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return out }
        }
    }

    /// The integer values of a shape-like input (int64 or int32, rank 0 or 1).
    static func integerValues(_ tensor: Tensor, _ what: String) throws -> [Int] {
        guard tensor.rank <= 1 else {
            throw InferenceError(.runtimeFailure, "\(what) must be a 1-D tensor, got shape \(tensor.shape)")
        }
        guard let values = tensor.integers else {
            throw InferenceError(.runtimeFailure, "\(what) must be int64, got \(tensor.elementType)")
        }
        return values
    }

    /// The product of dimensions, throwing instead of overflowing.
    static func checkedProduct(_ dims: ArraySlice<Int>, _ label: String) throws -> Int {
        var n = 1
        for d in dims {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw InferenceError(.resourceLimit, "\(label): dimensions \(Array(dims)) overflow")
            }
            n = p
        }
        return n
    }

    /// Normalises a possibly negative axis against `rank` at run time.
    static func runtimeAxis(_ axis: Int, rank: Int, _ label: String, name: String = "axis") throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else {
            throw InferenceError(.runtimeFailure, "\(label): \(name) \(axis) is out of range for rank \(rank)")
        }
        return a
    }

    /// Normalises a list of axes against `rank`, rejecting out-of-range and repeated axes.
    static func runtimeAxes(_ axes: [Int], rank: Int, _ label: String, name: String = "axes") throws -> [Int] {
        var seen = Set<Int>()
        var out = [Int]()
        for axis in axes {
            let a = try TensorOperators.runtimeAxis(axis, rank: rank, label, name: name)
            guard seen.insert(a).inserted else {
                throw InferenceError(.runtimeFailure, "\(label): \(name) \(axes) repeats axis \(axis)")
            }
            out.append(a)
        }
        return out
    }

    /// The tensor element type of input `index`, required to be int64 (shape, axes, starts inputs).
    static func requireInt64(_ ctx: NodeContext, _ index: Int, _ what: String) throws {
        let type = try ctx.inputType(index)
        guard type == .int64 else {
            throw InferenceError(
                .unsupportedOperator,
                "\(ctx.label): input \(index) (\(what)) has element type \(type), expected int64"
            )
        }
    }

    /// The tensor element type of input `index`, required to be int64 or int32 (indices, starts inputs).
    static func requireIndexType(_ ctx: NodeContext, _ index: Int, _ what: String) throws {
        let type = try ctx.inputType(index)
        guard type == .int64 || type == .int32 else {
            throw InferenceError(
                .unsupportedOperator,
                "\(ctx.label): input \(index) (\(what)) has element type \(type), expected int64 or int32"
            )
        }
    }
}
