import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's resident memory, CPU time, open file descriptors and start time, read from `/proc` at scrape
/// time under the standard names (`process_resident_memory_bytes`, `process_cpu_seconds_total`,
/// `process_open_fds`, `process_max_fds`, `process_virtual_memory_bytes`, `process_start_time_seconds`).
///
/// Where `/proc` is missing (macOS) the values that cannot be read are left out.
struct ProcessMetrics: Equatable {
    var residentMemoryBytes: Double?
    var virtualMemoryBytes: Double?
    var cpuSeconds: Double?
    var startTimeSeconds: Double?
    var openFileDescriptors: Double?
    var maximumFileDescriptors: Double?

    /// Reads the running process's values.
    static func read() -> ProcessMetrics {
        let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8)
        var metrics = Self.parse(
            stat: stat,
            systemStat: system,
            ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Double(sysconf(Int32(_SC_PAGESIZE)))
        )
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            metrics.openFileDescriptors = Double(entries.count)
        }
        var limit = rlimit()
        if getrlimit(Self.openFilesResource, &limit) == 0, limit.rlim_cur < rlim_t(Int64.max) {
            metrics.maximumFileDescriptors = Double(limit.rlim_cur)
        }
        return metrics
    }

    #if canImport(Glibc)
    static let openFilesResource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    static let openFilesResource = RLIMIT_NOFILE
    #endif

    /// The values in `/proc/self/stat` (`stat`) and the boot time in `/proc/stat` (`systemStat`).
    ///
    /// `stat` is `pid (comm) state …`; after the closing parenthesis of the command name (which may itself hold
    /// spaces and parentheses) the fields are utime (14th), stime (15th), starttime (22nd, ticks after boot),
    /// vsize (23rd, bytes) and rss (24th, pages).
    static func parse(stat: String?, systemStat: String?, ticksPerSecond: Double, pageSize: Double) -> ProcessMetrics {
        var metrics = ProcessMetrics()
        guard let stat, let close = stat.lastIndex(of: ")"), ticksPerSecond > 0 else { return metrics }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is the 3rd field (state); the n-th field is fields[n - 3].
        func field(_ number: Int) -> Double? {
            let index = number - 3
            return fields.indices.contains(index) ? Double(fields[index]) : nil
        }
        if let user = field(14), let system = field(15) {
            metrics.cpuSeconds = (user + system) / ticksPerSecond
        }
        metrics.virtualMemoryBytes = field(23)
        if let pages = field(24) { metrics.residentMemoryBytes = pages * pageSize }
        if let started = field(22), let systemStat {
            for line in systemStat.split(separator: "\n") where line.hasPrefix("btime ") {
                if let boot = Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces)) {
                    metrics.startTimeSeconds = boot + started / ticksPerSecond
                }
            }
        }
        return metrics
    }

    /// Appends the values that were read in the Prometheus text format.
    func write(into buffer: inout [UInt8]) {
        let entries: [(String, String, String, Double?)] = [
            (
                "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
                self.cpuSeconds
            ),
            ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", self.residentMemoryBytes),
            ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", self.virtualMemoryBytes),
            (
                "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
                self.startTimeSeconds
            ),
            ("process_open_fds", "gauge", "Number of open file descriptors.", self.openFileDescriptors),
            ("process_max_fds", "gauge", "Maximum number of open file descriptors.", self.maximumFileDescriptors),
        ]
        for (name, type, help, value) in entries {
            guard let value else { continue }
            buffer.append(contentsOf: "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n".utf8)
        }
    }
}
