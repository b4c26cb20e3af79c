import Foundation

/// The text forms a rollout is started with, read the same way by the API, the console and the CLI.
public enum RolloutText {
    /// `5,25,50,100` → `[5, 25, 50, 100]`; `nil` when a part is not an integer (order and range are the
    /// registry's to judge).
    public static func steps(_ text: String) -> [Int]? {
        var steps: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let step = Int(part.trimmingCharacters(in: .whitespaces)) else { return nil }
            steps.append(step)
        }
        return steps
    }

    /// `600`, `90s`, `10m`, `1.5h`, `1d`, `500ms` → seconds; `nil` for anything else or a negative value.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        var factor = 1.0
        var number = Substring(trimmed)
        for (suffix, unit) in [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        where trimmed.hasSuffix(suffix) {
            factor = unit
            number = trimmed.dropLast(suffix.count)
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        return value * factor
    }
}
