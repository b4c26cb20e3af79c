import Foundation

/// Numeric elements with the total (never trapping) arithmetic the math kernels use: integer operations wrap
/// like C, integer division by zero yields 0 instead of trapping, out-of-range conversions from `Double` give `.min`.
package protocol MathElement: NumericElement {
    /// The smallest representable value (`-inf` for floating point).
    static var lowest: Self { get }
    /// The largest representable value (`+inf` for floating point).
    static var highest: Self { get }
    /// The value as a `Double`.
    var asDouble: Double { get }
    /// Converts a `Double`, truncating toward zero for integers; NaN and out-of-range values give `.min`
    /// for integers (the x86 "integer indefinite" value ONNX Runtime produces).
    init(converting value: Double)
    /// Sum, wrapping for integers.
    static func add(_ a: Self, _ b: Self) -> Self
    /// Difference, wrapping for integers.
    static func subtract(_ a: Self, _ b: Self) -> Self
    /// Product, wrapping for integers.
    static func multiply(_ a: Self, _ b: Self) -> Self
    /// Division; integers truncate toward zero and give 0 on division by zero.
    static func divide(_ a: Self, _ b: Self) -> Self
    /// `a` raised to `b`; integers use exact wrapping exponentiation (negative exponents give 0 unless |a| = 1).
    static func power(_ a: Self, _ b: Self) -> Self
    /// Remainder with the sign of the dividend (C `fmod`, `%`); integers give 0 for a zero divisor.
    static func truncatingRemainder(_ a: Self, _ b: Self) -> Self
    /// Remainder with the sign of the divisor (Python `%`); integers give 0 for a zero divisor.
    static func flooredRemainder(_ a: Self, _ b: Self) -> Self
    /// Negation, wrapping for integers.
    static func negate(_ a: Self) -> Self
    /// The larger value; NaN propagates.
    static func maximum(_ a: Self, _ b: Self) -> Self
    /// The smaller value; NaN propagates.
    static func minimum(_ a: Self, _ b: Self) -> Self
    /// Whether the value is NaN (always false for integers).
    var isNaNValue: Bool { get }
}

/// Floating-point elements with the elementary functions the unary kernels need.
package protocol FloatMathElement: MathElement, BinaryFloatingPoint {
    /// e^x.
    static func exponential(_ x: Self) -> Self
    /// Natural logarithm.
    static func logarithm(_ x: Self) -> Self
    /// tanh(x).
    static func hyperbolicTangent(_ x: Self) -> Self
    /// erf(x).
    static func errorFunction(_ x: Self) -> Self
}

extension MathElement where Self: BinaryFloatingPoint {
    package static var lowest: Self { -.infinity }
    package static var highest: Self { .infinity }
    package var asDouble: Double { Double(self) }
    package init(converting value: Double) { self.init(value) }
    package static func add(_ a: Self, _ b: Self) -> Self { a + b }
    package static func subtract(_ a: Self, _ b: Self) -> Self { a - b }
    package static func multiply(_ a: Self, _ b: Self) -> Self { a * b }
    package static func divide(_ a: Self, _ b: Self) -> Self { a / b }
    package static func negate(_ a: Self) -> Self { -a }
    package static func truncatingRemainder(_ a: Self, _ b: Self) -> Self { a.truncatingRemainder(dividingBy: b) }
    package static func flooredRemainder(_ a: Self, _ b: Self) -> Self {
        let r = a.truncatingRemainder(dividingBy: b)
        if r == 0 { return Self(signOf: b, magnitudeOf: 0) }
        return (r < 0) != (b < 0) ? r + b : r
    }
    package static func maximum(_ a: Self, _ b: Self) -> Self { a.isNaN || a > b ? a : b }
    package static func minimum(_ a: Self, _ b: Self) -> Self { a.isNaN || a < b ? a : b }
    package var isNaNValue: Bool { self.isNaN }
}

extension MathElement where Self: FixedWidthInteger {
    package static var lowest: Self { .min }
    package static var highest: Self { .max }
    package var asDouble: Double { Double(self) }
    package init(converting value: Double) {
        // -Double(Self.min) is exactly 2^(bits-1), the first value above the range.
        if value.isNaN || value >= -Double(Self.min) || value < Double(Self.min) {
            self = .min
        } else {
            self.init(value.rounded(.towardZero))
        }
    }
    package static func add(_ a: Self, _ b: Self) -> Self { a &+ b }
    package static func subtract(_ a: Self, _ b: Self) -> Self { a &- b }
    package static func multiply(_ a: Self, _ b: Self) -> Self { a &* b }
    package static func divide(_ a: Self, _ b: Self) -> Self {
        if b == 0 { return 0 }
        return a.dividedReportingOverflow(by: b).partialValue
    }
    package static func power(_ a: Self, _ b: Self) -> Self {
        if b < 0 {
            if a == 1 { return 1 }
            if a == -1 { return b & 1 == 0 ? 1 : -1 }
            return 0
        }
        var result: Self = 1
        var base = a
        var e = b
        while e > 0 {
            if e & 1 == 1 { result = result &* base }
            e >>= 1
            if e > 0 { base = base &* base }
        }
        return result
    }
    package static func negate(_ a: Self) -> Self { 0 &- a }
    package static func truncatingRemainder(_ a: Self, _ b: Self) -> Self {
        if b == 0 { return 0 }
        return a.remainderReportingOverflow(dividingBy: b).partialValue
    }
    package static func flooredRemainder(_ a: Self, _ b: Self) -> Self {
        let r = Self.truncatingRemainder(a, b)
        return r != 0 && (r < 0) != (b < 0) ? r &+ b : r
    }
    package static func maximum(_ a: Self, _ b: Self) -> Self { a > b ? a : b }
    package static func minimum(_ a: Self, _ b: Self) -> Self { a < b ? a : b }
    package var isNaNValue: Bool { false }
}

extension Float: FloatMathElement {
    package static func power(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) }
    package static func exponential(_ x: Float) -> Float { Foundation.exp(x) }
    package static func logarithm(_ x: Float) -> Float { Foundation.log(x) }
    package static func hyperbolicTangent(_ x: Float) -> Float { Foundation.tanh(x) }
    package static func errorFunction(_ x: Float) -> Float { Foundation.erf(x) }
}

extension Double: FloatMathElement {
    package static func power(_ a: Double, _ b: Double) -> Double { Foundation.pow(a, b) }
    package static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    package static func logarithm(_ x: Double) -> Double { Foundation.log(x) }
    package static func hyperbolicTangent(_ x: Double) -> Double { Foundation.tanh(x) }
    package static func errorFunction(_ x: Double) -> Double { Foundation.erf(x) }
}

extension Int64: MathElement {}
extension Int32: MathElement {}

/// Shared element-type sets for operator validation.
package enum MathTypes {
    /// float and double.
    package static let floating: Set<ElementType> = [.float, .double]
    /// float, double, int32 and int64.
    package static let numeric: Set<ElementType> = [.float, .double, .int32, .int64]
}
