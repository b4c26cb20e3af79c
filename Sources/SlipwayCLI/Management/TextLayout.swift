/// Lays out the human-readable output: aligned tables for lists, `key: value` blocks for single objects.
enum TextLayout {
    /// An aligned table: columns separated by two spaces, the last column not padded.
    ///
    /// ```
    /// VERSION  STATUS    ACTIVE  SUMMARY
    /// 2        verified  yes     more trees
    /// ```
    static func table(_ headers: [String], _ rows: [[String]]) -> String {
        let all = [headers] + rows
        var widths = [Int](repeating: 0, count: headers.count)
        for row in all {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        return all.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                let cell = cell.replacingNewlines()
                if column == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[column] - cell.count + 2)
                }
            }
            while line.last == " " { line.removeLast() }
            return line
        }
        .joined(separator: "\n")
    }

    /// A `key: value` block with the values aligned.
    ///
    /// ```
    /// model:       acme/churn
    /// visibility:  private
    /// ```
    static func block(_ pairs: [(String, String)]) -> String {
        let width = pairs.map { $0.0.count }.max() ?? 0
        return pairs.map { key, value in
            key + ":" + String(repeating: " ", count: width - key.count + 2) + value.replacingNewlines()
        }
        .joined(separator: "\n")
    }

    /// An RFC 3339 time as `2026-11-28 04:31:07` (UTC, no fraction); other text unchanged, `nil` as `-`.
    static func time(_ text: String?) -> String {
        guard let text else { return "-" }
        let characters = Array(text)
        guard characters.count >= 19, characters[10] == "T" || characters[10] == "t" else { return text }
        return String(characters[0..<10]) + " " + String(characters[11..<19])
    }

    /// A byte count as `512 B`, `12.3 KiB`, `4.0 MiB` or `1.2 GiB`.
    static func bytes(_ count: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard count >= 1024 else { return "\(count) B" }
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}

extension String {
    /// The text on one line: newlines and tabs become spaces (table cells and block values are one line each).
    fileprivate func replacingNewlines() -> String {
        String(self.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }
}
