import Foundation

/// What one arm measured over a rollout interval. Unknown values are nil.
public struct ArmMeasurements: Sendable, Hashable {
    /// Requests served in the interval.
    public var requests: Int
    /// Requests that failed in the interval.
    public var errors: Int
    /// Median latency in milliseconds.
    public var p50Ms: Double?
    /// 95th percentile latency in milliseconds.
    public var p95Ms: Double?
    /// 99th percentile latency in milliseconds.
    public var p99Ms: Double?
    /// The key metric computed from feedback, if any.
    public var keyMetric: Double?

    /// Measurements of one arm; pass nil for what is not known.
    public init(
        requests: Int,
        errors: Int,
        p50Ms: Double? = nil,
        p95Ms: Double? = nil,
        p99Ms: Double? = nil,
        keyMetric: Double? = nil
    ) {
        self.requests = requests
        self.errors = errors
        self.p50Ms = p50Ms
        self.p95Ms = p95Ms
        self.p99Ms = p99Ms
        self.keyMetric = keyMetric
    }
}

/// A rollout guardrail such as `error_rate<1%` or `key_metric>=baseline-0.01`: a condition the candidate must
/// satisfy for a rollout to advance. Parse a list with `Guardrail.parseList(_:)`; `description` is the canonical
/// text, which parses back to an equal value.
public struct Guardrail: Sendable, Hashable, CustomStringConvertible {
    /// The measured quantity.
    public enum Metric: String, Sendable, Hashable, CaseIterable {
        /// errors / requests, a fraction (`1%` = 0.01).
        case errorRate = "error_rate"
        /// Median latency, ms.
        case p50Ms = "p50_ms"
        /// 95th percentile latency, ms.
        case p95Ms = "p95_ms"
        /// 99th percentile latency, ms.
        case p99Ms = "p99_ms"
        /// The model's key metric (from feedback).
        case keyMetric = "key_metric"

        var isLatency: Bool { self == .p50Ms || self == .p95Ms || self == .p99Ms }
    }

    /// How the observed value must compare with the limit.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        /// observed < limit
        case lessThan = "<"
        /// observed ≤ limit
        case lessThanOrEqual = "<="
        /// observed > limit
        case greaterThan = ">"
        /// observed ≥ limit
        case greaterThanOrEqual = ">="

        func holds(_ observed: Double, _ limit: Double) -> Bool {
            switch self {
            case .lessThan: observed < limit
            case .lessThanOrEqual: observed <= limit
            case .greaterThan: observed > limit
            case .greaterThanOrEqual: observed >= limit
            }
        }
    }

    /// The right-hand side of a guardrail.
    public enum Threshold: Sendable, Hashable {
        /// A fixed value (a fraction for `error_rate`, milliseconds for latencies).
        case value(Double)
        /// The baseline's value plus `offset` (negative for `baseline-X`; 0 for plain `baseline`).
        case baselinePlus(Double)
        /// The baseline's value times `factor`.
        case baselineTimes(Double)

        func limit(baseline: Double) -> Double {
            switch self {
            case .value(let value): value
            case .baselinePlus(let offset): baseline + offset
            case .baselineTimes(let factor): baseline * factor
            }
        }
    }

    /// The measured quantity.
    public var metric: Metric
    /// The comparison.
    public var comparison: Comparison
    /// The limit.
    public var threshold: Threshold

    /// A guardrail `metric comparison threshold`.
    public init(metric: Metric, comparison: Comparison, threshold: Threshold) {
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
    }

    /// Canonical text: no spaces, `error_rate` values in percent, `baseline` for a zero offset.
    public var description: String {
        let rhs: String
        switch self.threshold {
        case .value(let value):
            rhs = self.formatQuantity(value)
        case .baselinePlus(let offset):
            if offset == 0 {
                rhs = "baseline"
            } else {
                rhs = "baseline\(offset < 0 ? "-" : "+")\(self.formatQuantity(abs(offset)))"
            }
        case .baselineTimes(let factor):
            rhs = "baseline*\(DecimalText.plain(factor))"
        }
        return "\(self.metric.rawValue)\(self.comparison.rawValue)\(rhs)"
    }

    private func formatQuantity(_ value: Double) -> String {
        self.metric == .errorRate ? DecimalText.percent(value) : DecimalText.plain(value)
    }
}

/// Why guardrail text could not be parsed: which guardrail (1-based index and its text) and what was expected.
public struct GuardrailParseError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// 1-based position of the guardrail in the comma-separated list.
    public var index: Int
    /// The guardrail's text, trimmed.
    public var text: String
    /// What was wrong or expected.
    public var expected: String

    /// E.g. "guardrail 2 'p99_ms<<20': expected one of <, <=, >, >= after p99_ms".
    public var description: String { "guardrail \(self.index) '\(self.text)': \(self.expected)" }

    /// Same as `description`.
    public var errorDescription: String? { self.description }
}

