/// The comparison a branch node makes between a feature and its threshold (or set, for `member`).
package enum BranchMode: UInt8, Sendable {
    case leq = 0
    case lt = 1
    case gte = 2
    case gt = 3
    case eq = 4
    case neq = 5
    case member = 6
}

/// How the leaf weights of the trees are combined for one target.
package enum TreeAggregate: Sendable {
    case sum
    case average
    case min
    case max
}

/// A tree ensemble in a normalised form that the attribute parsers of `TreeEnsembleRegressor`,
/// `TreeEnsembleClassifier` and `TreeEnsemble` produce and ``CompiledForest`` validates and flattens.
///
/// Children and roots are encoded: a value `>= 0` is a branch node index, a value `< 0` is `~leafIndex`.
struct ForestSpec {
    var features: [Int] = []
    var modes: [BranchMode] = []
    var thresholds: [Double] = []
    var missingTrue: [Bool] = []
    var trueChild: [Int] = []
    var falseChild: [Int] = []
    /// The member set of each `member` branch node, by node index.
    var memberSets: [Int: [Double]] = [:]
    var roots: [Int] = []
    var leafCount = 0
    /// Leaf `l`'s weights are entries `leafStart[l]..<leafStart[l + 1]` of `leafTargets` / `leafWeights`.
    var leafStart: [Int] = [0]
    var leafTargets: [Int] = []
    var leafWeights: [Double] = []
}

/// One branch node of a flattened tree: 16 bytes for float thresholds.
///
/// `left` / `right` are the true / false children: `>= 0` a node index, `< 0` the complement of a leaf index.
/// When the ensemble tracks missing values, a negative `feature` means "NaN goes to the true branch" and
/// the feature index is `feature & Int32.max`.
struct TreeNode<T: Sendable>: Sendable {
    var feature: Int32
    var left: Int32
    var right: Int32
    var threshold: T
}

protocol SplitTest {
    static func test<T: BinaryFloatingPoint>(_ x: T, _ threshold: T) -> Bool
}
enum LEQTest: SplitTest {
    @inline(__always) static func test<T: BinaryFloatingPoint>(_ x: T, _ t: T) -> Bool { x <= t }
}
enum LTTest: SplitTest {
    @inline(__always) static func test<T: BinaryFloatingPoint>(_ x: T, _ t: T) -> Bool { x < t }
}
enum GTETest: SplitTest {
    @inline(__always) static func test<T: BinaryFloatingPoint>(_ x: T, _ t: T) -> Bool { x >= t }
}
enum GTTest: SplitTest {
    @inline(__always) static func test<T: BinaryFloatingPoint>(_ x: T, _ t: T) -> Bool { x > t }
}
enum EQTest: SplitTest {
    @inline(__always) static func test<T: BinaryFloatingPoint>(_ x: T, _ t: T) -> Bool { x == t }
}
enum NEQTest: SplitTest {
    @inline(__always) static func test<T: BinaryFloatingPoint>(_ x: T, _ t: T) -> Bool { x != t }
}

protocol MissingPolicy {
    static var tracksMissing: Bool { get }
}
enum IgnoreMissing: MissingPolicy { static var tracksMissing: Bool { false } }
enum TrackMissing: MissingPolicy { static var tracksMissing: Bool { true } }

/// The flattened, validated trees of an ensemble, evaluated with feature type `T`.
struct CompiledForest<T: BinaryFloatingPoint & Sendable>: Sendable {
    let nodes: [TreeNode<T>]
    let roots: [Int32]
    /// The mode shared by every branch node, or `nil` when modes differ (or sets are used).
    let uniformMode: BranchMode?
    let tracksMissing: Bool
    /// Per-node modes, only for the general path.
    let modes: [UInt8]
    /// Per-node index into `sets` for member nodes (general path only).
    let setIndex: [Int32]
    let sets: [[T]]
    /// The number of feature columns the input needs.
    let requiredColumns: Int

