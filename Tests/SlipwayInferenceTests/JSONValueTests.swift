import Testing

@testable import SlipwayInference

@Suite("JSONValue")
struct JSONValueTests {
    @Test("strings are escaped where JSON requires it and UTF-8 passes through")
    func escapesStrings() {
        let value = JSONValue.string("a\"b\\c\nd\re\tf\u{01}g\u{1F}h é 🙂 </script>")
        #expect(value.serialized() == #""a\"b\\c\nd\re\tf\u0001g\u001fh é 🙂 </script>""#)
    }

    @Test("strings parse with and without escapes, anywhere in the string")
    func parsesStrings() throws {
        let cases: [(String, String)] = [
            (#""plain""#, "plain"), (#""""#, ""), (#""é 🙂 ü""#, "é 🙂 ü"), (#""\"start""#, "\"start"),
            (#""mid\ndle""#, "mid\ndle"), (#""end\\""#, "end\\"), (#""\u00e9\ud83d\ude42x""#, "é🙂x"),
            (#""a\tb\/c\"d""#, "a\tb/c\"d"),
        ]
        for (text, expected) in cases {
            #expect(try JSONValue.parse(Array(text.utf8)) == .string(expected), "\(text)")
        }
        // Invalid UTF-8 is repaired (U+FFFD), with or without an escape before it.
        #expect(try JSONValue.parse([0x22, 0x61, 0xFF, 0x22]) == .string("a\u{FFFD}"))
        #expect(try JSONValue.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) == .string("\n\u{FFFD}"))
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(#""unterminated"#.utf8)) }
    }

    @Test("numbers keep their exact form: integers, floats in shortest form, non-finite literals")
    func writesNumbers() {
        let value = JSONValue.array([
            .int(-9_223_372_036_854_775_808), .double(2), .double(0.1), .float(0.1), .float(3), .double(.nan),
            .double(-.infinity), .float(.infinity), .double(1e300), .bool(true), .null,
        ])
        #expect(
            value.serialized()
                == "[-9223372036854775808,2.0,0.1,0.1,3.0,NaN,-Infinity,Infinity,1e+300,true,null]"
        )
    }

    @Test("numbers parse to exactly what strtod gives: short decimals, long ones, exponents, integers, edges")
    func parsesNumbersExactly() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "0", "-0", "0.0", "-0.0", "007", "1e5", "1E-5", "2.5e+3", "9007199254740992", "9007199254740993",
            "9223372036854775807", "-9223372036854775808", "12345678901234567890", "0.1", "0.30000000000000004",
            "1e22", "1e23", "1e-22", "1e-23", "123456789012345678901234567890", "4.9e-324", "1.7976931348623157e308",
            "1e400", "-1e-400", "0.000000000000000000001", "17.99", "1.0000000000000002", "3.141592653589793238",
        ]
        for _ in 0..<20_000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            if value.isFinite { texts.append("\(value)") }
            let digits = Int.random(in: 1...20, using: &generator)
            let mantissa = String((0..<digits).map { _ in "0123456789".randomElement(using: &generator)! })
            let point = Int.random(in: 0...digits, using: &generator)
            var text = String(mantissa.prefix(point)) + (point < digits ? "." + mantissa.dropFirst(point) : "")
            if text.hasPrefix(".") { text = "0" + text }
            if Bool.random(using: &generator) { text += "e\(Int.random(in: -30...30, using: &generator))" }
            texts.append(Bool.random(using: &generator) ? "-" + text : text)
        }
        for text in texts {
            let parsed = try JSONValue.parse(Array(text.utf8))
            if let integer = Int64(text), !text.contains(".") {
                #expect(parsed == .int(integer), "\(text)")
            } else {
                let expected = try #require(Double(text), "\(text)")
                guard case .double(let value) = parsed else {
                    Issue.record("\(text) parsed as \(parsed)")
                    continue
                }
                #expect(value.bitPattern == expected.bitPattern, "\(text): \(value) against \(expected)")
            }
        }
    }

    @Test("objects keep member order and round-trip through the parser")
    func roundTrips() throws {
        let value = JSONValue.object([
            ("z", .array([.int(1), .object([("k\"ey", .string("v"))])])), ("a", .array([])), ("m", .object([])),
        ])
        let bytes = value.serializedBytes()
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"z":[1,{"k\"ey":"v"}],"a":[],"m":{}}"#)
        #expect(try JSONValue.parse(bytes) == value)
    }
}
