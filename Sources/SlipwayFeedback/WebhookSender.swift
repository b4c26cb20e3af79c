import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Delivers webhook events: JSON POSTs signed with `X-Slipway-Signature: sha256=<HMAC-SHA256 hex of the body>`,
/// retried with exponential backoff, from a bounded queue (the oldest waiting deliveries are dropped when full).
/// Nothing on the prediction path ever waits for it.
public final class WebhookSender: Sendable {
    /// One event for one URL.
    struct Delivery: Sendable {
        var url: String
        var secret: String
        var body: Data
    }

    private let stream: AsyncStream<Delivery>
    private let continuation: AsyncStream<Delivery>.Continuation
    let attempts: Int
    let backoff: Duration
    let logger: Logger

    /// Creates a sender holding at most `queueSize` waiting deliveries.
    public init(queueSize: Int, attempts: Int, backoff: Duration, logger: Logger) {
        (self.stream, self.continuation) = AsyncStream.makeStream(
            of: Delivery.self,
            bufferingPolicy: .bufferingNewest(queueSize)
        )
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.logger = logger
    }

    /// Queues a delivery; returns at once.
    public func enqueue(url: String, secret: String, body: Data) {
        self.continuation.yield(Delivery(url: url, secret: secret, body: body))
    }

    /// Stops taking deliveries; ``run(client:)`` returns once the queue is empty.
    public func finish() {
        self.continuation.finish()
    }

    /// `sha256=` and the lowercase hex HMAC-SHA256 of `body` keyed with `secret`.
    public static func signature(of body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// Delivers queued events one after the other until ``finish()``.
    public func run(client: HTTPClient = .shared) async {
        for await delivery in self.stream {
            await self.deliver(delivery, client: client)
        }
    }

    func deliver(_ delivery: Delivery, client: HTTPClient) async {
        var wait = self.backoff
        for attempt in 1...self.attempts {
            do {
                var request = HTTPClientRequest(url: delivery.url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "User-Agent", value: "slipway-webhook")
                request.headers.add(
                    name: "X-Slipway-Signature",
                    value: Self.signature(of: delivery.body, secret: delivery.secret)
                )
                request.body = .bytes(ByteBuffer(bytes: delivery.body))
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 64 << 10)
                if (200..<300).contains(response.status.code) { return }
                self.logger.info(
                    "webhook refused",
                    metadata: [
                        "webhook.url": "\(delivery.url)", "http.status": "\(response.status.code)",
                        "attempt": "\(attempt)",
                    ]
                )
            } catch {
                self.logger.info(
                    "webhook failed",
                    metadata: ["webhook.url": "\(delivery.url)", "error": "\(error)", "attempt": "\(attempt)"]
                )
            }
            guard attempt < self.attempts else { break }
            try? await Task.sleep(for: wait)
            wait *= 2
        }
        self.logger.info("webhook given up", metadata: ["webhook.url": "\(delivery.url)"])
    }
}