    /// Validates `spec` (indices in range, no cycles) and flattens it in depth-first order.
    init(_ spec: ForestSpec, fail: (String) -> InferenceError) throws {
        let n = spec.features.count
        guard spec.leafCount <= Int(Int32.max), n <= Int(Int32.max) else { throw fail("has too many nodes") }
        func check(_ encoded: Int, _ what: @autoclosure () -> String) throws {
            if encoded >= 0 ? encoded < n : ~encoded < spec.leafCount { return }
            if encoded >= 0 {
                guard encoded < n else { throw fail("\(what()) refers to node \(encoded), out of range 0..<\(n)") }
            } else {
                guard ~encoded < spec.leafCount else {
                    throw fail("\(what()) refers to leaf \(~encoded), out of range 0..<\(spec.leafCount)")
                }
            }
        }
        for i in 0..<n {
            try check(spec.trueChild[i], "the true branch of node \(i)")
            try check(spec.falseChild[i], "the false branch of node \(i)")
            guard spec.features[i] >= 0, spec.features[i] < Int(Int32.max) else {
                throw fail("node \(i) has invalid feature id \(spec.features[i])")
            }
        }
        for (t, r) in spec.roots.enumerated() { try check(r, "the root of tree \(t)") }

        // Depth-first preorder numbering from every root, detecting cycles (state 1 = on the current path).
        var newIndex = [Int32](repeating: -1, count: n)
        var state = [UInt8](repeating: 0, count: n)
        var order: [Int] = []
        order.reserveCapacity(n)
        var stack: [(node: Int, phase: UInt8)] = []
        for root in spec.roots where root >= 0 {
            if state[root] == 2 { continue }
            stack.append((root, 0))
            while let top = stack.popLast() {
                let v = top.node
                if top.phase == 1 {
                    state[v] = 2
                    continue
                }
                if state[v] == 2 { continue }
                if state[v] == 1 { throw fail("the trees contain a cycle through node \(v)") }
                state[v] = 1
                newIndex[v] = Int32(order.count)
                order.append(v)
                stack.append((v, 1))
                // Push false first so the true child is numbered right after its parent.
                let f = spec.falseChild[v]
                let t = spec.trueChild[v]
                if f >= 0 {
                    if state[f] == 1 { throw fail("the trees contain a cycle through node \(f)") }
                    if state[f] == 0 { stack.append((f, 0)) }
                }
                if t >= 0 {
                    if state[t] == 1 { throw fail("the trees contain a cycle through node \(t)") }
                    if state[t] == 0 { stack.append((t, 0)) }
                }
            }
        }
        let renumbered = newIndex
        func remap(_ encoded: Int) -> Int32 { encoded >= 0 ? renumbered[encoded] : Int32(encoded) }

        // A node that sends NaN to its true branch with LEQ / LT / GTE / GT is the complementary comparison
        // with its children swapped (`v <= t || isnan(v)` is `!(v > t)`). LightGBM and XGBoost mark every
        // node this way: rewriting them keeps one comparison for the whole ensemble and drops the NaN test.
        func flipped(_ v: Int) -> BranchMode? {
            guard spec.missingTrue[v] else { return spec.modes[v] }
            switch spec.modes[v] {
            case .leq: return .gt
            case .lt: return .gte
            case .gte: return .lt
            case .gt: return .leq
            case .neq: return .neq  // NaN != t is already true.
            default: return nil
            }
        }
        var firstMode: BranchMode? = nil
        var mixed = false
        var tracks = false
        var firstFlipped: BranchMode? = nil
        var flipMixed = false
        for v in order {
            let mode = spec.modes[v]
            if firstMode == nil { firstMode = mode } else if firstMode != mode { mixed = true }
            if spec.missingTrue[v] { tracks = true }
            if let f = flipped(v) {
                if firstFlipped == nil { firstFlipped = f } else if firstFlipped != f { flipMixed = true }
            } else {
                flipMixed = true
            }
        }
        let flip = tracks && !flipMixed && firstFlipped != .member
        if flip {
            firstMode = firstFlipped
            mixed = false
            tracks = false
        }
        let uniform: BranchMode? = mixed || firstMode == .member ? nil : (firstMode ?? .leq)
        var nodes: [TreeNode<T>] = []
        nodes.reserveCapacity(order.count)
        var modes: [UInt8] = []
        var setIndex: [Int32] = []
        var sets: [[T]] = []
        var maxFeature = -1
        for v in order {
            var feature = Int32(spec.features[v])
            maxFeature = Swift.max(maxFeature, spec.features[v])
            if tracks && spec.missingTrue[v] { feature |= Int32.min }
            let swap = flip && spec.missingTrue[v] && spec.modes[v] != .neq
            nodes.append(
                TreeNode(
                    feature: feature,
                    left: remap(swap ? spec.falseChild[v] : spec.trueChild[v]),
                    right: remap(swap ? spec.trueChild[v] : spec.falseChild[v]),
                    threshold: T(spec.thresholds[v])
                )
            )
            if uniform == nil {
                modes.append(spec.modes[v].rawValue)
                if spec.modes[v] == .member {
                    setIndex.append(Int32(sets.count))
                    sets.append((spec.memberSets[v] ?? []).map { T($0) })
                } else {
                    setIndex.append(-1)
                }
            }
        }
        self.nodes = nodes
        self.roots = spec.roots.map(remap)
        self.uniformMode = uniform
        self.tracksMissing = tracks
        self.modes = modes
        self.setIndex = setIndex
        self.sets = sets
        self.requiredColumns = maxFeature + 1
    }

