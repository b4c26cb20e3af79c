import SlipwayInference

/// Compares tensors the way numpy's `assert_allclose` does: `|actual - expected| <= atol + rtol * |expected|`,
/// NaN equal to NaN and infinities equal to themselves. Returns `nil` when close, otherwise what differs.
func compare(_ actual: Tensor, _ expected: Tensor, rtol: Double, atol: Double) -> String? {
    guard actual.elementType == expected.elementType else {
        return "element type \(actual.elementType), expected \(expected.elementType)"
    }
    guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
    func close(_ a: Double, _ e: Double) -> Bool {
        if a.isNaN || e.isNaN { return a.isNaN && e.isNaN }
        if a.isInfinite || e.isInfinite { return a == e }
        return abs(a - e) <= atol + rtol * abs(e)
    }
    func firstMismatch<T>(_ a: [T], _ e: [T], _ equal: (T, T) -> Bool) -> String? {
        for i in a.indices where !equal(a[i], e[i]) {
            return "element \(i) is \(a[i]), expected \(e[i])"
        }
        return nil
    }
    switch (actual.storage, expected.storage) {
    case (.float(let a), .float(let e)): return firstMismatch(a, e) { close(Double($0), Double($1)) }
    case (.double(let a), .double(let e)): return firstMismatch(a, e, close)
    case (.int64(let a), .int64(let e)): return firstMismatch(a, e, ==)
    case (.int32(let a), .int32(let e)): return firstMismatch(a, e, ==)
    case (.bool(let a), .bool(let e)): return firstMismatch(a, e, ==)
    case (.string(let a), .string(let e)): return firstMismatch(a, e, ==)
    default: return "storage mismatch"
    }
}
