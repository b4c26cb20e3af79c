import Foundation

/// The standard normal distribution N(0, 1).
public enum Normal {
    /// P(Z ≤ x), from Foundation's `erfc` (accurate to a few ulp relative, in both tails).
    public static func cdf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        return 0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// P(Z > x), accurate in the upper tail where `1 - cdf(x)` would cancel.
    public static func survival(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        return 0.5 * erfc(x / 2.0.squareRoot())
    }

    /// The density of N(0, 1) at `x`.
    public static func pdf(_ x: Double) -> Double {
        exp(-0.5 * x * x) / (2.0 * Double.pi).squareRoot()
    }

    /// The quantile (inverse CDF): the `x` with `cdf(x) == p`. Returns -infinity for 0, +infinity for 1 and NaN
    /// outside [0, 1]. A rational approximation (P. J. Acklam's, about 1e-9 relative) refined by Halley steps
    /// on the lower tail, so the result is good to a few ulp.
    public static func quantile(_ p: Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p == 0.5 { return 0 }
        // Work on the lower tail: for p > 0.5, 1 - p is exact (Sterbenz), and the result is symmetric.
        if p > 0.5 { return -self.lowerTailQuantile(1 - p) }
        return self.lowerTailQuantile(p)
    }

    /// Quantile for 0 < q < 0.5 (result negative).
    private static func lowerTailQuantile(_ q: Double) -> Double {
        var x = self.acklam(q)
        // Halley's method on f(x) = cdf(x) - q, f' = pdf, f'' = -x pdf. Each step triples the correct digits.
        for _ in 0..<4 {
            let density = self.pdf(x)
            guard density > 0, density.isFinite else { break }
            let u = (self.cdf(x) - q) / density
            let step = u / (1 + 0.5 * x * u)
            guard step.isFinite else { break }
            x -= step
            if abs(step) <= 1e-16 * abs(x) { break }
        }
        return x
    }

