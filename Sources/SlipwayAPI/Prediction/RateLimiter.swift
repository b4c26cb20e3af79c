import Foundation
import HTTPTypes
import NIOConcurrencyHelpers

/// Token buckets per serving key: `rate` requests per second with a burst of `rate`, shared by every
/// environment the key covers. Each server process keeps its own buckets.
final class RateLimiter: Sendable {
    /// The outcome of taking one token.
    struct Outcome: Sendable {
        var allowed: Bool
        var limit: Int
        var remaining: Int
        /// Seconds until the bucket is full again (`RateLimit-Reset`).
        var reset: Int
        /// Seconds until one token is available (`Retry-After`), when refused.
        var retryAfter: Int
    }

    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    /// Takes one token from `key`'s bucket.
    func take(key: String, rate: Int) -> Outcome {
        let now = DispatchTime.now().uptimeNanoseconds
        let capacity = Double(rate)
        return self.buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = Double(now &- bucket.updated) / 1e9
            bucket.tokens = min(capacity, bucket.tokens + elapsed * capacity)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[key] = bucket
            let missing = capacity - bucket.tokens
            return Outcome(
                allowed: allowed,
                limit: rate,
                remaining: Int(bucket.tokens.rounded(.down)),
                reset: Int((missing / capacity).rounded(.up)),
                retryAfter: max(1, Int(((1 - bucket.tokens) / capacity).rounded(.up)))
            )
        }
    }
}

extension RateLimiter.Outcome {
    /// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, sent with every answer to a rate-limited key.
    var headers: HTTPFields {
        var headers = HTTPFields()
        headers[HTTPField.Name("RateLimit-Limit")!] = String(self.limit)
        headers[HTTPField.Name("RateLimit-Remaining")!] = String(self.remaining)
        headers[HTTPField.Name("RateLimit-Reset")!] = String(self.reset)
        return headers
    }

    /// ``headers`` plus `Retry-After`, for a refusal.
    var refusalHeaders: HTTPFields {
        var headers = self.headers
        headers[.retryAfter] = String(self.retryAfter)
        return headers
    }
}