    /// Writes the leaf that the tree rooted at `root` reaches for each of `count` rows (`x`, `x + columns`, …)
    /// into `out`. `nodes` is the base of ``nodes`` (nil when there are no branch nodes).
    @inline(__always)
    func leaves(
        root: Int32,
        nodes: UnsafePointer<TreeNode<T>>?,
        count: Int,
        x: UnsafePointer<T>,
        columns: Int,
        out: UnsafeMutablePointer<Int32>
    ) {
        guard let np = nodes, root >= 0 else {
            // The tree is a single leaf.
            for k in 0..<count { out[k] = ~root }
            return
        }
        switch (self.uniformMode, self.tracksMissing) {
        case (.leq?, false): Self.walk(np, root, count, x, columns, out, LEQTest.self, IgnoreMissing.self)
        case (.leq?, true): Self.walk(np, root, count, x, columns, out, LEQTest.self, TrackMissing.self)
        case (.lt?, false): Self.walk(np, root, count, x, columns, out, LTTest.self, IgnoreMissing.self)
        case (.lt?, true): Self.walk(np, root, count, x, columns, out, LTTest.self, TrackMissing.self)
        case (.gte?, false): Self.walk(np, root, count, x, columns, out, GTETest.self, IgnoreMissing.self)
        case (.gte?, true): Self.walk(np, root, count, x, columns, out, GTETest.self, TrackMissing.self)
        case (.gt?, false): Self.walk(np, root, count, x, columns, out, GTTest.self, IgnoreMissing.self)
        case (.gt?, true): Self.walk(np, root, count, x, columns, out, GTTest.self, TrackMissing.self)
        case (.eq?, false): Self.walk(np, root, count, x, columns, out, EQTest.self, IgnoreMissing.self)
        case (.eq?, true): Self.walk(np, root, count, x, columns, out, EQTest.self, TrackMissing.self)
        case (.neq?, false): Self.walk(np, root, count, x, columns, out, NEQTest.self, IgnoreMissing.self)
        case (.neq?, true): Self.walk(np, root, count, x, columns, out, NEQTest.self, TrackMissing.self)
        default:
            for k in 0..<count { out[k] = self.walkGeneral(np, root, x + k &* columns) }
        }
    }

    /// Writes the leaf each of the `treeCount` trees reaches for one row into `out[tree]` (the mode dispatch
    /// happens once for all trees).
    @inline(__always)
    func leavesOfRow(
        _ row: UnsafePointer<T>,
        roots: UnsafePointer<Int32>,
        treeCount: Int,
        nodes: UnsafePointer<TreeNode<T>>?,
        out: UnsafeMutablePointer<Int32>
    ) {
        guard let np = nodes else {
            for t in 0..<treeCount { out[t] = ~roots[t] }
            return
        }
        switch (self.uniformMode, self.tracksMissing) {
        case (.leq?, false): Self.walkTrees(np, roots, treeCount, row, out, LEQTest.self, IgnoreMissing.self)
        case (.leq?, true): Self.walkTrees(np, roots, treeCount, row, out, LEQTest.self, TrackMissing.self)
        case (.lt?, false): Self.walkTrees(np, roots, treeCount, row, out, LTTest.self, IgnoreMissing.self)
        case (.lt?, true): Self.walkTrees(np, roots, treeCount, row, out, LTTest.self, TrackMissing.self)
        case (.gte?, false): Self.walkTrees(np, roots, treeCount, row, out, GTETest.self, IgnoreMissing.self)
        case (.gte?, true): Self.walkTrees(np, roots, treeCount, row, out, GTETest.self, TrackMissing.self)
        case (.gt?, false): Self.walkTrees(np, roots, treeCount, row, out, GTTest.self, IgnoreMissing.self)
        case (.gt?, true): Self.walkTrees(np, roots, treeCount, row, out, GTTest.self, TrackMissing.self)
        case (.eq?, false): Self.walkTrees(np, roots, treeCount, row, out, EQTest.self, IgnoreMissing.self)
        case (.eq?, true): Self.walkTrees(np, roots, treeCount, row, out, EQTest.self, TrackMissing.self)
        case (.neq?, false): Self.walkTrees(np, roots, treeCount, row, out, NEQTest.self, IgnoreMissing.self)
        case (.neq?, true): Self.walkTrees(np, roots, treeCount, row, out, NEQTest.self, TrackMissing.self)
        default:
            for t in 0..<treeCount { out[t] = roots[t] < 0 ? ~roots[t] : self.walkGeneral(np, roots[t], row) }
        }
    }

