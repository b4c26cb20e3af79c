import SlipwayInference

extension JSONValue {
    /// The value as indented JSON (two spaces per level), keeping the server's member order.
    func prettyPrinted() -> String {
        var out = ""
        self.writePretty(to: &out, indent: 0)
        return out
    }

    private func writePretty(to out: inout String, indent: Int) {
        let inner = String(repeating: " ", count: indent + 2)
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += inner
                item.writePretty(to: &out, indent: indent + 2)
                out += index == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (index, (key, value)) in members.enumerated() {
                out += inner + JSONValue.string(key).serialized() + ": "
                value.writePretty(to: &out, indent: indent + 2)
                out += index == members.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        default:
            out += self.serialized()
        }
    }

    /// The member's value as display text: strings as they are, numbers and booleans written out, `null` and
    /// missing members as `-`.
    func text(_ key: String) -> String {
        self[key]?.displayText ?? "-"
    }

    /// The value as display text (see ``text(_:)``).
    var displayText: String {
        switch self {
        case .null: "-"
        case .string(let text): text.isEmpty ? "-" : text
        case .bool(let flag): flag ? "yes" : "no"
        case .int(let number): String(number)
        default: self.serialized()
        }
    }

    /// The member as a string, or `nil` when it is missing or not a string.
    func string(_ key: String) -> String? {
        if case .string(let text)? = self[key] { return text }
        return nil
    }

    /// The member as an integer, or `nil` when it is missing or not an integer.
    func int(_ key: String) -> Int? {
        if case .int(let number)? = self[key] { return Int(number) }
        return nil
    }

    /// The items of an array value (empty for anything else).
    var items: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }

    /// The members of an object value (empty for anything else).
    var members: [(String, JSONValue)] {
        if case .object(let members) = self { return members }
        return []
    }
}
