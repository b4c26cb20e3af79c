import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The scheduling priority of background threads: the batch thread and the SQLite thread that writes the per-request
/// records while the server has cores to spare.
package enum ThreadPriority {
    /// How much lower than the other threads a background thread runs (a nice value; raising it needs no privilege,
    /// lowering it again does, so a thread lowered once stays lowered).
    package static let backgroundNiceness: Int32 = 10

    /// Names the calling thread and lowers its priority to nice +10 (Linux: the nice value is the thread's own): when
    /// it competes with threads at nice 0 it gets about a tenth of a core's time, and a network thread that wakes up
    /// takes the core from it at once.
    ///
    /// Not Linux's `SCHED_IDLE`: a thread under it runs only when a core has nothing else to do, and background
    /// threads take locks that the network threads also take, so on a saturated machine a network thread waiting for
    /// such a lock would wait until a core fell idle. At nice +10 the holder still gets its share within milliseconds.
    ///
    /// - Parameter name: the thread's name in `top -H` and `perf` (Linux keeps 15 bytes; Foundation's `Thread.name`
    ///   leaves the thread its creator's name on Linux, and the Glibc module does not export `pthread_setname_np`).
    package static func makeCurrentThreadBackground(named name: String) {
        #if os(Linux)
        try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.backgroundNiceness)
        #endif
    }

    /// The calling thread's nice value (Linux), for tests.
    package static func currentNiceness() -> Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? value : nil
        #else
        return nil
        #endif
    }
}
