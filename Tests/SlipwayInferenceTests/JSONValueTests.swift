import Testing

@testable import SlipwayInference

@Suite("JSONValue")
struct JSONValueTests {
    @Test("strings are escaped where JSON requires it and UTF-8 passes through")
    func escapesStrings() {
        let value = JSONValue.string("a\"b\\c\nd\re\tf\u{01}g\u{1F}h é 🙂 </script>")
        #expect(value.serialized() == #""a\"b\\c\nd\re\tf\u0001g\u001fh é 🙂 </script>""#)
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
