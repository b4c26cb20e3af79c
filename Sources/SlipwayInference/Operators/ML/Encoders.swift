/// `OneHotEncoder`, `ArrayFeatureExtractor`, `ZipMap` and `FeatureVectorizer` (ai.onnx.ml 1).
enum EncoderOperators {
    static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxMLDomain, "OneHotEncoder", opsets: 1...5) { ctx in try compileOneHot(ctx) },
        OperatorDefinition(onnxMLDomain, "ArrayFeatureExtractor", opsets: 1...5) { ctx in try compileExtractor(ctx) },
        OperatorDefinition(onnxMLDomain, "ZipMap", opsets: 1...5) { ctx in try compileZipMap(ctx) },
        OperatorDefinition(onnxMLDomain, "FeatureVectorizer", opsets: 1...5) { ctx in try compileVectorizer(ctx) },
    ]

    /// One-hot encodes each element into a trailing axis of `cats` floats.
    static func compileOneHot(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let type = try ctx.requireInputType(0, in: [.string, .int64, .int32, .float, .double])
        let strings = try ctx.strings("cats_strings", default: [])
        let ints = try ctx.ints("cats_int64s", default: [])
        guard strings.isEmpty != ints.isEmpty else {
            throw ctx.attributeError("cats_strings", "exactly one of cats_strings and cats_int64s must be given")
        }
        if type == .string && strings.isEmpty {
            throw ctx.attributeError("cats_strings", "is required for string input")
        }
        if type != .string && ints.isEmpty {
            throw ctx.attributeError("cats_int64s", "is required for \(type) input")
        }
        let zeros = try ctx.int("zeros", default: 1) != 0
        let stringIndex = Dictionary(strings.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let intIndex = Dictionary(ints.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let width = max(strings.count, ints.count)
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let t = try inputs.tensor(0)
            let indices: [Int?]
            switch t.storage {
            case .string(let v): indices = v.map { stringIndex[$0] }
            case .int64(let v): indices = v.map { intIndex[Int($0)] }
            case .int32(let v): indices = v.map { intIndex[Int($0)] }
            case .float(let v):
                indices = v.map { Int64(exactly: $0.rounded(.towardZero)).flatMap { intIndex[Int($0)] } }
            case .double(let v):
                indices = v.map { Int64(exactly: $0.rounded(.towardZero)).flatMap { intIndex[Int($0)] } }
            default: throw InferenceError(.runtimeFailure, "\(label): unsupported input type \(t.elementType)")
            }
            let shape = t.shape + [width]
            var out = [Float](repeating: 0, count: try Tensor.elementCount(of: shape))
            for (i, index) in indices.enumerated() {
                guard let index else {
                    if zeros { continue }
                    throw InferenceError(.runtimeFailure, "\(label): element \(i) is not a known category (zeros=0)")
                }
                out[i * width + index] = 1
            }
            return [.tensor(Tensor(unchecked: shape, elements: out))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(.float)])
    }

    /// Selects elements of the last axis of X by the int64 indices Y.
    static func compileExtractor(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(2...2)
        let type = try ctx.requireInputType(0, in: [.float, .double, .int64, .int32, .string])
        try ctx.requireInputType(1, in: [.int64])
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let y = try inputs.tensor(1)
            guard let indices = y.integers else { throw InferenceError(.runtimeFailure, "\(label): Y must be int64") }
            guard let last = x.shape.last else {
                throw InferenceError(.runtimeFailure, "\(label): X must have rank >= 1, got a scalar")
            }
            for i in indices where i < 0 || i >= last {
                throw InferenceError(.runtimeFailure, "\(label): index \(i) is out of range for last dimension \(last)")
            }
            let shape = x.rank == 1 ? [1, indices.count] : Array(x.shape.dropLast()) + [indices.count]
            let outer = last == 0 ? 0 : x.count / last
            func pick<T>(_ v: [T]) -> [T] {
                var out: [T] = []
                out.reserveCapacity(outer * indices.count)
                for r in 0..<outer { for i in indices { out.append(v[r * last + i]) } }
                return out
            }
            let storage: Tensor.Storage =
                switch x.storage {
                case .float(let v): .float(pick(v))
                case .double(let v): .double(pick(v))
                case .int64(let v): .int64(pick(v))
                case .int32(let v): .int32(pick(v))
                case .bool(let v): .bool(pick(v))
                case .string(let v): .string(pick(v))
                }
            return [.tensor(Tensor(unchecked: shape, storage))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(type)])
    }

    /// Turns `[N, C]` float scores into a sequence of N maps from the C class labels to scores.
    static func compileZipMap(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        try ctx.requireInputType(0, in: [.float])
        let strings = try ctx.strings("classlabels_strings", default: [])
        let ints = try ctx.ints("classlabels_int64s", default: [])
        guard strings.isEmpty != ints.isEmpty else {
            throw ctx.attributeError(
                "classlabels_strings",
                "exactly one of classlabels_strings and classlabels_int64s must be given"
            )
        }
        let keys: MapSequence.Keys = strings.isEmpty ? .int64s(ints.map { Int64($0) }) : .strings(strings)
        let count = max(strings.count, ints.count)
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            let x = try inputs.tensor(0)
            let (rows, columns) = try FeatureMatrix<Float>.dimensions(x.shape, op: label)
            guard columns == count else {
                throw InferenceError(
                    .runtimeFailure,
                    "\(label): input has \(columns) columns for \(count) class labels"
                )
            }
            let scores = x.rank == 2 ? x : Tensor(unchecked: [rows, columns], x.storage)
            return [.mapSequence(MapSequence(keys: keys, scores: scores))]
        }
        return CompiledKernel(kernel, outputs: [.mapSequence(keys: strings.isEmpty ? .int64 : .string)])
    }

    /// Concatenates the inputs' features (each truncated or zero-padded to its `inputdimensions` entry).
    static func compileVectorizer(_ ctx: NodeContext) throws -> CompiledKernel {
        guard !ctx.inputTypes.isEmpty else { throw ctx.error("expects at least one input") }
        for i in 0..<ctx.inputTypes.count { try ctx.requireInputType(i, in: [.int32, .int64, .float, .double]) }
        let dimensions = try ctx.ints("inputdimensions", default: [])
        guard dimensions.count == ctx.inputTypes.count, dimensions.allSatisfy({ $0 >= 0 }) else {
            throw ctx.attributeError(
                "inputdimensions",
                "has \(dimensions.count) entries, expected \(ctx.inputTypes.count) non-negative sizes"
            )
        }
        let total = dimensions.reduce(0, +)
        let label = ctx.label
        let kernel = ClosureKernel { inputs, _ in
            var matrices: [FeatureMatrix<Float>] = []
            for i in 0..<dimensions.count { matrices.append(try FeatureMatrix.floats(try inputs.tensor(i), op: label)) }
            let rows = matrices[0].rows
            for m in matrices where m.rows != rows {
                throw InferenceError(
                    .runtimeFailure,
                    "\(label): inputs have different row counts (\(m.rows) vs \(rows))"
                )
            }
            var out = [Float](repeating: 0, count: try Tensor.elementCount(of: [rows, total]))
            for n in 0..<rows {
                var offset = n * total
                for (m, d) in zip(matrices, dimensions) {
                    for f in 0..<min(d, m.columns) { out[offset + f] = m.values[n * m.columns + f] }
                    offset += d
                }
            }
            return [.tensor(Tensor(unchecked: [rows, total], elements: out))]
        }
        return CompiledKernel(kernel, outputs: [.tensor(.float)])
    }
}