    @inline(__always)
    private static func walkTrees<S: SplitTest, M: MissingPolicy>(
        _ nodes: UnsafePointer<TreeNode<T>>,
        _ roots: UnsafePointer<Int32>,
        _ treeCount: Int,
        _ row: UnsafePointer<T>,
        _ out: UnsafeMutablePointer<Int32>,
        _: S.Type,
        _: M.Type
    ) {
        for t in 0..<treeCount {
            out[t] = Self.leaf(nodes, roots[t], row, S.self, M.self)
        }
    }

    /// The leaf one row reaches from `root`, for ensembles whose branch nodes all use one comparison.
    @inline(__always)
    private static func leaf<S: SplitTest, M: MissingPolicy>(
        _ nodes: UnsafePointer<TreeNode<T>>,
        _ root: Int32,
        _ row: UnsafePointer<T>,
        _: S.Type,
        _: M.Type
    ) -> Int32 {
        var i = root
        while i >= 0 {
            let node = nodes[Int(i)]
            let goTrue: Bool
            if M.tracksMissing {
                let v = row[Int(node.feature & Int32.max)]
                goTrue = S.test(v, node.threshold) || (node.feature < 0 && v.isNaN)
            } else {
                goTrue = S.test(row[Int(node.feature)], node.threshold)
            }
            // A real (predicted) branch rather than a select: the CPU runs ahead on the predicted path
            // instead of waiting for every comparison (the compiler turns a ternary into a dependent load).
            if _fastPath(goTrue) {
                i = node.left
            } else {
                i = node.right
            }
        }
        return ~i
    }

    /// The specialised walk for ensembles whose branch nodes all use one comparison.
    @inline(__always)
    private static func walk<S: SplitTest, M: MissingPolicy>(
        _ nodes: UnsafePointer<TreeNode<T>>,
        _ root: Int32,
        _ count: Int,
        _ x: UnsafePointer<T>,
        _ columns: Int,
        _ out: UnsafeMutablePointer<Int32>,
        _: S.Type,
        _: M.Type
    ) {
        var row = x
        for k in 0..<count {
            out[k] = Self.leaf(nodes, root, row, S.self, M.self)
            row += columns
        }
    }

    private func walkGeneral(_ nodes: UnsafePointer<TreeNode<T>>, _ root: Int32, _ row: UnsafePointer<T>) -> Int32 {
        var i = root
        while i >= 0 {
            let node = nodes[Int(i)]
            let v = row[Int(node.feature & Int32.max)]
            let t = node.threshold
            let result: Bool
            switch self.modes[Int(i)] {
            case 0: result = v <= t
            case 1: result = v < t
            case 2: result = v >= t
            case 3: result = v > t
            case 4: result = v == t
            case 5: result = v != t
            default: result = self.sets[Int(self.setIndex[Int(i)])].contains(v)
            }
            i = result || (node.feature < 0 && v.isNaN) ? node.left : node.right
        }
        return ~i
    }
}

/// The leaf weights of an ensemble in the accumulation type `A`.
struct LeafTable<A: BinaryFloatingPoint & Sendable>: Sendable {
    /// The first weight of each leaf (0 when it has none), for the single-target fast path.
    let first: [A]
    let start: [Int32]
    let targets: [Int32]
    let weights: [A]
    /// The target of every leaf when each leaf has exactly one weight and all weights share one target
    /// (binary classifiers), else -1: rows then sum `first` in a register.
    let uniformTarget: Int32

