import Foundation
import SlipwayRegistry
import SlipwayRuntime
import Testing

@testable import SlipwayBatch

struct BatchRecordReaderTests {
    func records(_ bytes: [UInt8], _ format: BatchJob.Format) throws -> [BatchRecordReader.Record] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString).input")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let reader = try BatchRecordReader(url: url, format: format)
        var records: [BatchRecordReader.Record] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    func records(_ text: String, _ format: BatchJob.Format = .csv) throws -> [BatchRecordReader.Record] {
        try self.records(Array(text.utf8), format)
    }

    @Test
    func readsQuotedFieldsAcrossLinesAndCRLF() throws {
        let records = try self.records("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\n1,,3")
        #expect(
            records == [
                .fields(["a", "b", "c"]),
                .fields(["x, y", "say \"hi\"", "two\nlines"]),
                .fields(["1", "", "3"]),
            ]
        )
    }

    @Test
    func reportsBadQuotingAndGoesOn() throws {
        let records = try self.records("a\"b,c\n\"x\"y,z\nok,1\n\"open,2\n")
        #expect(records.count == 4, "\(records)")
        guard records.count == 4 else { return }
        #expect(
            records[0] == .malformed("a quote inside an unquoted field (quote the whole field and double inner quotes)")
        )
        #expect(records[1] == .malformed("text after a closing quote (expected a comma or the end of the line)"))
        #expect(records[2] == .fields(["ok", "1"]))
        #expect(records[3] == .malformed("a quoted field is not closed before the end of the file"))
    }

    @Test
    func reportsFieldsThatAreNotUTF8() throws {
        let records = try self.records(Array("a,b\n".utf8) + [0x31, 0x2C, 0xFF, 0x0A] + Array("2,3\n".utf8), .csv)
        #expect(records == [.fields(["a", "b"]), .malformed("column 2 is not UTF-8 text"), .fields(["2", "3"])])
        let lines = try self.records([0x7B, 0xFF, 0x7D, 0x0A, 0x5B, 0x31, 0x5D], .jsonl)
        #expect(lines == [.malformed("the line is not UTF-8 text"), .line("[1]")])
    }

    @Test
    func skipsBlankLinesAndReadsAnEmptyFileAsNothing() throws {
        #expect(try self.records("").isEmpty)
        #expect(try self.records("\n\n  \n", .jsonl).isEmpty)
        #expect(try self.records("{}\r\n\n[2]", .jsonl) == [.line("{}"), .line("[2]")])
    }

    @Test
    func decodesRowsByTheSchema() throws {
        let schema = FeatureSchema(
            features: [
                "size": .init(name: "size", type: .float),
                "name": .init(name: "name", type: .string),
                "flag": .init(name: "flag", type: .boolean, isRequired: false),
            ],
            order: ["size", "name", "flag"]
        )
        #expect(throws: BatchInputError.self) {
            try BatchRowDecoder(schema: schema, format: .csv, header: ["size", "colour"])
        }
        #expect(throws: BatchInputError.self) { try BatchRowDecoder(schema: schema, format: .csv, header: ["size"]) }
        #expect(throws: BatchInputError.self) {
            try BatchRowDecoder(schema: schema, format: .csv, header: ["size", "name", "size"])
        }
        let decoder = try BatchRowDecoder(schema: schema, format: .csv, header: ["name", "size", "flag"])
        #expect(
            decoder.decode(.fields(["007", "1.5", "true"]))
                == .named(["name": .string("007"), "size": .number(1.5), "flag": .bool(true)])
        )
        #expect(decoder.decode(.fields(["x", "2", ""])) == .named(["name": .string("x"), "size": .integer(2)]))
        #expect(
            decoder.decode(.fields(["x"]))
                == .bad(field: "columns", problem: "expected 3 columns as in the header, got 1")
        )
        let positional = try BatchRowDecoder(schema: nil, format: .csv, header: ["a", "b"])
        #expect(positional.decode(.fields(["1", "x"])) == .positional([.integer(1), .string("x")]))
        let lines = try BatchRowDecoder(schema: nil, format: .jsonl, header: nil)
        #expect(lines.decode(.line(#"{"features": {"a": 1}}"#)) == .named(["a": .integer(1)]))
        #expect(lines.decode(.line(#"{"ndarray": [[1, 2]]}"#)) == .positional([.integer(1), .integer(2)]))
        #expect(lines.decode(.line("[1.5]")) == .positional([.number(1.5)]))
        #expect(
            lines.decode(.line("3"))
                == .bad(field: "line", problem: "each line must be a JSON object (features) or array (ndarray)")
        )
    }
}
