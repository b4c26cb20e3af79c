/// `TreeEnsembleRegressor`, `TreeEnsembleClassifier` (ai.onnx.ml 1...4, removed in 5) and `TreeEnsemble` (ai.onnx.ml 5).
///
/// Attributes are parsed into a ``ForestSpec``, validated and flattened once at load time; rows are evaluated
/// with the semantics of ONNX Runtime (float32 comparisons unless the input or thresholds are double,
/// its binary-classifier conventions and post transforms).
enum TreeEnsembleOperators {
    static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxMLDomain, "TreeEnsembleRegressor", opsets: 1...4) { ctx in
            try TreeEnsembleOperators.compileRegressor(ctx)
        },
        OperatorDefinition(onnxMLDomain, "TreeEnsembleClassifier", opsets: 1...4) { ctx in
            try TreeEnsembleOperators.compileClassifier(ctx)
        },
        OperatorDefinition(onnxMLDomain, "TreeEnsemble", opsets: 5...5) { ctx in
            try TreeEnsembleOperators.compileEnsemble(ctx)
        },
    ]

    static let featureTypes: Set<ElementType> = [.float, .double, .int64, .int32]

    // MARK: Legacy (tree id, node id) encoding

    /// The leaf weights of the legacy encoding: `<prefix>_ids`, `_nodeids`, `_treeids`, `_weights`.
    struct LegacyWeights {
        var ids: [Int64]
        var nodeIds: [Int64]
        var treeIds: [Int64]
        var weights: [Double]
        var isDouble: Bool
    }

    /// Parses the `nodes_*` attributes and the leaf weights into a spec.
    static func legacySpec(
        _ ctx: NodeContext,
        weights: LegacyWeights,
        weightNames: (ids: String, nodes: String, trees: String, weights: String),
        width: Int
    ) throws -> (spec: ForestSpec, thresholdsDouble: Bool) {
        let treeIds = try ctx.int64s("nodes_treeids")
        let nodeIds = try ctx.int64s("nodes_nodeids")
        let n = treeIds.count
        try ctx.requireCount("nodes_nodeids", nodeIds.count, n, like: "nodes_treeids")
        let featureIds = try ctx.int64s("nodes_featureids")
        try ctx.requireCount("nodes_featureids", featureIds.count, n, like: "nodes_treeids")
        // Modes are read from the attribute's bytes: 40k-node forests would otherwise build 40k strings.
        guard let modeCodes = try ctx.mappedStrings("nodes_modes", Self.legacyModeCode) else {
            throw ctx.attributeError("nodes_modes", "is required")
        }
        try ctx.requireCount("nodes_modes", modeCodes.count, n, like: "nodes_treeids")
        let trueIds = try ctx.int64s("nodes_truenodeids")
        try ctx.requireCount("nodes_truenodeids", trueIds.count, n, like: "nodes_treeids")
        let falseIds = try ctx.int64s("nodes_falsenodeids")
        try ctx.requireCount("nodes_falsenodeids", falseIds.count, n, like: "nodes_treeids")
        guard let values = try ctx.floatsOrTensor("nodes_values") else {
            throw ctx.attributeError("nodes_values", "is required (or nodes_values_as_tensor)")
        }
        try ctx.requireCount("nodes_values", values.values.count, n, like: "nodes_treeids")
        let missing = try ctx.int64s("nodes_missing_value_tracks_true", default: [])
        guard missing.isEmpty || missing.count == n else {
            throw ctx.attributeError(
                "nodes_missing_value_tracks_true",
                "has \(missing.count) entries, expected 0 or \(n)"
            )
        }
        // Only the count of the (unused) hit rates is checked: converting them would cost a copy.
        let hitCount =
            ctx.has("nodes_hitrates_as_tensor")
            ? try ctx.floatsOrTensor("nodes_hitrates")?.values.count ?? 0
            : try ctx.floats("nodes_hitrates", default: []).count
        if hitCount != 0, hitCount != n {
            throw ctx.attributeError("nodes_hitrates", "has \(hitCount) entries, expected 0 or \(n)")
        }
        let m = weights.ids.count
        try ctx.requireCount(weightNames.nodes, weights.nodeIds.count, m, like: weightNames.ids)
        try ctx.requireCount(weightNames.trees, weights.treeIds.count, m, like: weightNames.ids)
        try ctx.requireCount(weightNames.weights, weights.weights.count, m, like: weightNames.ids)

        let lookup = try NodeLookup(treeIds: treeIds, nodeIds: nodeIds, ctx: ctx)
        // Codes 0...5 are branch modes, 6 is LEAF (see `legacyModeCode`); leaves are tested on the codes
        // directly rather than through extra per-node arrays (fewer fresh pages on large forests).
        guard n < Int(Int32.max) else { throw ctx.attributeError("nodes_treeids", "has too many entries (\(n))") }
        // Number branch nodes and leaves separately.
        var encodedBuilder = [Int32](repeating: 0, count: n)
        var branchCount: Int32 = 0
        var leafCount: Int32 = 0
        for i in 0..<n {
            switch modeCodes[i] {
            case 6:
                encodedBuilder[i] = ~leafCount
                leafCount += 1
            case 0...5:
                encodedBuilder[i] = branchCount
                branchCount += 1
            default:
                let name = (try? ctx.strings("nodes_modes"))?[i] ?? "?"
                throw ctx.attributeError(
                    "nodes_modes",
                    "entry \(i) is '\(name)', expected BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, "
                        + "BRANCH_EQ, BRANCH_NEQ or LEAF"
                )
            }
        }
        let encoded = encodedBuilder
        var spec = ForestSpec()
        spec.features.reserveCapacity(Int(branchCount))
        spec.modes.reserveCapacity(Int(branchCount))
        spec.thresholds.reserveCapacity(Int(branchCount))
        spec.missingTrue.reserveCapacity(Int(branchCount))
        spec.trueChild.reserveCapacity(Int(branchCount))
        spec.falseChild.reserveCapacity(Int(branchCount))
        spec.leafCount = Int(leafCount)
        for i in 0..<n where modeCodes[i] != 6 {
            guard featureIds[i] >= 0 else {
                throw ctx.attributeError("nodes_featureids", "entry \(i) is \(featureIds[i]), expected >= 0")
            }
            let tree = Int(treeIds[i])
            guard let t = lookup.index(tree: tree, node: Int(trueIds[i])), t != i else {
                throw Self.childError(ctx, "nodes_truenodeids", tree, Int(nodeIds[i]), Int(trueIds[i]))
            }
            guard let f = lookup.index(tree: tree, node: Int(falseIds[i])), f != i else {
                throw Self.childError(ctx, "nodes_falsenodeids", tree, Int(nodeIds[i]), Int(falseIds[i]))
            }
            let children = (Int(encoded[t]), Int(encoded[f]))
            spec.features.append(Int(featureIds[i]))
            spec.modes.append(Self.legacyBranchModes[Int(modeCodes[i])])
            spec.thresholds.append(values.values[i])
            spec.missingTrue.append(missing.isEmpty ? false : missing[i] == 1)
            spec.trueChild.append(children.0)
            spec.falseChild.append(children.1)
        }
        // Roots: the first node of each tree id, in order of appearance.
        var seenTrees = Set<Int64>()
        for i in 0..<n where (i == 0 || treeIds[i] != treeIds[i - 1]) && seenTrees.insert(treeIds[i]).inserted {
            spec.roots.append(Int(encoded[i]))
        }
        // Leaf weights, in attribute order per leaf (counting sort by leaf).
        let leaves = Int(leafCount)
        var leafOf = [Int32](repeating: -1, count: m)
        var counts = [Int](repeating: 0, count: leaves + 1)
        for j in 0..<m {
            guard let i = lookup.index(tree: Int(weights.treeIds[j]), node: Int(weights.nodeIds[j])) else {
                throw ctx.attributeError(
                    weightNames.nodes,
                    "entry \(j) refers to node \(weights.nodeIds[j]) of tree \(weights.treeIds[j]), which does not exist"
                )
            }
            let target = Int(weights.ids[j])
            guard target >= 0, target < width else {
                throw ctx.attributeError(weightNames.ids, "entry \(j) is \(target), expected a value in 0..<\(width)")
            }
            // Weights on branch nodes are never reached (ONNX Runtime ignores them too).
            guard modeCodes[i] == 6 else { continue }
            leafOf[j] = ~encoded[i]
            counts[Int(~encoded[i]) + 1] += 1
        }
        for l in 0..<leaves { counts[l + 1] += counts[l] }
        spec.leafStart = counts
        var fill = counts
        spec.leafTargets = [Int](repeating: 0, count: counts[leaves])
        spec.leafWeights = [Double](repeating: 0, count: counts[leaves])
        for j in 0..<m where leafOf[j] >= 0 {
            let leaf = Int(leafOf[j])
            let slot = fill[leaf]
            spec.leafTargets[slot] = Int(weights.ids[j])
            spec.leafWeights[slot] = weights.weights[j]
            fill[leaf] = slot + 1
        }
        return (spec, values.isDouble)
    }

    /// The code of a legacy `nodes_modes` entry from its UTF-8 bytes: 0...5 for the branch modes
    /// (LEQ, LT, GTE, GT, EQ, NEQ), 6 for LEAF, -1 for anything else.
    static func legacyModeCode(_ bytes: UnsafeRawBufferPointer) -> Int8 {
        func byte(_ i: Int) -> UInt8 { bytes.load(fromByteOffset: i, as: UInt8.self) }
        switch bytes.count {
        case 4:
            return UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)) == Self.leafWord ? 6 : -1
        case 9, 10:
            // "BRANCH_" then LT, GT, EQ (9 bytes) or LEQ, GTE, NEQ (10 bytes).
            let word = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
            guard word & 0x00FF_FFFF_FFFF_FFFF == Self.branchPrefix else { return -1 }
            let suffix = (byte(7), byte(8), bytes.count == 10 ? byte(9) : 0)
            switch suffix {
            case (0x4C, 0x45, 0x51): return 0  // LEQ
            case (0x4C, 0x54, 0): return 1  // LT
            case (0x47, 0x54, 0x45): return 2  // GTE
            case (0x47, 0x54, 0): return 3  // GT
            case (0x45, 0x51, 0): return 4  // EQ
            case (0x4E, 0x45, 0x51): return 5  // NEQ
            default: return -1
            }
        default:
            return -1
        }
    }

    /// The branch modes of legacy mode codes 0...5.
    static let legacyBranchModes: [BranchMode] = [.leq, .lt, .gte, .gt, .eq, .neq]

    /// "LEAF" as a little-endian word.
    private static var leafWord: UInt32 { 0x4641_454C }
    /// "BRANCH_" as the low 7 bytes of a little-endian word.
    private static var branchPrefix: UInt64 { 0x005F_4843_4E41_5242 }

    static func childError(_ ctx: NodeContext, _ name: String, _ tree: Int, _ node: Int, _ child: Int) -> InferenceError
    {
        if child == node {
            return ctx.attributeError(name, "node \(node) of tree \(tree) points to itself")
        }
        return ctx.attributeError(name, "node \(node) of tree \(tree) points to node \(child), which does not exist")
    }

    static func compileRegressor(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let inputType = try ctx.requireInputType(0, in: featureTypes)
        let aggregate: TreeAggregate =
            switch try ctx.string("aggregate_function", default: "SUM", oneOf: ["SUM", "AVERAGE", "MIN", "MAX"]) {
            case "AVERAGE": .average
            case "MIN": .min
            case "MAX": .max
            default: .sum
            }
        let transform = try PostTransform.parse(ctx)
        let targetIds = try ctx.int64s("target_ids", default: [])
        let targets = try ctx.int("n_targets", default: Int(clamping: min(targetIds.max() ?? 0, 1 << 40)) + 1)
        guard targets >= 1, targets <= 1 << 20 else {
            throw ctx.attributeError("n_targets", "is \(targets), expected a value in 1...\(1 << 20)")
        }
        let weights = try ctx.floatsOrTensor("target_weights") ?? ([], false)
        let base = try ctx.floatsOrTensor("base_values") ?? ([], false)
        guard base.values.isEmpty || base.values.count == targets else {
            throw ctx.attributeError("base_values", "has \(base.values.count) entries, expected 0 or \(targets)")
        }
        let legacy = LegacyWeights(
            ids: targetIds,
            nodeIds: try ctx.int64s("target_nodeids", default: []),
            treeIds: try ctx.int64s("target_treeids", default: []),
            weights: weights.values,
            isDouble: weights.isDouble
        )
        let (spec, thresholdsDouble) = try legacySpec(
            ctx,
            weights: legacy,
            weightNames: ("target_ids", "target_nodeids", "target_treeids", "target_weights"),
            width: targets
        )
        return try makeKernel(
            ctx,
            spec: spec,
            doubleFeatures: inputType == .double || thresholdsDouble,
            doubleWeights: inputType == .double || weights.isDouble || base.isDouble,
            aggregate: aggregate,
            transform: transform,
            baseValues: base.values,
            output: .regression(targets: targets),
            outputType: .float,
            labels: nil
        )
    }

    static func compileClassifier(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let inputType = try ctx.requireInputType(0, in: featureTypes)
        let transform = try PostTransform.parse(ctx)
        let stringLabels = try ctx.strings("classlabels_strings", default: [])
        let intLabels = try ctx.int64s("classlabels_int64s", default: [])
        guard stringLabels.isEmpty != intLabels.isEmpty else {
            throw ctx.attributeError(
                "classlabels_strings",
                "exactly one of classlabels_strings and classlabels_int64s must be given"
            )
        }
        let classes = max(stringLabels.count, intLabels.count)
        guard classes >= 2 else {
            throw ctx.attributeError("classlabels_int64s", "must list at least 2 classes, found \(classes)")
        }
        let classIds = try ctx.int64s("class_ids", default: [])
        let weights = try ctx.floatsOrTensor("class_weights") ?? ([], false)
        let base = try ctx.floatsOrTensor("base_values") ?? ([], false)
        guard classes <= 2 ? base.values.count <= 2 : (base.values.isEmpty || base.values.count == classes) else {
            throw ctx.attributeError(
                "base_values",
                "has \(base.values.count) entries, expected 0 or \(classes == 2 ? "1 or 2" : "\(classes)")"
            )
        }
        let legacy = LegacyWeights(
            ids: classIds,
            nodeIds: try ctx.int64s("class_nodeids", default: []),
            treeIds: try ctx.int64s("class_treeids", default: []),
            weights: weights.values,
            isDouble: weights.isDouble
        )
        let (spec, thresholdsDouble) = try legacySpec(
            ctx,
            weights: legacy,
            weightNames: ("class_ids", "class_nodeids", "class_treeids", "class_weights"),
            width: classes
        )
        let weightClasses = Set(classIds)
        let allPositive = !weights.values.contains { $0 < 0 }
        let labels: Tensor.Storage = stringLabels.isEmpty ? .int64(intLabels) : .string(stringLabels)
        return try makeKernel(
            ctx,
            spec: spec,
            doubleFeatures: inputType == .double || thresholdsDouble,
            doubleWeights: inputType == .double || weights.isDouble || base.isDouble,
            aggregate: .sum,
            transform: transform,
            baseValues: base.values,
            output: .classification(
                classes: classes,
                binaryCase: classes == 2 && weightClasses.count == 1,
                weightsAllPositive: allPositive
            ),
            outputType: .float,
            labels: labels
        )
    }

    // MARK: TreeEnsemble (opset 5)

    static func compileEnsemble(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        let inputType = try ctx.requireInputType(0, in: [.float, .double])
        let aggregate: TreeAggregate
        switch try ctx.int("aggregate_function", default: 1) {
        case 0: aggregate = .average
        case 1: aggregate = .sum
        case 2: aggregate = .min
        case 3: aggregate = .max
        case let v:
            throw ctx.attributeError("aggregate_function", "is \(v), expected 0 (AVERAGE), 1 (SUM), 2 (MIN) or 3 (MAX)")
        }
        // The specification's numbering (1 = SOFTMAX, 2 = LOGISTIC); ONNX Runtime 1.31 swaps 1 and 2.
        let transform: PostTransform
        switch try ctx.int("post_transform", default: 0) {
        case 0: transform = .none
        case 1: transform = .softmax
        case 2: transform = .logistic
        case 3: transform = .softmaxZero
        case 4: transform = .probit
        case let v:
            throw ctx.attributeError(
                "post_transform",
                "is \(v), expected 0 (NONE), 1 (SOFTMAX), 2 (LOGISTIC), 3 (SOFTMAX_ZERO) or 4 (PROBIT)"
            )
        }
        let targets = try ctx.int("n_targets")
        guard targets >= 1, targets <= 1 << 20 else {
            throw ctx.attributeError("n_targets", "is \(targets), expected a value in 1...\(1 << 20)")
        }
        func numbers(_ name: String, required: Bool = true) throws -> (values: [Double], isDouble: Bool)? {
            guard let t = try ctx.tensor(name) else {
                if required { throw ctx.attributeError(name, "is required") }
                return nil
            }
            switch t.storage {
            case .float(let v): return (v.map { Double($0) }, false)
            case .double(let v): return (v, true)
            default: throw ctx.attributeError(name, "must be a float or double tensor, found \(t.elementType)")
            }
        }
        let splits = try numbers("nodes_splits")!
        let n = splits.values.count
        let features = try ctx.int64s("nodes_featureids")
        try ctx.requireCount("nodes_featureids", features.count, n, like: "nodes_splits")
        let modeValues: [Int]
        if case .ints(let v)? = ctx.attributes["nodes_modes"] {
            modeValues = v
        } else if case .int64s(let v)? = ctx.attributes["nodes_modes"] {
            modeValues = v.map { Int(clamping: $0) }
        } else if let v = try ctx.integerTensor("nodes_modes") {
            modeValues = v
        } else {
            throw ctx.attributeError("nodes_modes", "is required")
        }
        try ctx.requireCount("nodes_modes", modeValues.count, n, like: "nodes_splits")
        let trueIds = try ctx.int64s("nodes_truenodeids")
        try ctx.requireCount("nodes_truenodeids", trueIds.count, n, like: "nodes_splits")
        let falseIds = try ctx.int64s("nodes_falsenodeids")
        try ctx.requireCount("nodes_falsenodeids", falseIds.count, n, like: "nodes_splits")
        let trueLeafs = try ctx.ints("nodes_trueleafs")
        try ctx.requireCount("nodes_trueleafs", trueLeafs.count, n, like: "nodes_splits")
        let falseLeafs = try ctx.ints("nodes_falseleafs")
        try ctx.requireCount("nodes_falseleafs", falseLeafs.count, n, like: "nodes_splits")
        let missing = try ctx.int64s("nodes_missing_value_tracks_true", default: [])
        guard missing.isEmpty || missing.count == n else {
            throw ctx.attributeError(
                "nodes_missing_value_tracks_true",
                "has \(missing.count) entries, expected 0 or \(n)"
            )
        }
        let leafTargets = try ctx.ints("leaf_targetids")
        let leafWeights = try numbers("leaf_weights")!
        try ctx.requireCount("leaf_weights", leafWeights.values.count, leafTargets.count, like: "leaf_targetids")
        let roots = try ctx.ints("tree_roots")
        let members = try numbers("membership_values", required: false)

        var spec = ForestSpec()
        spec.leafCount = leafTargets.count
        var memberIterator = (members?.values ?? []).makeIterator()
        for i in 0..<n {
            let mode: BranchMode
            switch modeValues[i] {
            case 0...6: mode = BranchMode(rawValue: UInt8(modeValues[i]))!
            default:
                throw ctx.attributeError("nodes_modes", "entry \(i) is \(modeValues[i]), expected a mode in 0...6")
            }
            guard features[i] >= 0 else {
                throw ctx.attributeError("nodes_featureids", "entry \(i) is \(features[i]), expected >= 0")
            }
            if mode == .member {
                guard members != nil else {
                    throw ctx.attributeError("membership_values", "is required by BRANCH_MEMBER node \(i)")
                }
                var set: [Double] = []
                while let v = memberIterator.next(), !v.isNaN { set.append(v) }
                spec.memberSets[spec.features.count] = set
            }
            func child(_ id: Int64, _ leaf: Int, _ name: String) throws -> Int {
                if leaf != 0 {
                    guard id >= 0, id < leafTargets.count else {
                        throw ctx.attributeError(
                            name,
                            "entry \(i) is leaf \(id), out of range 0..<\(leafTargets.count)"
                        )
                    }
                    return ~Int(id)
                }
                guard id >= 0, id < n else {
                    throw ctx.attributeError(name, "entry \(i) is node \(id), out of range 0..<\(n)")
                }
                guard id != i else { throw ctx.attributeError(name, "node \(i) points to itself") }
                return Int(id)
            }
            spec.features.append(Int(features[i]))
            spec.modes.append(mode)
            spec.thresholds.append(mode == .member ? 0 : splits.values[i])
            spec.missingTrue.append(missing.isEmpty ? false : missing[i] == 1)
            spec.trueChild.append(try child(trueIds[i], trueLeafs[i], "nodes_truenodeids"))
            spec.falseChild.append(try child(falseIds[i], falseLeafs[i], "nodes_falsenodeids"))
        }
        for (t, r) in roots.enumerated() {
            guard r >= 0, r < n else {
                throw ctx.attributeError("tree_roots", "entry \(t) is \(r), out of range 0..<\(n)")
            }
            spec.roots.append(r)
        }
        for (j, target) in leafTargets.enumerated() {
            guard target >= 0, target < targets else {
                throw ctx.attributeError(
                    "leaf_targetids",
                    "entry \(j) is \(target), expected a value in 0..<\(targets)"
                )
            }
            spec.leafTargets.append(target)
            spec.leafWeights.append(leafWeights.values[j])
            spec.leafStart.append(j + 1)
        }
        return try makeKernel(
            ctx,
            spec: spec,
            doubleFeatures: inputType == .double || splits.isDouble,
            doubleWeights: inputType == .double || leafWeights.isDouble,
            aggregate: aggregate,
            transform: transform,
            baseValues: [],
            output: .regression(targets: targets),
            outputType: inputType,
            labels: nil
        )
    }

    // MARK: Kernel

    static func makeKernel(
        _ ctx: NodeContext,
        spec: ForestSpec,
        doubleFeatures: Bool,
        doubleWeights: Bool,
        aggregate: TreeAggregate,
        transform: PostTransform,
        baseValues: [Double],
        output: ForestOutput,
        outputType: ElementType,
        labels: Tensor.Storage?
    ) throws -> CompiledKernel {
        let label = ctx.label
        let fail = { (message: String) in InferenceError(.invalidAttribute, "\(label): \(message)") }
        func build<T: TreeFeature, A: BinaryFloatingPoint & Sendable>(
            _: T.Type,
            _: A.Type
        ) throws -> ForestEvaluator<T, A> {
            ForestEvaluator<T, A>(
                forest: try CompiledForest<T>(spec, fail: fail),
                leaves: LeafTable<A>(spec),
                aggregate: aggregate,
                transform: transform,
                baseValues: baseValues.map { A($0) },
                output: output
            )
        }
        let evaluator: AnyForestEvaluator =
            switch (doubleFeatures, doubleWeights) {
            case (false, false): .floatFloat(try build(Float.self, Float.self))
            case (true, false): .doubleFloat(try build(Double.self, Float.self))
            case (false, true): .floatDouble(try build(Float.self, Double.self))
            case (true, true): .doubleDouble(try build(Double.self, Double.self))
            }
        let kernel = TreeEnsembleKernel(evaluator: evaluator, op: label, outputType: outputType, labels: labels)
        var outputs: [ValueType] = [.tensor(outputType)]
        if let labels {
            outputs = [.tensor(labels.elementType), .tensor(.float)]
        }
        return CompiledKernel(kernel, outputs: outputs)
    }
}