    init(_ spec: ForestSpec) {
        var first = [A](repeating: 0, count: spec.leafCount)
        for l in 0..<spec.leafCount where spec.leafStart[l] < spec.leafStart[l + 1] {
            first[l] = A(spec.leafWeights[spec.leafStart[l]])
        }
        self.first = first
        self.start = spec.leafStart.map { Int32($0) }
        self.targets = spec.leafTargets.map { Int32($0) }
        self.weights = spec.leafWeights.map { A($0) }
        var uniform = spec.leafTargets.first.map { Int32($0) } ?? -1
        for l in 0..<spec.leafCount where spec.leafStart[l + 1] - spec.leafStart[l] != 1 { uniform = -1 }
        if uniform >= 0, spec.leafTargets.contains(where: { $0 != Int(uniform) }) { uniform = -1 }
        self.uniformTarget = uniform
    }
}

/// How the per-target sums of a row become the operator's outputs.
enum ForestOutput: Sendable {
    /// `TreeEnsembleRegressor` / `TreeEnsemble`: one score per target.
    case regression(targets: Int)
    /// `TreeEnsembleClassifier`: a label index and one score per class.
    case classification(classes: Int, binaryCase: Bool, weightsAllPositive: Bool)
}

/// Evaluates a compiled ensemble over the rows of a feature matrix, tree-major over blocks of rows.
struct ForestEvaluator<T: BinaryFloatingPoint & Sendable, A: BinaryFloatingPoint & Sendable>: Sendable {
    let forest: CompiledForest<T>
    let leaves: LeafTable<A>
    let aggregate: TreeAggregate
    let transform: PostTransform
    let baseValues: [A]
    let output: ForestOutput

    static var blockRows: Int { 512 }

    var width: Int {
        switch self.output {
        case .regression(let t): t
        case .classification(let c, _, _): c
        }
    }

    /// Computes scores (`[rows, width]`, converted with `convert`) and, for classifiers, label indices.
    func run<O>(
        _ x: FeatureMatrix<T>,
        context: ExecutionContext,
        op: String,
        convert: (A) -> O,
        convertFloat: (Float) -> O
    ) throws -> (scores: [O], labels: [Int64]) where O: BinaryFloatingPoint {
        guard x.columns >= self.forest.requiredColumns else {
            throw InferenceError(
                .runtimeFailure,
                "\(op): input X has \(x.columns) features, the trees use feature index \(self.forest.requiredColumns - 1)"
            )
        }
        let width = self.width
        // Checked without building a shape array (this runs once per call, also for one row).
        let (product, overflow) = x.rows.multipliedReportingOverflow(by: width)
        let total =
            !overflow && product <= Tensor.elementLimit ? product : try Tensor.elementCount(of: [x.rows, width])
        var scores = [O](repeating: 0, count: total)
        var labels = [Int64](
            repeating: 0,
            count: {
                if case .classification = self.output { return x.rows }
                return 0
            }()
        )
        let rows = x.rows
        let columns = x.columns
        guard rows > 0 else { return (scores, labels) }
        // An empty feature matrix is only possible when every tree is a single leaf (nothing is read).
        let values = x.values.isEmpty ? [T(0)] : x.values
        values.withUnsafeBufferPointer { xb in
            scores.withUnsafeMutableBufferPointer { sb in
                labels.withUnsafeMutableBufferPointer { lb in
                    guard let xp = xb.baseAddress, let sp = sb.baseAddress else { return }
                    let lp = lb.baseAddress
                    context.parallelChunks(rows, minimumPerThread: 16) { range in
                        self.evaluate(range, xp, columns, sp, lp, convert, convertFloat)
                    }
                }
            }
        }
        return (scores, labels)
    }

