import SlipwayFeedback
import Testing

@Suite("Feedback service: paced writes")
struct FeedbackServiceTests {
    /// The pause after a transaction, with `buffered` of 50,000 records waiting for the next flush.
    static func pause(
        _ transaction: Duration,
        elapsed: Duration,
        interval: Duration = .seconds(1),
        buffered: Int = 0
    ) -> Duration? {
        FeedbackService.pause(
            transaction: transaction,
            flushElapsed: elapsed,
            interval: interval,
            buffered: buffered,
            capacity: 50_000
        )
    }

    @Test func pausesFourTimesEachTransactionUntilHalfTheInterval() {
        #expect(Self.pause(.milliseconds(3), elapsed: .zero) == .milliseconds(12))
        #expect(Self.pause(.microseconds(250), elapsed: .milliseconds(499)) == .milliseconds(1))
        // Half of the interval gone: the rest is written at once, so a busy second does not fall behind the next.
        #expect(Self.pause(.milliseconds(3), elapsed: .milliseconds(500)) == nil)
        #expect(Self.pause(.milliseconds(3), elapsed: .milliseconds(60), interval: .milliseconds(100)) == nil)
    }

    @Test func writesAtMostAFifthOfTheTime() {
        // A transaction of 1 ms is followed by 4 ms of pause: the writer is busy a fifth of the time.
        let pause = Self.pause(.milliseconds(1), elapsed: .zero)
        #expect(pause.map { Duration.milliseconds(1) / (Duration.milliseconds(1) + $0) } == 0.2)
    }

    @Test func writesOnWithoutPausesOnceTheBufferIsAQuarterFullAgain() {
        #expect(Self.pause(.milliseconds(1), elapsed: .milliseconds(10), buffered: 12_499) == .milliseconds(4))
        #expect(Self.pause(.milliseconds(1), elapsed: .milliseconds(10), buffered: 12_500) == nil)
    }
}