/// A compiled ensemble with its concrete feature and accumulation types.
enum AnyForestEvaluator: Sendable {
    case floatFloat(ForestEvaluator<Float, Float>)
    case doubleFloat(ForestEvaluator<Double, Float>)
    case floatDouble(ForestEvaluator<Float, Double>)
    case doubleDouble(ForestEvaluator<Double, Double>)
}

/// Finds a node's position from its (tree id, node id): a dense table when node ids are small (as exporters
/// write them), a dictionary otherwise.
struct NodeLookup {
    private var trees: [Int: (offset: Int, count: Int)] = [:]
    /// `trees` as an array indexed by `tree - minTree` when tree ids are dense.
    private var treeSlots: [(offset: Int, count: Int)] = []
    private var minTree = 0
    private var table: [Int32] = []
    private var map: [Int64: Int] = [:]
    private var dense = true

    init(treeIds: [Int64], nodeIds: [Int64], ctx: NodeContext) throws {
        let n = treeIds.count
        var maxNode: [Int: Int] = [:]
        for i in 0..<n {
            if nodeIds[i] < 0 || nodeIds[i] > Int64(Int32.max) || treeIds[i] < Int64(Int32.min)
                || treeIds[i] > Int64(Int32.max)
            {
                throw ctx.attributeError(
                    "nodes_nodeids",
                    "entry \(i) (tree \(treeIds[i]), node \(nodeIds[i])) is out of range"
                )
            }
            // Nodes come grouped by tree: update the dictionary once per run of one tree.
            if i + 1 == n || treeIds[i + 1] != treeIds[i] {
                var top = Int(nodeIds[i])
                var j = i
                while j > 0 && treeIds[j - 1] == treeIds[i] {
                    j -= 1
                    top = Swift.max(top, Int(nodeIds[j]))
                }
                maxNode[Int(treeIds[i])] = Swift.max(maxNode[Int(treeIds[i]), default: -1], top)
            }
        }
        var total = 0
        for (tree, top) in maxNode.sorted(by: { $0.key < $1.key }) {
            self.trees[tree] = (total, top + 1)
            total += top + 1
        }
        self.dense = total <= 4 * n + 1024
        if let lo = maxNode.keys.min(), let hi = maxNode.keys.max(), hi - lo < 4 * maxNode.count + 64 {
            self.minTree = lo
            self.treeSlots = [(offset: Int, count: Int)](repeating: (0, 0), count: hi - lo + 1)
            for (tree, t) in self.trees { self.treeSlots[tree - lo] = t }
        }
        if self.dense {
            var table = [Int32](repeating: -1, count: total)
            // Nodes come grouped by tree: look the tree up once per run.
            var runTree: Int64 = 0
            var run: (offset: Int, count: Int)? = nil
            for i in 0..<n {
                if i == 0 || treeIds[i] != runTree {
                    runTree = treeIds[i]
                    run = self.trees[Int(runTree)]
                }
                guard let t = run else { continue }
                let slot = t.offset + Int(nodeIds[i])
                guard table[slot] < 0 else {
                    throw ctx.attributeError(
                        "nodes_nodeids",
                        "node \(nodeIds[i]) of tree \(treeIds[i]) is defined more than once"
                    )
                }
                table[slot] = Int32(i)
            }
            self.table = table
        } else {
            var map = [Int64: Int](minimumCapacity: n)
            for i in 0..<n {
                guard map.updateValue(i, forKey: treeIds[i] << 32 | nodeIds[i]) == nil else {
                    throw ctx.attributeError(
                        "nodes_nodeids",
                        "node \(nodeIds[i]) of tree \(treeIds[i]) is defined more than once"
                    )
                }
            }
            self.map = map
        }
    }