    /// Acklam's rational approximation of the normal quantile for 0 < q < 0.5.
    private static func acklam(_ q: Double) -> Double {
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00,
        ]
        let b = [
            -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
            6.680131188771972e+01, -1.328068155288572e+01,
        ]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
            -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00,
        ]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        if q < 0.02425 {
            let r = (-2 * log(q)).squareRoot()
            let numerator = ((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]
            let denominator = (((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1
            return numerator / denominator
        }
        let r = q - 0.5
        let s = r * r
        let numerator = (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r
        let denominator = ((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1
        return numerator / denominator
    }
}

/// Student's t distribution with `degreesOfFreedom` (any real number > 0).
public struct StudentT: Sendable, Hashable {
    /// Degrees of freedom (ν > 0).
    public let degreesOfFreedom: Double

    /// A t distribution with ν = `degreesOfFreedom`; returns nil unless ν is finite and positive.
    public init?(degreesOfFreedom: Double) {
        guard degreesOfFreedom.isFinite, degreesOfFreedom > 0 else { return nil }
        self.degreesOfFreedom = degreesOfFreedom
    }

    /// From this many degrees of freedom on, the CDF uses the large-ν expansion instead of the continued fraction
    /// (which loses about ν·1e-17 relative: 1e-10 at ν = 1e7).
    static let asymptoticLimit = 1e6

    /// P(T ≤ t), through the regularized incomplete beta function: P(|T| > |t|) = I_x(ν/2, 1/2) with
    /// x = ν / (ν + t²), about 1e-12 relative or better. For ν ≥ 1e6 it uses the leading term of the large-a
    /// expansion of I_x(a, b), Q(b, −(a + (b−1)/2) ln x), which for b = 1/2 is
    /// P(|T| > |t|) = erfc(√((ν/2 − 1/4) log1p(t²/ν))); its relative error is about t⁴/ν² (< 1e-11 for |t| ≤ 5).
    public func cdf(_ t: Double) -> Double {
        if t.isNaN { return .nan }
        if t == .infinity { return 1 }
        if t == -.infinity { return 0 }
        let nu = self.degreesOfFreedom
        if nu >= Self.asymptoticLimit {
            let tail = erfc(((nu / 2 - 0.25) * self.logOnePlusSquareOverNu(t)).squareRoot())
            return t < 0 ? 0.5 * tail : 1 - 0.5 * tail
        }
        if abs(t) > 1e100 {
            // x = ν/(ν+t²) may underflow: use the series' leading term, I_x(a, 1/2) ≈ x^a / (a B(a, 1/2)),
            // in logs (the next terms are smaller by a factor of x < 1e-200 ν).
            let a = nu / 2
            let logTail = a * (log(nu) - 2 * log(abs(t))) - log(a) - IncompleteBeta.logBeta(a, 0.5)
            let tail = exp(logTail)
            return t < 0 ? 0.5 * tail : 1 - 0.5 * tail
        }
        // x = ν/(ν+t²) and y = 1 − x, each computed directly so neither loses digits to cancellation, and
        // through r = ν/t² when |t| > 1 so that t² cannot overflow.
        let x: Double
        let y: Double
        if abs(t) > 1 {
            let r = nu / t / t
            x = r / (1 + r)
            y = 1 / (1 + r)
        } else {
            x = nu / (nu + t * t)
            y = t * t / (nu + t * t)
        }
        let beta = IncompleteBeta.regularized(a: nu / 2, b: 0.5, x: x, oneMinusX: y)
        // beta.value = P(|T| > |t|), beta.complement = P(|T| ≤ |t|).
        return t < 0 ? 0.5 * beta.value : 0.5 + 0.5 * beta.complement
    }

    /// P(T > t), accurate in the upper tail.
    public func survival(_ t: Double) -> Double {
        self.cdf(-t)
    }

    /// The density at `t`: 1 / (√ν B(ν/2, 1/2)) · (1 + t²/ν)^(-(ν+1)/2).
    public func pdf(_ t: Double) -> Double {
        let nu = self.degreesOfFreedom
        let logDensity =
            -(nu + 1) / 2 * self.logOnePlusSquareOverNu(t) - 0.5 * log(nu) - IncompleteBeta.logBeta(nu / 2, 0.5)
        return exp(logDensity)
    }

    /// ln(1 + t²/ν), without overflowing t² for huge |t|.
    private func logOnePlusSquareOverNu(_ t: Double) -> Double {
        let nu = self.degreesOfFreedom
        guard abs(t) > 1e100 else { return log1p(t * t / nu) }
        return 2 * log(abs(t)) - log(nu) + log1p(nu / t / t)
    }

    /// The quantile (inverse CDF): the `t` with `cdf(t) == p`. Returns -infinity for 0, +infinity for 1 and NaN
    /// outside [0, 1]. Exact formulas for ν = 1 and ν = 2; otherwise Newton's method on the lower tail from a
    /// Cornish–Fisher start, kept inside a bracket (the lower-tail CDF is convex, so Newton converges).
    public func quantile(_ p: Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p == 0.5 { return 0 }
        if p > 0.5 { return -self.lowerTailQuantile(1 - p) }
        return self.lowerTailQuantile(p)
    }

    /// Quantile for 0 < q < 0.5 (result negative).
    private func lowerTailQuantile(_ q: Double) -> Double {
        let nu = self.degreesOfFreedom
        if nu == 1 {
            // Cauchy: t = tan(π (q − 1/2)) = −1 / tan(π q).
            return -1 / tan(Double.pi * q)
        }
        if nu == 2 {
            // cdf(t) = 1/2 + t / (2 √(2 + t²)); solved for t.
            let a = 4 * q * (1 - q)
            return (2 * q - 1) * (2 / a).squareRoot()
        }
        let z = Normal.quantile(q)
        let z3 = z * z * z
        let z5 = z3 * z * z
        var t = z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu * nu)
        if !(t.isFinite && t < 0) { t = z }
        // Bracket [low, high] around the root: cdf(low) ≤ q ≤ cdf(high).
        var low = -Double.infinity
        var high = 0.0
        for _ in 0..<2000 {
            // The quantile is beyond the largest double (only for ν well below 1 and tiny q).
            if !t.isFinite { return -.infinity }
            let f = self.cdf(t) - q
            if f == 0 { return t }
            if f > 0 { high = min(high, t) } else { low = max(low, t) }
            let step = f / self.pdf(t)
            // Newton converges quadratically: after a step of relative size 1e-10, the error is far below an ulp.
            if abs(step) <= 1e-10 * abs(t) { return t - step }
            var next = t - step
            if !(next.isFinite && next > low && next < high) {
                // Newton left the bracket: bisect, or widen downwards while no lower bound is known.
                next = low.isFinite ? low + (high - low) / 2 : min(2 * t, t - 1)
            }
            if abs(next - t) <= 1e-15 * abs(t) { return next }
            t = next
        }
        return t
    }
}

/// The regularized incomplete beta function I_x(a, b), by the continued fraction evaluated with Lentz's method.
enum IncompleteBeta {
    /// I_x(a, b) and 1 − I_x(a, b), each accurate in relative terms where it is the smaller of the two.
    /// `oneMinusX` must be 1 − x, computed by the caller without cancellation when it can be.
    static func regularized(a: Double, b: Double, x: Double, oneMinusX y: Double) -> (value: Double, complement: Double)
    {
        if x <= 0 { return (0, 1) }
        if y <= 0 { return (1, 0) }
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); otherwise use the symmetry
        // I_x(a, b) = 1 − I_{1−x}(b, a).
        if x < (a + 1) / (a + b + 2) {
            let value = self.front(a: a, b: b, x: x, y: y) * self.continuedFraction(a: a, b: b, x: x, y: y) / a
            return (value, 1 - value)
        }
        let complement = self.front(a: b, b: a, x: y, y: x) * self.continuedFraction(a: b, b: a, x: y, y: x) / b
        return (1 - complement, complement)
    }

    /// x^a (1−x)^b / B(a, b), computed in logs. The logarithm of whichever of x and y = 1 − x is above 1/2 is
    /// taken as log1p of minus the other, so it keeps its relative accuracy (with a or b in the millions, an error
    /// of one ulp in ln x would show in the ninth digit).
    private static func front(a: Double, b: Double, x: Double, y: Double) -> Double {
        let logX = x > 0.5 ? log1p(-y) : log(x)
        let logY = y > 0.5 ? log1p(-x) : log(y)
        return exp(a * logX + b * logY - self.logBeta(a, b))
    }

    /// The continued fraction 1 / (1 + d1 / (1 + d2 / (1 + …))) with
    /// d(2m+1) = −(a+m)(a+b+m) x / ((a+2m)(a+2m+1)) and d(2m) = m(b−m) x / ((a+2m−1)(a+2m)).
    /// The first term 1 − (a+b)x/(a+1) is computed as (1 − b + (a+b)(1−x))/(a+1), which does not cancel when
    /// x is close to 1.
    private static func continuedFraction(a: Double, b: Double, x: Double, y: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = (1 - b + (a + b) * y) / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...100_000 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            result *= delta
            if abs(delta - 1) <= 3 * Double.ulpOfOne { break }
        }
        return result
    }

    /// ln B(a, b). When the larger argument is big, lgamma(a) − lgamma(a + b) is taken from Stirling's series so
    /// the two large log-gammas do not cancel (this keeps the t distribution accurate up to ν ≈ 1e7 and beyond).
    static func logBeta(_ a: Double, _ b: Double) -> Double {
        let large = max(a, b)
        let small = min(a, b)
        guard large >= 10 else { return lgamma(a) + lgamma(b) - lgamma(a + b) }
        // lgamma(L) − lgamma(L + s) = −(L − ½) log1p(s/L) − s ln(L + s) + s + c(L) − c(L + s),
        // with c the Stirling correction lgamma(z) − [(z − ½) ln z − z + ½ ln 2π].
        let difference =
            -(large - 0.5) * log1p(small / large) - small * log(large + small) + small
            + self.stirlingCorrection(large) - self.stirlingCorrection(large + small)
        return lgamma(small) + difference
    }

    /// 1/(12z) − 1/(360z³) + 1/(1260z⁵) − 1/(1680z⁷) + 1/(1188z⁹): good to ~1e-17 for z ≥ 10.
    private static func stirlingCorrection(_ z: Double) -> Double {
        let inverse = 1 / z
        let inverse2 = inverse * inverse
        return inverse
            * (1.0 / 12 - inverse2 * (1.0 / 360 - inverse2 * (1.0 / 1260 - inverse2 * (1.0 / 1680 - inverse2 / 1188))))
    }
}
