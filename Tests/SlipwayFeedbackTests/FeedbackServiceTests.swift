import SlipwayFeedback
import Testing

@Suite("Feedback service: paced writes")
struct FeedbackServiceTests {
    @Test func pausesFourTimesEachTransactionUntilHalfTheInterval() {
        let second = Duration.seconds(1)
        #expect(
            FeedbackService.pause(transaction: .milliseconds(3), flushElapsed: .zero, interval: second)
                == .milliseconds(12)
        )
        #expect(
            FeedbackService.pause(transaction: .microseconds(250), flushElapsed: .milliseconds(499), interval: second)
                == .milliseconds(1)
        )
        // Half of the interval gone: the rest is written at once, so a busy second does not fall behind the next.
        #expect(
            FeedbackService.pause(transaction: .milliseconds(3), flushElapsed: .milliseconds(500), interval: second)
                == nil
        )
        #expect(
            FeedbackService.pause(
                transaction: .milliseconds(3),
                flushElapsed: .milliseconds(60),
                interval: .milliseconds(100)
            )
                == nil
        )
    }

    @Test func writesAtMostAFifthOfTheTime() {
        // A transaction of 1 ms is followed by 4 ms of pause: the writer is busy a fifth of the time.
        let pause = FeedbackService.pause(transaction: .milliseconds(1), flushElapsed: .zero, interval: .seconds(1))
        #expect(pause.map { Duration.milliseconds(1) / (Duration.milliseconds(1) + $0) } == 0.2)
    }
}