extension Guardrail {
    /// Parses a comma-separated list such as `"error_rate<1%,p99_ms<20,key_metric>=baseline-0.01"`.
    /// Whitespace is allowed around every token; duplicates are kept. Text that is empty or only whitespace gives
    /// no guardrails; an empty item between commas is an error.
    public static func parseList(_ text: String) throws(GuardrailParseError) -> [Guardrail] {
        if text.allSatisfy(\.isWhitespace) { return [] }
        var guardrails: [Guardrail] = []
        for (offset, item) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            guardrails.append(try self.parse(String(item), index: offset + 1))
        }
        return guardrails
    }

    /// Parses one guardrail such as `p99_ms < 20`; `index` only labels errors.
    public static func parse(_ text: String, index: Int = 1) throws(GuardrailParseError) -> Guardrail {
        var scanner = GuardrailScanner(text: text)
        func fail(_ expected: String) -> GuardrailParseError {
            GuardrailParseError(
                index: index,
                text: text.trimmingCharacters(in: .whitespaces),
                expected: expected
            )
        }
        let metrics = Metric.allCases.map(\.rawValue).joined(separator: ", ")
        let name = scanner.word()
        if name.isEmpty {
            throw fail(
                scanner.isAtEnd ? "empty guardrail: expected a metric (\(metrics))" : "expected a metric (\(metrics))"
            )
        }
        guard let metric = Metric(rawValue: name) else {
            throw fail("unknown metric '\(name)': expected one of \(metrics)")
        }
        let operatorText = scanner.operatorRun()
        guard let comparison = Comparison(rawValue: operatorText) else {
            throw fail("expected one of <, <=, >, >= after \(metric.rawValue)")
        }
        let left = "\(metric.rawValue)\(comparison.rawValue)"
        let threshold: Threshold
        let forms = "a number, baseline, baseline+X, baseline-X or baseline*X"
        if scanner.consume("baseline") {
            if scanner.isAtEnd {
                threshold = .baselinePlus(0)
            } else if let sign = scanner.consumeOne(of: "+-*") {
                guard let number = scanner.number(allowSign: false) else {
                    throw fail("expected a number after \(left)baseline\(sign)")
                }
                if sign == "*" {
                    // No sign is accepted after the operator, so the factor is never negative.
                    threshold = .baselineTimes(try self.value(number, of: metric, multiplier: true, fail: fail))
                } else {
                    let offset = try self.value(number, of: metric, multiplier: false, fail: fail)
                    threshold = .baselinePlus(sign == "-" ? -offset : offset)
                }
            } else {
                throw fail("expected +, - or * after \(left)baseline, or the end of the guardrail")
            }
        } else if let number = scanner.number(allowSign: true) {
            let value = try self.value(number, of: metric, multiplier: false, fail: fail)
            if metric != .keyMetric && value < 0 {
                throw fail("expected a number ≥ 0 after \(left)")
            }
            threshold = .value(value)
        } else {
            throw fail("expected \(forms) after \(left)")
        }
        if !scanner.isAtEnd {
            throw fail("unexpected '\(scanner.rest)' after '\(scanner.consumed)'")
        }
        return Guardrail(metric: metric, comparison: comparison, threshold: threshold)
    }

    /// Converts a scanned number to the metric's unit: `%` divides by 100, and is refused for latencies
    /// (milliseconds) except in a factor.
    private static func value(
        _ number: GuardrailScanner.Number,
        of metric: Metric,
        multiplier: Bool,
        fail: (String) -> GuardrailParseError
    ) throws(GuardrailParseError) -> Double {
        if number.percent && metric.isLatency && !multiplier {
            throw fail("\(metric.rawValue) is in milliseconds: write '\(number.digits)' without %, or use baseline*X")
        }
        guard let value = number.value, value.isFinite else {
            throw fail("'\(number.digits)' is not a finite number")
        }
        return value
    }
}

// MARK: - Evaluation

/// The outcome of checking one guardrail.
public enum GuardrailVerdict: Sendable, Hashable {
    /// The candidate is within the limit.
    case holds(observed: Double, limit: Double)
    /// The candidate broke the limit; `reason` reads well as a rollback reason.
    case breached(observed: Double, limit: Double, reason: String)
    /// Not enough information to judge (too few requests, an unknown value, no baseline).
    case undetermined(reason: String)
}

