/// A parsed JSON document, kept exact: integers stay integers (full int64 range) and the non-standard literals
/// `NaN`, `Infinity` and `-Infinity` are accepted, since JSON has no other way to carry non-finite floats.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    /// A float32 number, written in its shortest round-trip form (`0.1`, not `0.10000000149011612`).
    case float(Float)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.double(let a), .double(let b)): a == b || (a.isNaN && b.isNaN)
        case (.float(let a), .float(let b)): a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The member `key` of an object, or `nil`.
    public subscript(_ key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    /// A short name of the value's kind for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double, .float: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Parses a JSON document.
    ///
    /// - Parameter maximumDepth: the deepest nesting accepted, so that hostile input cannot exhaust the stack.
    public static func parse(_ bytes: [UInt8], maximumDepth: Int = 64) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes, maximumDepth: maximumDepth)
        let value = try parser.parseDocument()
        return value
    }

    /// Parses a JSON document from a string.
    public static func parse(_ text: String) throws -> JSONValue { try Self.parse(Array(text.utf8)) }

    /// Serializes the value compactly. Non-finite doubles are written as `NaN`, `Infinity`, `-Infinity`.
    public func serialized() -> String {
        String(decoding: self.serializedBytes(), as: UTF8.self)
    }

    /// Serializes the value compactly as UTF-8 bytes (what a response body needs, without a `String` in between).
    public func serializedBytes(reservingCapacity capacity: Int = 256) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        self.write(to: &out)
        return out
    }

    /// Appends the compact serialization to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: i.description.utf8)
        case .double(let d): out.append(contentsOf: JSONValue.format(d).utf8)
        case .float(let f):
            if !f.isFinite {
                out.append(contentsOf: JSONValue.format(Double(f)).utf8)
            } else if f == f.rounded() && abs(f) < 1e7 {
                out.append(contentsOf: Int64(f).description.utf8)
                out.append(contentsOf: ".0".utf8)
            } else {
                out.append(contentsOf: f.description.utf8)
            }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONValue.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Formats a double as JSON (shortest round-trip form).
    static func format(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == d.rounded(), abs(d) < 1e15 { return Int64(d).description + ".0" }
        return d.description
    }

    /// Appends `string` as a JSON string (for writers that build a known document's bytes without a tree).
    public static func append(string: String, to out: inout [UInt8]) {
        Self.writeString(string, to: &out)
    }

    /// Appends `number` as JSON, formatted as `.double` values are.
    public static func append(number: Double, to out: inout [UInt8]) {
        out.append(contentsOf: Self.format(number).utf8)
    }

    /// Writes `s` as a JSON string: UTF-8 passes through, quotes, backslashes and control characters are escaped.
    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                start = index + 1
                switch byte {
                case 0x22: out.append(contentsOf: "\\\"".utf8)
                case 0x5C: out.append(contentsOf: "\\\\".utf8)
                case 0x0A: out.append(contentsOf: "\\n".utf8)
                case 0x0D: out.append(contentsOf: "\\r".utf8)
                case 0x09: out.append(contentsOf: "\\t".utf8)
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    let maximumDepth: Int
    var position = 0
    var depth = 0

    init(bytes: [UInt8], maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    func fail(_ message: String) -> InferenceError {
        InferenceError(.invalidRequest, "invalid JSON at byte \(self.position): \(message)")
    }

    mutating func parseDocument() throws -> JSONValue {
        self.skipSpace()
        let value = try self.parseValue()
        self.skipSpace()
        guard self.position == self.bytes.count else { throw self.fail("unexpected data after the document") }
        return value
    }

    mutating func skipSpace() {
        while self.position < self.bytes.count {
            switch self.bytes[self.position] {
            case 0x20, 0x0A, 0x0D, 0x09: self.position += 1
            default: return
            }
        }
    }

    /// Consumes `word` when the input continues with it (compared in place: this runs for every number).
    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard self.position + count <= self.bytes.count else { return false }
        let start = self.position
        let matches = word.withUTF8Buffer { expected in
            expected.indices.allSatisfy { self.bytes[start + $0] == expected[$0] }
        }
        if matches { self.position += count }
        return matches
    }

    mutating func parseValue() throws -> JSONValue {
        guard self.position < self.bytes.count else { throw self.fail("unexpected end of input") }
        switch self.bytes[self.position] {
        case UInt8(ascii: "{"): return try self.parseObject()
        case UInt8(ascii: "["): return try self.parseArray()
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"):
            if self.literal("true") { return .bool(true) }
        case UInt8(ascii: "f"):
            if self.literal("false") { return .bool(false) }
        case UInt8(ascii: "n"):
            if self.literal("null") { return .null }
        case UInt8(ascii: "N"):
            if self.literal("NaN") { return .double(.nan) }
        case UInt8(ascii: "I"):
            if self.literal("Infinity") { return .double(.infinity) }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if self.position + 1 < self.bytes.count, self.bytes[self.position + 1] == UInt8(ascii: "I"),
                self.literal("-Infinity")
            {
                return .double(-.infinity)
            }
            return try self.parseNumber()
        default: break
        }
        throw self.fail("unexpected character '\(Character(Unicode.Scalar(self.bytes[self.position])))'")
    }

    mutating func enter() throws {
        self.depth += 1
        guard self.depth <= self.maximumDepth else { throw self.fail("nesting deeper than \(self.maximumDepth)") }
    }

    mutating func parseObject() throws -> JSONValue {
        try self.enter()
        self.position += 1
        var members: [(String, JSONValue)] = []
        self.skipSpace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "}") {
            self.position += 1
            self.depth -= 1
            return .object(members)
        }
        while true {
            self.skipSpace()
            guard self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "\"") else {
                throw self.fail("expected a member name in quotes")
            }
            let key = try self.parseString()
            self.skipSpace()
            guard self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: ":") else {
                throw self.fail("expected ':' after member name")
            }
            self.position += 1
            self.skipSpace()
            members.append((key, try self.parseValue()))
            self.skipSpace()
            guard self.position < self.bytes.count else { throw self.fail("unterminated object") }
            if self.bytes[self.position] == UInt8(ascii: ",") {
                self.position += 1
                continue
            }
            guard self.bytes[self.position] == UInt8(ascii: "}") else { throw self.fail("expected ',' or '}'") }
            self.position += 1
            self.depth -= 1
            return .object(members)
        }
    }

    mutating func parseArray() throws -> JSONValue {
        try self.enter()
        self.position += 1
        var items: [JSONValue] = []
        self.skipSpace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "]") {
            self.position += 1
            self.depth -= 1
            return .array(items)
        }
        while true {
            self.skipSpace()
            items.append(try self.parseValue())
            self.skipSpace()
            guard self.position < self.bytes.count else { throw self.fail("unterminated array") }
            if self.bytes[self.position] == UInt8(ascii: ",") {
                self.position += 1
                continue
            }
            guard self.bytes[self.position] == UInt8(ascii: "]") else { throw self.fail("expected ',' or ']'") }
            self.position += 1
            self.depth -= 1
            return .array(items)
        }
    }

    mutating func parseString() throws -> String {
        self.position += 1
        var scalars = String.UnicodeScalarView()
        var start = self.position
        var raw: [UInt8] = []
        while true {
            guard self.position < self.bytes.count else { throw self.fail("unterminated string") }
            let b = self.bytes[self.position]
            if b == UInt8(ascii: "\"") {
                // Most strings have no escape: made from their bytes at once.
                if scalars.isEmpty {
                    let text = String(decoding: self.bytes[start..<self.position], as: UTF8.self)
                    self.position += 1
                    return text
                }
                raw.append(contentsOf: self.bytes[start..<self.position])
                self.position += 1
                break
            }
            if b < 0x20 { throw self.fail("control character in string") }
            if b == UInt8(ascii: "\\") {
                raw.append(contentsOf: self.bytes[start..<self.position])
                self.position += 1
                guard self.position < self.bytes.count else { throw self.fail("unterminated escape") }
                let e = self.bytes[self.position]
                self.position += 1
                var decoded: Unicode.Scalar
                switch e {
                case UInt8(ascii: "\""): decoded = "\""
                case UInt8(ascii: "\\"): decoded = "\\"
                case UInt8(ascii: "/"): decoded = "/"
                case UInt8(ascii: "b"): decoded = "\u{08}"
                case UInt8(ascii: "f"): decoded = "\u{0C}"
                case UInt8(ascii: "n"): decoded = "\n"
                case UInt8(ascii: "r"): decoded = "\r"
                case UInt8(ascii: "t"): decoded = "\t"
                case UInt8(ascii: "u"):
                    var code = try self.hex4()
                    if (0xD800..<0xDC00).contains(code), self.literal("\\u") {
                        let low = try self.hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw self.fail("invalid surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let s = Unicode.Scalar(code) else { throw self.fail("invalid \\u escape") }
                    decoded = s
                default: throw self.fail("invalid escape")
                }
                scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                raw.removeAll(keepingCapacity: true)
                scalars.append(decoded)
                start = self.position
                continue
            }
            self.position += 1
        }
        scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
        return String(scalars)
    }

    mutating func hex4() throws -> UInt32 {
        guard self.position + 4 <= self.bytes.count else { throw self.fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = self.bytes[self.position]
            self.position += 1
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw self.fail("invalid hex digit in \\u escape")
            }
            v = v * 16 + d
        }
        return v
    }

    /// Powers of ten exactly representable as doubles (10^0 … 10^22).
    static let exactPowersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = self.position
        var isInteger = true
        let isNegative = self.bytes[self.position] == UInt8(ascii: "-")
        if isNegative { self.position += 1 }
        // The digits as an integer (while they fit) and the decimal exponent, for the exact fast path below.
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        func digits(fraction: Bool) -> Int {
            let s = self.position
            while self.position < self.bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.position])
            {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(self.bytes[self.position] &- UInt8(ascii: "0"))
                    if mantissa > 0 { significant += 1 }
                    if fraction { exponent -= 1 }
                } else if !fraction {
                    exponent += 1
                }
                self.position += 1
            }
            return self.position - s
        }
        guard digits(fraction: false) > 0 else { throw self.fail("invalid number") }
        var truncated = significant >= 19
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: ".") {
            isInteger = false
            self.position += 1
            guard digits(fraction: true) > 0 else { throw self.fail("invalid number") }
            truncated = truncated || significant >= 19
        }
        var written = 0
        var writtenIsLarge = false
        if self.position < self.bytes.count,
            self.bytes[self.position] == UInt8(ascii: "e") || self.bytes[self.position] == UInt8(ascii: "E")
        {
            isInteger = false
            self.position += 1
            var negativeExponent = false
            if self.position < self.bytes.count,
                self.bytes[self.position] == UInt8(ascii: "+") || self.bytes[self.position] == UInt8(ascii: "-")
            {
                negativeExponent = self.bytes[self.position] == UInt8(ascii: "-")
                self.position += 1
            }
            let s = self.position
            while self.position < self.bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.position])
            {
                if written < 100_000 {
                    written = written * 10 + Int(self.bytes[self.position] - UInt8(ascii: "0"))
                } else {
                    writtenIsLarge = true
                }
                self.position += 1
            }
            guard self.position > s else { throw self.fail("invalid number") }
            if negativeExponent { written = -written }
        }
        // Exact without strtod when the digits fit in 53 bits and the power of ten is exact (Clinger's fast path):
        // one correctly rounded multiplication or division of two exact doubles is the correctly rounded value.
        if !truncated, !writtenIsLarge, mantissa <= 1 << 53 {
            if isInteger {
                let value = Int64(mantissa)
                return .int(isNegative ? -value : value)
            }
            let power = exponent + written
            if (-22...22).contains(power) {
                var value = Double(mantissa)
                value = power >= 0 ? value * Self.exactPowersOfTen[power] : value / Self.exactPowersOfTen[-power]
                return .double(isNegative ? -value : value)
            }
        }
        let text = String(decoding: self.bytes[start..<self.position], as: UTF8.self)
        if isInteger, let i = Int64(text) { return .int(i) }
        guard let d = Double(text) else { throw self.fail("invalid number '\(text)'") }
        return .double(d)
    }
}
