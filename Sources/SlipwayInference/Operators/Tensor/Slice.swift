/// Slice: takes a strided sub-block of a tensor. Before opset 10 `starts`, `ends` and `axes` are attributes; from
/// opset 10 they are inputs, with optional `axes` and `steps` (negative steps walk backwards).
extension TensorOperators {
    static let sliceDefinitions: [OperatorDefinition] = [
        OperatorDefinition(onnxDomain, "Slice", opsets: 7...9, compile: TensorOperators.compileSliceAttributes),
        OperatorDefinition(onnxDomain, "Slice", opsets: 10...28, compile: TensorOperators.compileSliceInputs),
    ]

    /// The slicing parameters of one node, before they are resolved against an input shape.
    struct SliceRequest: Sendable {
        var starts: [Int]
        var ends: [Int]
        var axes: [Int]?
        var steps: [Int]?

        /// Checks what does not depend on the input shape: lengths agree, no zero step, no repeated axis.
        func validate() throws {
            guard self.starts.count == self.ends.count else {
                throw InferenceError(
                    .runtimeFailure,
                    "starts has \(self.starts.count) values but ends has \(self.ends.count)"
                )
            }
            if let axes = self.axes {
                guard axes.count == self.starts.count else {
                    throw InferenceError(
                        .runtimeFailure,
                        "axes has \(axes.count) values but starts has \(self.starts.count)"
                    )
                }
                guard Set(axes).count == axes.count else {
                    throw InferenceError(.runtimeFailure, "axes \(axes) has repeated values")
                }
            }
            if let steps = self.steps {
                guard steps.count == self.starts.count else {
                    throw InferenceError(
                        .runtimeFailure,
                        "steps has \(steps.count) values but starts has \(self.starts.count)"
                    )
                }
                guard !steps.contains(0) else {
                    throw InferenceError(.runtimeFailure, "steps \(steps) contains 0")
                }
            }
        }
    }

    private static func compileSliceAttributes(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let type = try ctx.inputType(0)
        let request = SliceRequest(
            starts: try ctx.ints("starts"),
            ends: try ctx.ints("ends"),
            axes: ctx.has("axes") ? try ctx.ints("axes") : nil,
            steps: nil
        )
        do {
            try request.validate()
        } catch let error as InferenceError {
            throw ctx.attributeError("starts", "/ends/axes are inconsistent: \(error.message)")
        }
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            [.tensor(try TensorOperators.slice(try inputs.tensor(0), request, label))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    private static func compileSliceInputs(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(3...5)
        let type = try ctx.inputType(0)
        let names = ["data", "starts", "ends", "axes", "steps"]
        for i in 1..<5 where try i < 3 || ctx.optionalInputType(i) != nil {
            try TensorOperators.requireIndexType(ctx, i, names[i])
        }
        // Precompute the whole request when every given parameter is constant.
        let given = (1..<5).filter { $0 < ctx.inputTypes.count && ctx.inputTypes[$0] != nil }
        var parsedRequest: SliceRequest?
        if given.allSatisfy({ ctx.constant($0) != nil }) {
            do {
                func values(_ i: Int) throws -> [Int]? {
                    guard let t = ctx.constant(i) else { return nil }
                    return try TensorOperators.integerValues(t, names[i])
                }
                let request = SliceRequest(
                    starts: try values(1) ?? [],
                    ends: try values(2) ?? [],
                    axes: try values(3),
                    steps: try values(4)
                )
                try request.validate()
                parsedRequest = request
            } catch let error as InferenceError {
                throw ctx.error(error.message)
            }
        }
        let label = ctx.label
        let constantRequest = parsedRequest
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let request: SliceRequest
            if let constantRequest {
                request = constantRequest
            } else {
                func values(_ i: Int) throws -> [Int]? {
                    guard let t = try inputs.optionalTensor(i) else { return nil }
                    return try TensorOperators.integerValues(t, "\(label): \(names[i])")
                }
                request = SliceRequest(
                    starts: try values(1) ?? [],
                    ends: try values(2) ?? [],
                    axes: try values(3),
                    steps: try values(4)
                )
                do {
                    try request.validate()
                } catch let error as InferenceError {
                    throw InferenceError(.runtimeFailure, "\(label): \(error.message)")
                }
            }
            return [.tensor(try TensorOperators.slice(x, request, label))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    /// Applies a validated slice request to `x`.
    static func slice(_ x: Tensor, _ request: SliceRequest, _ label: String) throws -> Tensor {
        let rank = x.rank
        let axes = try TensorOperators.runtimeAxes(request.axes ?? Array(0..<request.starts.count), rank: rank, label)
        var starts = Array(repeating: 0, count: rank)
        var steps = Array(repeating: 1, count: rank)
        var shape = x.shape
        for (i, a) in axes.enumerated() {
            let dim = x.shape[a]
            let step = request.steps?[i] ?? 1
            var start = request.starts[i]
            var end = request.ends[i]
            // Clamp before adding `dim` so that INT64_MIN/MAX sentinels cannot overflow.
            if start < 0 { start = max(start, -dim - 1) + dim }
            if end < 0 { end = max(end, -dim - 1) + dim }
            let count: Int
            if step > 0 {
                start = min(max(start, 0), dim)
                end = min(max(end, 0), dim)
                let diff = end - start
                count = diff <= 0 ? 0 : Int((UInt(diff) - 1) / step.magnitude) + 1
            } else {
                start = min(max(start, 0), dim - 1)
                end = min(max(end, -1), dim - 1)
                let diff = start - end
                count = diff <= 0 ? 0 : Int((UInt(diff) - 1) / step.magnitude) + 1
            }
            starts[a] = start
            steps[a] = count <= 1 ? 1 : step
            shape[a] = count
        }
        let total = try Tensor.elementCount(of: shape)
        if total == 0 { return try Tensor.zeros(x.elementType, shape: shape) }
        if rank == 0 { return x }
        let sourceStrides = Tensor.strides(of: x.shape)
        var base = 0
        var strides = sourceStrides
        for d in 0..<rank {
            base += starts[d] * sourceStrides[d]
            strides[d] = sourceStrides[d] * steps[d]
        }
        // The innermost dimension is copied in runs when it is walked forwards with step 1.
        let last = rank - 1
        if steps[last] == 1 {
            let offsets = TensorOperators.stridedOffsets(
                shape: Array(shape[..<last]),
                strides: Array(strides[..<last]),
                base: base
            )
            return Tensor(unchecked: shape, TensorOperators.copyRuns(x.storage, starts: offsets, length: shape[last]))
        }
        let offsets = TensorOperators.stridedOffsets(shape: shape, strides: strides, base: base)
        return Tensor(unchecked: shape, TensorOperators.copyRuns(x.storage, starts: offsets, length: 1))
    }
}
