/// Count, minimum, maximum, sum and a fixed-bin histogram of numbers; two summaries with the same bins merge exactly.
///
/// Bins are right-closed and open-ended: with edges `e₁ < … < eₖ` the bins are `(-∞, e₁]`, `(e₁, e₂]`, …,
/// `(eₖ, +∞)`, so `counts` has `k + 1` entries and every finite number falls in one bin.
public struct NumericSummary: Sendable, Equatable, Codable {
    /// How many numbers.
    public var count: Int64 = 0
    /// The smallest, when any.
    public var minimum: Double?
    /// The largest, when any.
    public var maximum: Double?
    /// Their sum.
    public var sum: Double = 0
    /// The bins' upper edges, increasing.
    public var edges: [Double]
    /// Numbers per bin (`edges.count + 1`).
    public var counts: [Int64]

    /// An empty summary over bins with these upper edges.
    public init(edges: [Double]) {
        self.edges = edges
        self.counts = Array(repeating: 0, count: edges.count + 1)
    }

    private enum CodingKeys: String, CodingKey {
        case count, minimum, maximum, sum, edges, counts
    }

    /// Decodes a stored summary, refusing one whose bins do not match its edges.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.count = try container.decode(Int64.self, forKey: .count)
        self.minimum = try container.decodeIfPresent(Double.self, forKey: .minimum)
        self.maximum = try container.decodeIfPresent(Double.self, forKey: .maximum)
        self.sum = try container.decode(Double.self, forKey: .sum)
        self.edges = try container.decode([Double].self, forKey: .edges)
        self.counts = try container.decode([Int64].self, forKey: .counts)
        guard self.counts.count == self.edges.count + 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .counts,
                in: container,
                debugDescription: "expected \(self.edges.count + 1) bin counts for \(self.edges.count) edges"
            )
        }
    }

    /// The mean, when any.
    public var mean: Double? { self.count > 0 ? self.sum / Double(self.count) : nil }

    /// Adds one finite number.
    public mutating func add(_ value: Double) {
        self.count += 1
        self.sum += value
        self.minimum = Swift.min(self.minimum ?? value, value)
        self.maximum = Swift.max(self.maximum ?? value, value)
        let bin = Self.bin(of: value, edges: self.edges)
        self.counts[bin] += 1
    }

    /// Adds `other`. With the same bins the histogram adds up exactly; with different bins (a deployment whose
    /// reference changed between two writers) the histogram of the summary holding more numbers is kept.
    public mutating func merge(_ other: NumericSummary) {
        guard other.count > 0 else { return }
        if self.edges == other.edges {
            for index in self.counts.indices { self.counts[index] += other.counts[index] }
        } else if other.count > self.count {
            self.edges = other.edges
            self.counts = other.counts
        }
        self.count += other.count
        self.sum += other.sum
        if let minimum = other.minimum { self.minimum = Swift.min(self.minimum ?? minimum, minimum) }
        if let maximum = other.maximum { self.maximum = Swift.max(self.maximum ?? maximum, maximum) }
    }

    /// The index of the bin holding `value`: the first edge at or above it, else the last bin.
    static func bin(of value: Double, edges: [Double]) -> Int {
        var low = 0
        var high = edges.count
        while low < high {
            let middle = (low + high) / 2
            if value <= edges[middle] { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Bins used when a deployment has no reference numbers: powers of ten on both sides of zero, from 0.001 to
    /// 1,000,000, so any scale of feature or prediction gets a readable histogram.
    public static let defaultEdges: [Double] = {
        let positive: [Double] = [0.001, 0.01, 0.1, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]
        return positive.reversed().map { -$0 } + [0] + positive
    }()

    /// Up to 9 upper edges at the reference's deciles (nearest rank, so every edge is a reference value), without
    /// duplicates; the bins then hold about a tenth of the reference each.
    ///
    /// - Returns: `nil` when there are no finite values.
    public static func quantileEdges(of values: [Double], bins: Int = 10) -> [Double]? {
        let sorted = values.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return nil }
        var edges: [Double] = []
        for step in 1..<bins {
            // Nearest rank: the smallest value with at least step/bins of the reference at or below it.
            let rank = (step * sorted.count + bins - 1) / bins
            let edge = sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
            if edges.last != edge { edges.append(edge) }
        }
        return edges
    }
}