    private func evaluate<O: BinaryFloatingPoint>(
        _ range: Range<Int>,
        _ x: UnsafePointer<T>,
        _ columns: Int,
        _ scores: UnsafeMutablePointer<O>,
        _ labels: UnsafeMutablePointer<Int64>?,
        _ convert: (A) -> O,
        _ convertFloat: (Float) -> O
    ) {
        let width = self.width
        // Rows per block: trees are walked tree-major over a block, so each tree's nodes stay in cache.
        let block = Swift.max(1, Swift.min(Self.blockRows, range.count, 65536 / width))
        let treeCount = self.forest.roots.count
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: block) { leafBuffer in
            withUnsafeTemporaryAllocation(of: A.self, capacity: block * width) { accBuffer in
                withUnsafeTemporaryAllocation(of: Bool.self, capacity: block * width) { hasBuffer in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(width, 2)) { temp in
                        guard let leafBuffer = leafBuffer.baseAddress, let acc = accBuffer.baseAddress,
                            let has = hasBuffer.baseAddress
                        else { return }
                        self.withPointers { p in
                            var lo = range.lowerBound
                            while lo < range.upperBound {
                                let hi = Swift.min(range.upperBound, lo + block)
                                let count = hi - lo
                                acc.initialize(repeating: 0, count: count * width)
                                has.initialize(repeating: false, count: count * width)
                                if count <= Self.rowByRowLimit {
                                    // Few rows: all trees for one row at a time, one mode dispatch per row.
                                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: treeCount) { treeLeaves in
                                        guard let treeLeaves = treeLeaves.baseAddress else { return }
                                        for r in 0..<count {
                                            self.forest.leavesOfRow(
                                                x + (lo + r) * columns,
                                                roots: p.roots,
                                                treeCount: treeCount,
                                                nodes: p.nodes,
                                                out: treeLeaves
                                            )
                                            self.accumulateRow(r, treeCount, treeLeaves, width, p, acc, has)
                                        }
                                    }
                                } else {
                                    for t in 0..<treeCount {
                                        self.forest.leaves(
                                            root: p.roots[t],
                                            nodes: p.nodes,
                                            count: count,
                                            x: x + lo * columns,
                                            columns: columns,
                                            out: leafBuffer
                                        )
                                        if case .regression(1) = self.output {
                                            self.accumulateSingle(count, leafBuffer, p.first, acc, has)
                                        } else {
                                            self.accumulateSparse(count, leafBuffer, width, p, acc, has)
                                        }
                                    }
                                }
                                for r in 0..<count {
                                    let row = lo + r
                                    let out = scores + row * width
                                    switch self.output {
                                    case .regression(let targets):
                                        self.finalizeRegression(
                                            acc + r * width,
                                            has + r * width,
                                            targets,
                                            treeCount,
                                            out,
                                            temp,
                                            convert,
                                            convertFloat
                                        )
                                    case .classification(let classes, let binaryCase, let allPositive):
                                        labels?[row] = Int64(
                                            self.finalizeClassification(
                                                acc + r * width,
                                                has + r * width,
                                                classes,
                                                binaryCase,
                                                allPositive,
                                                out,
                                                temp,
                                                convertFloat
                                            )
                                        )
                                    }
                                }
                                lo = hi
                            }
                        }
                    }
                }
            }
        }
    }

    /// Raw views of the forest's arrays, taken once per chunk of rows: accessing the arrays per tree would
    /// retain and release their shared buffers, which contends between threads.
    struct Pointers {
        var nodes: UnsafePointer<TreeNode<T>>?
        var roots: UnsafePointer<Int32>
        var first: UnsafePointer<A>
        var start: UnsafePointer<Int32>
        var targets: UnsafePointer<Int32>
        var weights: UnsafePointer<A>
    }

    @inline(__always)
    private func withPointers(_ body: (Pointers) -> Void) {
        self.forest.nodes.withUnsafeBufferPointer { nodes in
            self.forest.roots.withUnsafeBufferPointer { roots in
                self.leaves.first.withUnsafeBufferPointer { first in
                    self.leaves.start.withUnsafeBufferPointer { start in
                        self.leaves.targets.withUnsafeBufferPointer { targets in
                            self.leaves.weights.withUnsafeBufferPointer { weights in
                                // Empty arrays may have no base address; they are then never read.
                                let dummyRoot: Int32 = 0
                                let dummy: A = 0
                                let dummyIndex: Int32 = 0
                                withUnsafePointer(to: dummyRoot) { r0 in
                                    withUnsafePointer(to: dummy) { a0 in
                                        withUnsafePointer(to: dummyIndex) { i0 in
                                            body(
                                                Pointers(
                                                    nodes: nodes.baseAddress,
                                                    roots: roots.baseAddress ?? r0,
                                                    first: first.baseAddress ?? a0,
                                                    start: start.baseAddress ?? i0,
                                                    targets: targets.baseAddress ?? i0,
                                                    weights: weights.baseAddress ?? a0
                                                )
                                            )
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Blocks of at most this many rows are evaluated row by row rather than tree-major.
    static var rowByRowLimit: Int { 4 }

    /// Adds the leaves the trees reach for row `r` of the block (in tree order, as ONNX Runtime sums).
    @inline(__always)
    private func accumulateRow(
        _ r: Int,
        _ treeCount: Int,
        _ treeLeaves: UnsafeMutablePointer<Int32>,
        _ width: Int,
        _ p: Pointers,
        _ acc: UnsafeMutablePointer<A>,
        _ has: UnsafeMutablePointer<Bool>
    ) {
        if case .regression(1) = self.output {
            var a = acc[r]
            switch self.aggregate {
            case .sum, .average:
                for t in 0..<treeCount { a += p.first[Int(treeLeaves[t])] }
            case .min:
                for t in 0..<treeCount {
                    let w = p.first[Int(treeLeaves[t])]
                    if t == 0 || w < a { a = w }
                }
            case .max:
                for t in 0..<treeCount {
                    let w = p.first[Int(treeLeaves[t])]
                    if t == 0 || w > a { a = w }
                }
            }
            acc[r] = a
            has[r] = treeCount > 0
            return
        }
        let base = r * width
        let uniform = Int(self.leaves.uniformTarget)
        if uniform >= 0 && (self.aggregate == .sum || self.aggregate == .average) {
            // One weight per leaf, all for one target: sum in a register, in tree order.
            let k = base + uniform
            var a = acc[k]
            for t in 0..<treeCount { a += p.first[Int(treeLeaves[t])] }
            acc[k] = a
            if treeCount > 0 { has[k] = true }
            return
        }
        for t in 0..<treeCount {
            let l = Int(treeLeaves[t])
            for e in Int(p.start[l])..<Int(p.start[l + 1]) {
                let k = base + Int(p.targets[e])
                let w = p.weights[e]
                switch self.aggregate {
                case .sum, .average: acc[k] += w
                case .min: if !has[k] || w < acc[k] { acc[k] = w }
                case .max: if !has[k] || w > acc[k] { acc[k] = w }
                }
                has[k] = true
            }
        }
    }

    /// Single target: every leaf counts with its first weight (0 when it has none), as ONNX Runtime does.
    @inline(__always)
    private func accumulateSingle(
        _ count: Int,
        _ leafBuffer: UnsafeMutablePointer<Int32>,
        _ first: UnsafePointer<A>,
        _ acc: UnsafeMutablePointer<A>,
        _ has: UnsafeMutablePointer<Bool>
    ) {
        switch self.aggregate {
        case .sum, .average:
            for r in 0..<count { acc[r] += first[Int(leafBuffer[r])] }
        case .min:
            for r in 0..<count {
                let w = first[Int(leafBuffer[r])]
                if !has[r] || w < acc[r] { acc[r] = w }
                has[r] = true
            }
        case .max:
            for r in 0..<count {
                let w = first[Int(leafBuffer[r])]
                if !has[r] || w > acc[r] { acc[r] = w }
                has[r] = true
            }
        }
    }

    @inline(__always)
    private func accumulateSparse(
        _ count: Int,
        _ leafBuffer: UnsafeMutablePointer<Int32>,
        _ width: Int,
        _ p: Pointers,
        _ acc: UnsafeMutablePointer<A>,
        _ has: UnsafeMutablePointer<Bool>
    ) {
        for r in 0..<count {
            let l = Int(leafBuffer[r])
            let base = r * width
            for e in Int(p.start[l])..<Int(p.start[l + 1]) {
                let k = base + Int(p.targets[e])
                let w = p.weights[e]
                switch self.aggregate {
                case .sum, .average: acc[k] += w
                case .min: if !has[k] || w < acc[k] { acc[k] = w }
                case .max: if !has[k] || w > acc[k] { acc[k] = w }
                }
                has[k] = true
            }
        }
    }

    private func finalizeRegression<O: BinaryFloatingPoint>(
        _ acc: UnsafeMutablePointer<A>,
        _ has: UnsafeMutablePointer<Bool>,
        _ targets: Int,
        _ trees: Int,
        _ out: UnsafeMutablePointer<O>,
        _ temp: UnsafeMutableBufferPointer<Float>,
        _ convert: (A) -> O,
        _ convertFloat: (Float) -> O
    ) {
        let divisor = A(Swift.max(trees, 1))
        if targets == 1 {
            let origin: A = self.baseValues.count == 1 ? self.baseValues[0] : 0
            var s: A
            switch self.aggregate {
            case .sum: s = acc[0] + origin
            case .average: s = acc[0] / divisor + origin
            case .min, .max: s = has[0] ? acc[0] + origin : origin
            }
            if self.transform == .probit {
                out[0] = convertFloat(MLMath.probit(Float(s)))
            } else {
                out[0] = convert(s)
            }
            return
        }
        // Targets no leaf contributed to report 0 (ONNX Runtime ignores base values for them).
        let useBase = self.baseValues.count == targets
        for k in 0..<targets {
            let base: A = useBase ? self.baseValues[k] : 0
            switch self.aggregate {
            case .sum, .min, .max: acc[k] = has[k] ? acc[k] + base : 0
            case .average: acc[k] = has[k] ? acc[k] / divisor + base : 0
            }
        }
        if self.transform == .none {
            for k in 0..<targets { out[k] = convert(acc[k]) }
        } else {
            let t = UnsafeMutableBufferPointer(rebasing: temp[0..<targets])
            for k in 0..<targets { t[k] = Float(acc[k]) }
            MLMath.apply(self.transform, t)
            for k in 0..<targets { out[k] = convertFloat(t[k]) }
        }
    }

    /// Mirrors ONNX Runtime's classifier aggregation, including its binary special cases.
    private func finalizeClassification<O: BinaryFloatingPoint>(
        _ s: UnsafeMutablePointer<A>,
        _ has: UnsafeMutablePointer<Bool>,
        _ classes: Int,
        _ binaryCase: Bool,
        _ allPositive: Bool,
        _ out: UnsafeMutablePointer<O>,
        _ temp: UnsafeMutableBufferPointer<Float>,
        _ convertFloat: (Float) -> O
    ) -> Int {
        let bv = self.baseValues
        if classes > 2 {
            for k in 0..<Swift.min(bv.count, classes) {
                if has[k] {
                    s[k] += bv[k]
                } else {
                    s[k] = bv[k]
                    has[k] = true
                }
            }
            var best = -1
            var bestScore: A = 0
            for k in 0..<classes where has[k] && (best == -1 || s[k] > bestScore) {
                best = k
                bestScore = s[k]
            }
            let t = UnsafeMutableBufferPointer(rebasing: temp[0..<classes])
            for k in 0..<classes { t[k] = has[k] ? Float(s[k]) : 0 }
            MLMath.apply(self.transform, t)
            for k in 0..<classes { out[k] = convertFloat(t[k]) }
            return Swift.max(best, 0)
        }
        // Two classes.
        var writeAdditional = -1
        var size = 2
        if bv.count == 2 {
            if has[1] {
                s[1] = bv[1] + s[0]
                s[0] = -s[1]
            } else {
                s[1] += bv[1]
                s[0] += bv[0]
            }
        } else if bv.count == 1 {
            s[0] += bv[0]
            if !has[1] { size = 1 }
        } else if bv.isEmpty {
            writeAdditional = 3
            if !has[1] { size = 1 }
        }
        let positive: A = (size == 2 && has[1]) ? s[1] : (has[0] ? s[0] : 0)
        let label: Int
        if binaryCase {
            if allPositive {
                if positive > 0.5 {
                    writeAdditional = 0
                    label = 1
                } else {
                    writeAdditional = 1
                    label = 0
                }
            } else {
                if positive > 0 {
                    writeAdditional = 2
                    label = 1
                } else {
                    writeAdditional = 3
                    label = 0
                }
            }
        } else {
            // ONNX Runtime returns the raw values 1 / 0 here, which equal the labels for the usual [0, 1]; the
            // class labels at those positions are returned instead so that other labels stay valid.
            label = positive > 0 ? 1 : 0
        }
        if size == 2 {
            // Classes without a score count as 0, as in ONNX Runtime.
            let t = UnsafeMutableBufferPointer(rebasing: temp[0..<2])
            t[0] = has[0] ? Float(s[0]) : 0
            t[1] = has[1] ? Float(s[1]) : 0
            MLMath.apply(self.transform, t)
            out[0] = convertFloat(t[0])
            out[1] = convertFloat(t[1])
            return label
        }
        let score: Float = has[0] ? Float(s[0]) : 0
        if self.transform == .probit {
            out[0] = convertFloat(MLMath.probit(score))
            out[1] = 0
            return label
        }
        switch writeAdditional {
        case 0, 1:
            out[0] = convertFloat(1 - score)
            out[1] = convertFloat(score)
        case 2, 3:
            if self.transform == .logistic {
                out[0] = convertFloat(MLMath.logistic(-score))
                out[1] = convertFloat(MLMath.logistic(score))
            } else {
                out[0] = convertFloat(-score)
                out[1] = convertFloat(score)
            }
        default:
            out[0] = convertFloat(score)
            out[1] = 0
        }
        return label
    }
}
