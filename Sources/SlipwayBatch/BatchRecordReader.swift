import Foundation
import SlipwayRegistry

/// Reads a batch input file record by record, in bounded memory: CSV records (RFC 4180 quoting, quoted fields may
/// span lines) or JSONL lines. Blank lines are skipped. A record that cannot be read (bad quoting, not UTF-8, too
/// long) comes back as ``Record/malformed(_:)`` and reading goes on with the next line.
public final class BatchRecordReader {
    /// One record of the file.
    public enum Record: Equatable, Sendable {
        /// CSV fields.
        case fields([String])
        /// One JSONL line's text.
        case line(String)
        /// A record that could not be read, and why.
        case malformed(String)
    }

    /// The longest record accepted, in bytes.
    public static let maximumRecordBytes = 1 << 20

    private let handle: FileHandle
    private let format: BatchJob.Format
    private var buffer: [UInt8] = []
    private var position = 0
    private var isAtEnd = false

    /// Opens `url` for reading records of `format`.
    public init(url: URL, format: BatchJob.Format) throws {
        self.handle = try FileHandle(forReadingFrom: url)
        self.format = format
    }

    deinit {
        try? self.handle.close()
    }

    /// The next record, or `nil` at the end of the file.
    public func next() throws -> Record? {
        switch self.format {
        case .csv: try self.nextCSV()
        case .jsonl: try self.nextLine()
        }
    }

    private func byte() throws -> UInt8? {
        if self.position == self.buffer.count {
            if self.isAtEnd { return nil }
            let data = try self.handle.read(upToCount: 1 << 16) ?? Data()
            if data.isEmpty {
                self.isAtEnd = true
                return nil
            }
            self.buffer = Array(data)
            self.position = 0
        }
        defer { self.position += 1 }
        return self.buffer[self.position]
    }

    /// Skips to just after the next newline.
    private func skipLine() throws {
        while let byte = try self.byte(), byte != UInt8(ascii: "\n") {}
    }

    private func nextLine() throws -> Record? {
        while true {
            var bytes: [UInt8] = []
            var sawAny = false
            var tooLong = false
            while let byte = try self.byte() {
                sawAny = true
                if byte == UInt8(ascii: "\n") { break }
                if bytes.count >= Self.maximumRecordBytes {
                    tooLong = true
                    continue
                }
                bytes.append(byte)
            }
            if !sawAny { return nil }
            if tooLong { return .malformed("the line is longer than \(Self.maximumRecordBytes) bytes") }
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                return .malformed("the line is not UTF-8 text")
            }
            if text.allSatisfy(\.isWhitespace) { continue }
            return .line(text)
        }
    }

    private func nextCSV() throws -> Record? {
        let quote = UInt8(ascii: "\"")
        let comma = UInt8(ascii: ",")
        let newline = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")
        while true {
            var fields: [[UInt8]] = []
            var field: [UInt8] = []
            var isQuoted = false
            var inQuotes = false
            var closedQuote = false
            var size = 0
            var sawAny = false
            var problem: String?
            var pendingReturn = false
            recordLoop: while true {
                guard let byte = try self.byte() else {
                    if inQuotes { problem = "a quoted field is not closed before the end of the file" }
                    break recordLoop
                }
                sawAny = true
                size += 1
                if size > Self.maximumRecordBytes {
                    problem = "the record is longer than \(Self.maximumRecordBytes) bytes"
                    if !inQuotes { try self.skipLine() }
                    break recordLoop
                }
                if inQuotes {
                    if byte == quote {
                        inQuotes = false
                        closedQuote = true
                    } else {
                        field.append(byte)
                    }
                    continue
                }
                if pendingReturn && byte != newline {
                    // A lone carriage return inside a record is kept as text.
                    field.append(carriageReturn)
                }
                pendingReturn = false
                switch byte {
                case comma:
                    fields.append(field)
                    field = []
                    isQuoted = false
                    closedQuote = false
                case newline:
                    break recordLoop
                case carriageReturn:
                    pendingReturn = true
                case quote:
                    if closedQuote {
                        // `""` inside a quoted field is one quote.
                        field.append(quote)
                        inQuotes = true
                        closedQuote = false
                    } else if field.isEmpty && !isQuoted {
                        isQuoted = true
                        inQuotes = true
                    } else {
                        problem = "a quote inside an unquoted field (quote the whole field and double inner quotes)"
                        try self.skipLine()
                        break recordLoop
                    }
                default:
                    if closedQuote {
                        problem = "text after a closing quote (expected a comma or the end of the line)"
                        try self.skipLine()
                        break recordLoop
                    }
                    field.append(byte)
                }
            }
            if !sawAny { return nil }
            if let problem { return .malformed(problem) }
            fields.append(field)
            if fields.count == 1 && fields[0].isEmpty && !isQuoted { continue }  // a blank line
            var texts: [String] = []
            texts.reserveCapacity(fields.count)
            for (index, bytes) in fields.enumerated() {
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    return .malformed("column \(index + 1) is not UTF-8 text")
                }
                texts.append(text)
            }
            return .fields(texts)
        }
    }
}
