/// Shape arithmetic shared by all ops. Everything here validates user input and throws.
enum ShapeUtil {
    /// Number of elements, or an error for negative dims or overflow.
    static func count(_ shape: [Int], op: String) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw TensorError(op, "negative dimension in shape \(fmt(shape))") }
            let (r, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { throw TensorError(op, "shape \(fmt(shape)) has too many elements") }
            n = r
        }
        return n
    }

    /// Row-major strides (in elements) for a shape.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc &*= Swift.max(shape[i], 1)
        }
        return s
    }

    /// Normalises a possibly negative axis against `rank`.
    static func axis(_ a: Int, rank: Int, op: String) throws -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0 && r < rank else {
            throw TensorError(op, "axis \(a) is out of range for a tensor of rank \(rank)")
        }
        return r
    }

    /// Normalises a set of axes (nil = all), rejecting duplicates.
    static func axes(_ axes: [Int]?, rank: Int, op: String) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        var seen = Set<Int>()
        var out: [Int] = []
        for a in axes {
            let n = try axis(a, rank: rank, op: op)
            guard seen.insert(n).inserted else { throw TensorError(op, "axis \(a) appears twice in \(fmt(axes))") }
            out.append(n)
        }
        return out.sorted()
    }

    /// numpy broadcasting of two shapes.
    static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let n = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                throw TensorError(op, "shapes \(fmt(a)) and \(fmt(b)) cannot be broadcast together (\(da) vs \(db) at axis \(i))")
            }
        }
        return out
    }
}
