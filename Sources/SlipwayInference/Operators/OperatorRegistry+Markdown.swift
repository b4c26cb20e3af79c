extension OperatorRegistry {
    /// A Markdown description of the supported operators, one table per domain (the README's operator section).
    package func markdown() -> String {
        var out = ""
        // Internal operators (graph fusion's) are not part of what a model can use.
        let byDomain = Dictionary(grouping: self.all.filter { $0.domain != GraphFusion.internalDomain }, by: \.domain)
        for domain in byDomain.keys.sorted() {
            let definitions = byDomain[domain] ?? []
            let names = Set(definitions.map(\.name)).sorted()
            out += "\n**\(domain)** (\(names.count) operators)\n\n| operator | opsets |\n|---|---|\n"
            for name in names {
                let ranges = definitions.filter { $0.name == name }.map(\.opsets).sorted {
                    $0.lowerBound < $1.lowerBound
                }
                // Merge adjacent ranges (several definitions for different semantics read as one span).
                var merged: [ClosedRange<Int>] = []
                for r in ranges {
                    if let last = merged.last, r.lowerBound <= last.upperBound + 1 {
                        merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
                    } else {
                        merged.append(r)
                    }
                }
                out +=
                    "| \(name) | " + merged.map { "\($0.lowerBound)–\($0.upperBound)" }.joined(separator: ", ") + " |\n"
            }
        }
        return out
    }
}
