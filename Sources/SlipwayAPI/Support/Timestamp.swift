import Foundation

/// RFC 3339 timestamps in UTC with microseconds, the API's one time format.
package enum Timestamp {
    /// `2026-11-28T04:31:07.123456Z`.
    package static func format(_ date: Date) -> String {
        let microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = microseconds / 1_000_000
        var fraction = microseconds % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
            Int(parts.tm_year) + 1900,
            Int(parts.tm_mon) + 1,
            Int(parts.tm_mday),
            Int(parts.tm_hour),
            Int(parts.tm_min),
            Int(parts.tm_sec),
            Int(fraction)
        )
    }

    /// Parses RFC 3339 with or without fractional seconds (up to microseconds) and with `Z` or an offset.
    package static func parse(_ text: String) -> Date? {
        let pattern = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/
        guard let match = text.wholeMatch(of: pattern) else { return nil }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(identifier: "UTC")
        components.year = Int(match.1)
        components.month = Int(match.2)
        components.day = Int(match.3)
        components.hour = Int(match.4)
        components.minute = Int(match.5)
        components.second = Int(match.6)
        guard components.isValidDate, let base = components.date else { return nil }
        var seconds = base.timeIntervalSince1970
        if let fraction = match.7 {
            let digits = String(fraction.prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)
            seconds += Double(Int(digits)!) / 1_000_000
        }
        let zone = String(match.8)
        if zone != "Z" && zone != "z" {
            let sign: Double = zone.hasPrefix("-") ? -1 : 1
            let hours = Double(zone.dropFirst().prefix(2))!
            let minutes = Double(zone.suffix(2))!
            seconds -= sign * (hours * 3600 + minutes * 60)
        }
        return Date(timeIntervalSince1970: seconds)
    }
}