extension Guardrail {
    /// Checks the candidate against this guardrail. Undetermined when the candidate, or the baseline if the
    /// guardrail refers to it, has fewer than `minimumRequests` requests (at least 1 for `error_rate`), when the
    /// metric is unknown (nil or not finite) for an arm that is needed, when an arm's counts are inconsistent, or
    /// when the guardrail refers to the baseline and `baseline` is nil.
    public func evaluate(
        candidate: ArmMeasurements,
        baseline: ArmMeasurements?,
        minimumRequests: Int
    ) -> GuardrailVerdict {
        let needed = max(minimumRequests, self.metric == .errorRate ? 1 : 0)
        if candidate.requests < needed {
            return .undetermined(
                reason: "the candidate has \(candidate.requests) of the \(needed) requests needed to judge \(self)"
            )
        }
        if let reason = Self.invalidCounts(candidate, label: "the candidate") {
            return .undetermined(reason: reason)
        }
        guard let observed = self.value(of: candidate) else {
            return .undetermined(
                reason: "\(self.metric.rawValue) is unknown for the candidate, needed to judge \(self)"
            )
        }
        let limit: Double
        var baselineNote = ""
        switch self.threshold {
        case .value(let value):
            limit = value
        case .baselinePlus, .baselineTimes:
            guard let baseline else {
                return .undetermined(reason: "\(self) needs the baseline, which has no measurements")
            }
            if baseline.requests < needed {
                return .undetermined(
                    reason: "the baseline has \(baseline.requests) of the \(needed) requests needed to judge \(self)"
                )
            }
            if let reason = Self.invalidCounts(baseline, label: "the baseline") {
                return .undetermined(reason: reason)
            }
            guard let base = self.value(of: baseline) else {
                return .undetermined(
                    reason: "\(self.metric.rawValue) is unknown for the baseline, needed to judge \(self)"
                )
            }
            limit = self.threshold.limit(baseline: base)
            baselineNote = " (baseline \(self.format(base, of: baseline)), limit \(self.format(limit, of: nil)))"
        }
        if self.comparison.holds(observed, limit) {
            return .holds(observed: observed, limit: limit)
        }
        let reason =
            "\(self.metric.rawValue) \(self.format(observed, of: candidate)) breached \(self)\(baselineNote)"
        return .breached(observed: observed, limit: limit, reason: reason)
    }

    private static func invalidCounts(_ arm: ArmMeasurements, label: String) -> String? {
        guard arm.errors < 0 || arm.errors > arm.requests else { return nil }
        return "\(label) reports \(arm.errors) errors out of \(arm.requests) requests"
    }

    private func value(of arm: ArmMeasurements) -> Double? {
        let value: Double?
        switch self.metric {
        case .errorRate:
            value = arm.requests > 0 ? Double(arm.errors) / Double(arm.requests) : nil
        case .p50Ms: value = arm.p50Ms
        case .p95Ms: value = arm.p95Ms
        case .p99Ms: value = arm.p99Ms
        case .keyMetric: value = arm.keyMetric
        }
        guard let value, value.isFinite else { return nil }
        return value
    }

    /// A value for a reason: "12.5% (5 of 40 requests)", "31.2 ms", "0.81".
    private func format(_ value: Double, of arm: ArmMeasurements?) -> String {
        switch self.metric {
        case .errorRate:
            let percent = DecimalText.readable(value * 100) + "%"
            guard let arm else { return percent }
            return "\(percent) (\(arm.errors) of \(arm.requests) request\(arm.requests == 1 ? "" : "s"))"
        case .p50Ms, .p95Ms, .p99Ms:
            return DecimalText.readable(value) + " ms"
        case .keyMetric:
            return DecimalText.readable(value)
        }
    }
}

// MARK: - Text helpers

/// A tiny scanner over a guardrail's characters that skips whitespace between tokens.
private struct GuardrailScanner {
    struct Number {
        /// The number as written, without `%`.
        var digits: String
        var percent: Bool

        /// The value, with `%` applied by moving the decimal exponent (so `0.3%` is exactly the double 0.003).
        var value: Double? {
            guard self.percent else { return Double(self.digits) }
            let lower = self.digits.lowercased()
            if let e = lower.firstIndex(of: "e") {
                guard let exponent = Int(lower[lower.index(after: e)...]) else { return nil }
                return Double("\(lower[..<e])e\(exponent - 2)")
            }
            return Double("\(lower)e-2")
        }
    }

    private let characters: [Character]
    private var position = 0

    init(text: String) {
        self.characters = Array(text)
    }

    var isAtEnd: Bool {
        mutating get {
            self.skipWhitespace()
            return self.position == self.characters.count
        }
    }

    /// What is left, trimmed.
    var rest: String {
        String(self.characters[self.position...]).trimmingCharacters(in: .whitespaces)
    }

    /// What was read so far, trimmed.
    var consumed: String {
        String(self.characters[..<self.position]).trimmingCharacters(in: .whitespaces)
    }

    private mutating func skipWhitespace() {
        while self.position < self.characters.count && self.characters[self.position].isWhitespace {
            self.position += 1
        }
    }

