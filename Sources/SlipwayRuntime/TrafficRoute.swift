import Foundation
import SlipwayRegistry
import Synchronization

/// An environment's traffic split among warm deployments, attached to its active ``PreparedModel``.
///
/// Arms are laid out on 10,000 buckets, the splits first and the active deployment last, so a key's bucket is fixed
/// and a canary growing from 5% to 25% keeps everyone it already had. A request with a route key lands in the
/// bucket of the key's FNV-1a hash; without one, in a random bucket.
public final class TrafficRoute: Sendable {
    /// An arm: the deployment and the first bucket past its range.
    struct Arm: Sendable {
        var upper: Int
        var model: PreparedModel
    }

    /// A deployment receiving a copy of a share of the requests.
    public struct Shadow: Sendable {
        /// The shadow deployment, prepared.
        public var model: PreparedModel
        /// Percent of the requests copied.
        public var percent: Int
    }

    let arms: [Arm]
    /// The shadow deployments.
    public let shadows: [Shadow]
    /// The feature whose value is the route key when the request carries no `X-Slipway-Route-Key`.
    public let stickyFeature: String?

    init(
        splits: [(weight: Int, model: PreparedModel)],
        active: PreparedModel,
        shadows: [Shadow],
        stickyFeature: String?
    ) {
        var arms: [Arm] = []
        var upper = 0
        for split in splits where split.weight > 0 {
            upper += split.weight * 100
            arms.append(Arm(upper: min(upper, 10_000), model: split.model))
        }
        arms.append(Arm(upper: 10_000, model: active))
        self.arms = arms
        self.shadows = shadows
        self.stickyFeature = stickyFeature
    }

    /// Whether more than one deployment answers.
    public var isSplit: Bool { self.arms.count > 1 }

    /// Every deployment that may answer, the active one last.
    public var armModels: [PreparedModel] { self.arms.map(\.model) }

    /// The deployment that answers a request with `key` (random without one).
    public func arm(forKey key: String?) -> PreparedModel {
        let bucket = key.map(Self.bucket) ?? Int.random(in: 0..<10_000)
        for arm in self.arms where bucket < arm.upper { return arm.model }
        return self.arms[self.arms.count - 1].model
    }

    /// A key's bucket, 0 to 9,999: FNV-1a over its UTF-8 bytes.
    public static func bucket(_ key: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int(hash % 10_000)
    }

    /// Each shadow that should receive a copy of one request (drawn at random by its percent).
    public func shadowsForRequest() -> [PreparedModel] {
        var chosen: [PreparedModel] = []
        for shadow in self.shadows where shadow.percent >= 100 || Int.random(in: 0..<100) < shadow.percent {
            chosen.append(shadow.model)
        }
        return chosen
    }
}

extension PreparedModel {
    /// The deployment that answers a request routed by `key`: an arm of the traffic split, or this one.
    public func routed(key: String?) -> PreparedModel {
        guard let traffic, traffic.isSplit else { return self }
        return traffic.arm(forKey: key)
    }

    /// The route key of a request: the `X-Slipway-Route-Key` header's value, else the sticky feature's value in the
    /// first row, else `nil` (random assignment).
    public func routeKey(header: String?, rows: PredictionRows) -> String? {
        if let header, !header.isEmpty { return header }
        guard let feature = self.traffic?.stickyFeature else { return nil }
        let value: JSONTree?
        switch rows {
        case .features(let rows):
            value = rows.first?[feature]
        case .ndarray(let rows):
            guard let index = self.schema?.order?.firstIndex(of: feature), let row = rows.first, index < row.count
            else { return nil }
            value = row[index]
        }
        switch value {
        case .string(let text)?: return text
        case .integer(let number)?: return String(number)
        case .number(let number)?:
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag)?: return String(flag)
        default: return nil
        }
    }
}
