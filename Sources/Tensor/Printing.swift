import Foundation

/// numpy-style printing.
///
/// `description`:      `[[1., 2.],\n [3., 4.]]`
/// `debugDescription`: `tensor([[1., 2.],\n        [3., 4.]], shape: [2, 2], dtype: float32)`
/// Tensors with more than 1000 elements are summarised: axes longer than 6 show their
/// first 3 and last 3 entries around `...`. Floats: fixed notation, each value with the
/// fewest fraction digits (at most 8) that round-trip it, right-padded with spaces so
/// decimal points align (numpy's "maxprec" mode); scientific notation with one shared
/// precision when non-zero magnitudes reach 1e8, drop below 1e-4 or span more than 1e3
/// (numpy's rule). Integral floats print as `1.`; bools as true/false.
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    public static let printThreshold = 1000
    public static let printEdgeItems = 3

    public var description: String { render(indent: 0) }

    public var debugDescription: String {
        "tensor(" + render(indent: 7) + ", shape: \(fmt(shape)), dtype: \(dtype))"
    }

    /// The indices shown along an axis of length n (nil marks the "..." gap).
    private func shownIndices(_ n: Int, _ summarize: Bool) -> [Int?] {
        let e = Tensor.printEdgeItems
        if summarize && n > 2 * e { return Array(0..<e) + [nil] + Array((n - e)..<n) }
        return Array(0..<n)
    }

    func render(indent: Int) -> String {
        let summarize = count > Tensor.printThreshold
        if rank == 0 { return formatValues([try! value(at: [])])[0] }
        if count == 0 { return String(repeating: "[", count: 1) + "]" }
        // collect shown elements in order
        var values: [Double] = []
        func collect(_ prefix: [Int]) {
            if prefix.count == rank { values.append(try! value(at: prefix)); return }
            for i in shownIndices(shape[prefix.count], summarize) { if let i { collect(prefix + [i]) } }
        }
        collect([])
        let texts = formatValues(values)
        let width = texts.map(\.count).max() ?? 0
        var next = 0
        func build(_ depth: Int) -> String {
            if depth == rank - 1 {
                let parts = shownIndices(shape[depth], summarize).map { i -> String in
                    guard i != nil else { return "..." }
                    let t = texts[next]; next += 1
                    return String(repeating: " ", count: width - t.count) + t
                }
                return "[" + parts.joined(separator: ", ") + "]"
            }
            let sep = "," + String(repeating: "\n", count: rank - depth - 1) + String(repeating: " ", count: indent + depth + 1)
            let parts = shownIndices(shape[depth], summarize).map { i -> String in i == nil ? "..." : build(depth + 1) }
            return "[" + parts.joined(separator: sep) + "]"
        }
        return build(0)
    }

    private func formatValues(_ v: [Double]) -> [String] {
        switch dtype {
        case .bool: return v.map { $0 != 0 ? "true" : "false" }
        case .int32, .int8, .uint8: return v.map { String(Int64($0)) }
        case .float32, .float64: return Tensor.formatFloats(v, single: dtype == .float32)
        }
    }

    static func formatFloats(_ v: [Double], single: Bool) -> [String] {
        let finite = v.filter { $0.isFinite }
        let nonzero = finite.map { Swift.abs($0) }.filter { $0 != 0 }
        let maxAbs = nonzero.max() ?? 0, minAbs = nonzero.min() ?? 0
        let sci = maxAbs >= 1e8 || (minAbs > 0 && minAbs < 1e-4) || (minAbs > 0 && maxAbs / minAbs > 1e3)
        func roundTrips(_ s: String, _ x: Double) -> Bool {
            single ? Float(s) == Float(x) : Double(s) == x
        }
        // Fewest digits (<= 8) that either round-trip at the tensor's precision or print
        // the same number as the 8-digit rounding (so float64 0.1 + 0.2 prints 0.3, like numpy).
        func digitsNeeded(_ x: Double) -> Int {
            let capped = Double(String(format: sci ? "%.8e" : "%.8f", x))
            for d in 0...8 {
                let s = String(format: sci ? "%.\(d)e" : "%.\(d)f", x)
                if roundTrips(s, x) || Double(s) == capped { return d }
            }
            return 8
        }
        let digits = finite.map(digitsNeeded).max() ?? 0
        return v.map { x in
            if x.isNaN { return "nan" }
            if x.isInfinite { return x > 0 ? "inf" : "-inf" }
            if sci {
                // scientific: one precision for all, like numpy
                var s = String(format: "%.\(digits)e", x)
                if digits == 0, let e = s.firstIndex(of: "e") { s.insert(".", at: e) }
                return s
            }
            // fixed: each value with its own digits, right-padded with spaces so the
            // decimal points line up (numpy: [0.3       , 0.33333333])
            let d = digitsNeeded(x)
            var s = String(format: "%.\(d)f", x)
            if d == 0 { s += "." }
            return s + String(repeating: " ", count: digits - d)
        }
    }
}
