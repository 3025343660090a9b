/// Slow, obvious implementations used as test oracles for the fast kernels.
/// Everything accumulates in Double with plain loops over row-major arrays.
public enum Reference {
    /// C[m, n] = op(A) @ op(B), where op transposes when the flag is set.
    /// A is stored [m, k] (or [k, m] when transposed), B [k, n] (or [n, k]).
    public static func gemm(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int,
                            transA: Bool = false, transB: Bool = false) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let x = transA ? a[p * m + i] : a[i * k + p]
                let y = transB ? b[j * k + p] : b[p * n + j]
                s += Double(x) * Double(y)
            }
            c[i * n + j] = s
        } }
        return c
    }

    /// Exact integer matmul of row-major [m, k] x [k, n].
    public static func matmulInt(_ a: [Int], _ b: [Int], m: Int, n: Int, k: Int) -> [Int] {
        var c = [Int](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        return c
    }

    /// Naive direct convolution, NCHW / OIHW.
    public static func conv2d(_ x: [Float], _ xs: [Int], _ w: [Float], _ ws: [Int], bias: [Float]?,
                              stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int) -> (values: [Double], shape: [Int]) {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (o, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3])
        let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        let og = o / groups
        var out = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for oc in 0..<o { for y in 0..<oh { for xx in 0..<ow {
            var s = Double(bias?[oc] ?? 0)
            let g = oc / og
            for ic in 0..<cg { for i in 0..<kh { for j in 0..<kw {
                let iy = y * stride.0 - padding.0 + i * dilation.0, ix = xx * stride.1 - padding.1 + j * dilation.1
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                let cin = g * cg + ic
                s += Double(x[((b * c + cin) * h + iy) * wd + ix]) * Double(w[((oc * cg + ic) * kh + i) * kw + j])
            } } }
            out[((b * o + oc) * oh + y) * ow + xx] = s
        } } } }
        return (out, [n, o, oh, ow])
    }

    /// Row-major index -> multi-index.
    public static func unravel(_ i: Int, _ shape: [Int]) -> [Int] {
        var r = [Int](repeating: 0, count: shape.count)
        var x = i
        for d in stride(from: shape.count - 1, through: 0, by: -1) { r[d] = x % shape[d]; x /= shape[d] }
        return r
    }

    /// Broadcast binary op by explicit index arithmetic (independent of `expand`).
    public static func broadcast(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int], _ f: (Double, Double) -> Double) -> (values: [Double], shape: [Int]) {
        let r = Swift.max(sa.count, sb.count)
        let pa = [Int](repeating: 1, count: r - sa.count) + sa, pb = [Int](repeating: 1, count: r - sb.count) + sb
        let shape = (0..<r).map { Swift.max(pa[$0], pb[$0]) == 0 || pa[$0] == 0 || pb[$0] == 0 ? 0 : Swift.max(pa[$0], pb[$0]) }
        let n = shape.reduce(1, *)
        func flat(_ idx: [Int], _ s: [Int]) -> Int { zip(idx, s).reduce(0) { $0 * $1.1 + ($1.1 == 1 ? 0 : $1.0) } }
        return ((0..<n).map { i in let idx = unravel(i, shape); return f(a[flat(idx, pa)], b[flat(idx, pb)]) }, shape)
    }

    /// Reduction over `axes` of a row-major array (sum by default), in Double.
    public static func reduce(_ v: [Double], _ shape: [Int], axes: [Int], _ f: ([Double]) -> Double) -> [Double] {
        let kept = shape.indices.filter { !axes.contains($0) }
        let outShape = kept.map { shape[$0] }
        var groups = [[Double]](repeating: [], count: outShape.reduce(1, *))
        for i in 0..<v.count {
            let idx = unravel(i, shape)
            var o = 0
            for (d, ax) in kept.enumerated() { o = o * outShape[d] + idx[ax] }
            groups[o].append(v[i])
        }
        return groups.map(f)
    }
}
