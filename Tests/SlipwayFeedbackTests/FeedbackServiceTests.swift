import SlipwayFeedback
import Testing

@Suite("Feedback service: paced writes")
struct FeedbackServiceTests {
    /// The pause after a transaction with an empty buffer.
    static func pause(_ transaction: Duration, elapsed: Duration, interval: Duration = .seconds(1)) -> Duration? {
        FeedbackService.pause(
            transaction: transaction,
            flushElapsed: elapsed,
            interval: interval,
            buffered: 0,
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
        let pause = FeedbackService.pause(
            transaction: .milliseconds(1),
            flushElapsed: .zero,
            interval: .seconds(1),
            buffered: 0,
            capacity: 50_000
        )
        #expect(pause.map { Duration.milliseconds(1) / (Duration.milliseconds(1) + $0) } == 0.2)
    }

    @Test func writesOnWithoutPausesOnceTheBufferIsAQuarterFullAgain() {
        let second = Duration.seconds(1)
        #expect(
            FeedbackService.pause(
                transaction: .milliseconds(1),
                flushElapsed: .milliseconds(10),
                interval: second,
                buffered: 12_499,
                capacity: 50_000
            ) == .milliseconds(4)
        )
        #expect(
            FeedbackService.pause(
                transaction: .milliseconds(1),
                flushElapsed: .milliseconds(10),
                interval: second,
                buffered: 12_500,
                capacity: 50_000
            ) == nil
        )
    }
}