    /// The position of node `node` of tree `tree` in the `nodes_*` lists.
    func index(tree: Int, node: Int) -> Int? {
        guard node >= 0, node <= Int(Int32.max) else { return nil }
        if self.dense {
            let t: (offset: Int, count: Int)
            if !self.treeSlots.isEmpty {
                let slot = tree &- self.minTree
                guard slot >= 0, slot < self.treeSlots.count else { return nil }
                t = self.treeSlots[slot]
            } else {
                guard let found = self.trees[tree] else { return nil }
                t = found
            }
            guard node < t.count else { return nil }
            let i = self.table[t.offset + node]
            return i < 0 ? nil : Int(i)
        }
        guard tree >= Int(Int32.min), tree <= Int(Int32.max) else { return nil }
        return self.map[Int64(tree) << 32 | Int64(node)]
    }
}

/// Runs a compiled tree ensemble.
///
/// Not generic itself: the `switch` in `run` calls the generic evaluation with concrete types so that it is
/// specialised (a generic kernel would be called through its unspecialised protocol witness).
struct TreeEnsembleKernel: Kernel {
    let evaluator: AnyForestEvaluator
    let op: String
    let outputType: ElementType
    /// Class labels for a classifier (`nil` for regression).
    let labels: Tensor.Storage?
    /// The output shapes of a one-row call, built once (`[1, width]` and `[1]`).
    let oneRowShapes: (scores: [Int], labels: [Int])