    /// Letters, digits and underscores.
    mutating func word() -> String {
        self.skipWhitespace()
        let start = self.position
        while self.position < self.characters.count {
            let c = self.characters[self.position]
            guard c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) else { break }
            self.position += 1
        }
        return String(self.characters[start..<self.position])
    }

    /// The longest run of <, >, =, ! (so `<<` and `=<` are read whole and rejected).
    mutating func operatorRun() -> String {
        self.skipWhitespace()
        let start = self.position
        while self.position < self.characters.count && "<>=!".contains(self.characters[self.position]) {
            self.position += 1
        }
        return String(self.characters[start..<self.position])
    }

    /// Consumes `keyword` if it comes next.
    mutating func consume(_ keyword: String) -> Bool {
        self.skipWhitespace()
        let word = Array(keyword)
        guard self.position + word.count <= self.characters.count,
            Array(self.characters[self.position..<self.position + word.count]) == word
        else { return false }
        self.position += word.count
        return true
    }

    /// Consumes one of `options` if it comes next.
    mutating func consumeOne(of options: String) -> Character? {
        self.skipWhitespace()
        guard self.position < self.characters.count, options.contains(self.characters[self.position]) else {
            return nil
        }
        defer { self.position += 1 }
        return self.characters[self.position]
    }

    /// A decimal number `[sign] digits [. digits] [e [sign] digits]`, then an optional `%`. Nil (and nothing
    /// consumed) when no digits come next.
    mutating func number(allowSign: Bool) -> Number? {
        self.skipWhitespace()
        let start = self.position
        var index = self.position
        func peek() -> Character? { index < self.characters.count ? self.characters[index] : nil }
        func digits() -> Int {
            var count = 0
            while let c = peek(), c.isASCII, c.isNumber {
                index += 1
                count += 1
            }
            return count
        }
        if allowSign, let c = peek(), c == "+" || c == "-" { index += 1 }
        var mantissaDigits = digits()
        if peek() == "." {
            index += 1
            mantissaDigits += digits()
        }
        guard mantissaDigits > 0 else {
            self.position = start
            return nil
        }
        if let c = peek(), c == "e" || c == "E" {
            let beforeExponent = index
            index += 1
            if let sign = peek(), sign == "+" || sign == "-" { index += 1 }
            if digits() == 0 { index = beforeExponent }
        }
        let text = String(self.characters[start..<index])
        self.position = index
        self.skipWhitespace()
        var percent = false
        if self.position < self.characters.count && self.characters[self.position] == "%" {
            percent = true
            self.position += 1
        }
        return Number(digits: text, percent: percent)
    }
}

/// Formats doubles as plain decimal text.
enum DecimalText {
    /// The shortest decimal that reads back as `value`, written without an exponent ("20", "0.01", "0.00001").
    static func plain(_ value: Double) -> String {
        self.shifted(value, by: 0)
    }

    /// `value` × 100 with a % sign, by moving the decimal point of the shortest representation, so the text reads
    /// back exactly as `value` ("0.01" → "1%", "0.003" → "0.3%").
    static func percent(_ value: Double) -> String {
        self.shifted(value, by: 2) + "%"
    }

    /// Up to four significant digits (more for large integers), for messages: "12.5", "33.33", "0.0125", "1250".
    static func readable(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1000 { return String(format: "%.0f", value) }
        var text = String(format: "%.4g", value)
        if text.contains("e") { return text }
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// Writes the shortest representation of `value` × 10^shift in positional notation.
    private static func shifted(_ value: Double, by shift: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        // Swift's description is the shortest round-tripping decimal, e.g. "0.01", "20.0", "1e-05", "1.5e+20".
        var text = "\(abs(value))".lowercased()
        var exponent = shift
        if let e = text.firstIndex(of: "e") {
            exponent += Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var integerPart = text
        var fractionPart = ""
        if let dot = text.firstIndex(of: ".") {
            integerPart = String(text[..<dot])
            fractionPart = String(text[text.index(after: dot)...])
        }
        var digits = integerPart + fractionPart
        var pointPosition = integerPart.count + exponent
        // Trim leading zeros (keeping the point where it is) and trailing zeros.
        while digits.count > 1 && digits.hasPrefix("0") {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.count > 1 && digits.hasSuffix("0") && digits.count > pointPosition {
            digits.removeLast()
        }
        if digits == "0" { return "0" }
        let result: String
        if pointPosition <= 0 {
            result = "0." + String(repeating: "0", count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            result = digits + String(repeating: "0", count: pointPosition - digits.count)
        } else {
            let split = digits.index(digits.startIndex, offsetBy: pointPosition)
            result = String(digits[..<split]) + "." + String(digits[split...])
        }
        return (value < 0 ? "-" : "") + result
    }
}