    init(evaluator: AnyForestEvaluator, op: String, outputType: ElementType, labels: Tensor.Storage?) {
        self.evaluator = evaluator
        self.op = op
        self.outputType = outputType
        self.labels = labels
        let width: Int =
            switch evaluator {
            case .floatFloat(let e): e.width
            case .doubleFloat(let e): e.width
            case .floatDouble(let e): e.width
            case .doubleDouble(let e): e.width
            }
        self.oneRowShapes = ([1, width], [1])
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws -> [Value] {
        let x = try inputs.tensor(0)
        switch self.evaluator {
        case .floatFloat(let e): return try self.run(e, try FeatureMatrix.floats(x, op: self.op), context)
        case .doubleFloat(let e): return try self.run(e, try FeatureMatrix.doubles(x, op: self.op), context)
        case .floatDouble(let e): return try self.run(e, try FeatureMatrix.floats(x, op: self.op), context)
        case .doubleDouble(let e): return try self.run(e, try FeatureMatrix.doubles(x, op: self.op), context)
        }
    }

    @inline(__always)
    private func run<T: TreeFeature, A: BinaryFloatingPoint & Sendable>(
        _ evaluator: ForestEvaluator<T, A>,
        _ matrix: FeatureMatrix<T>,
        _ context: ExecutionContext
    ) throws -> [Value] {
        let shape = matrix.rows == 1 ? self.oneRowShapes.scores : [matrix.rows, evaluator.width]
        if self.outputType == .double {
            let r = try evaluator.run(
                matrix,
                context: context,
                op: self.op,
                convert: { Double($0) },
                convertFloat: { Double($0) }
            )
            return [.tensor(Tensor(unchecked: shape, elements: r.scores))]
        }
        let r = try evaluator.run(matrix, context: context, op: self.op, convert: { Float($0) }, convertFloat: { $0 })
        let scores = Tensor(unchecked: shape, elements: r.scores)
        guard let labels = self.labels else { return [.tensor(scores)] }
        let labelTensor: Tensor
        let labelShape = matrix.rows == 1 ? self.oneRowShapes.labels : [matrix.rows]
        switch labels {
        case .int64(let names):
            // Label indices become the labels in place (no second array).
            var values = r.labels
            for i in values.indices { values[i] = names[Int(values[i])] }
            labelTensor = Tensor(unchecked: labelShape, elements: values)
        case .string(let names):
            labelTensor = Tensor(unchecked: labelShape, elements: r.labels.map { names[Int($0)] })
        default: throw InferenceError(.runtimeFailure, "\(self.op): unsupported label type")
        }
        return [.tensor(labelTensor), .tensor(scores)]
    }
}

/// The feature types trees are evaluated in.
protocol TreeFeature: BinaryFloatingPoint, Sendable {
    /// The input converted to this type.
    static func featureMatrix(_ tensor: Tensor, op: String) throws -> FeatureMatrix<Self>
}

extension Float: TreeFeature {
    static func featureMatrix(_ tensor: Tensor, op: String) throws -> FeatureMatrix<Float> {
        try FeatureMatrix.floats(tensor, op: op)
    }
}

extension Double: TreeFeature {
    static func featureMatrix(_ tensor: Tensor, op: String) throws -> FeatureMatrix<Double> {
        try FeatureMatrix.doubles(tensor, op: op)
    }
}
