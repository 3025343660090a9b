import Tensor

/// Plain Swift im2col / col2im and pooling in Double: the dtype-generic path (float64
/// gradient checks) and the backward passes of conv and pooling. The float32 forward
/// passes use the Tensor engine's kernels.
struct ConvGeometry {
    let n, c, h, w, kh, kw, sh, sw, ph, pw: Int
    var oh: Int { (h + 2 * ph - kh) / sh + 1 }
    var ow: Int { (w + 2 * pw - kw) / sw + 1 }
    init(_ x: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) {
        (n, c, h, w) = (x[0], x[1], x[2], x[3])
        (kh, kw) = kernel; (sh, sw) = stride; (ph, pw) = padding
    }
    /// Input offset (within one image) of column row `r` = (ci, ki, kj) at output (oy, ox), or nil in padding.
    @inline(__always) func source(_ ci: Int, _ ki: Int, _ kj: Int, _ oy: Int, _ ox: Int) -> Int? {
        let iy = oy * sh - ph + ki, ix = ox * sw - pw + kj
        guard iy >= 0, iy < h, ix >= 0, ix < w else { return nil }
        return (ci * h + iy) * w + ix
    }
}

/// [N, C, H, W] -> [N, C*kh*kw, OH*OW].
func im2col(_ x: Tensor, _ g: ConvGeometry) throws -> Tensor {
    let src = x.toDoubles()
    let rows = g.c * g.kh * g.kw, l = g.oh * g.ow
    var out = [Double](repeating: 0, count: g.n * rows * l)
    for b in 0..<g.n {
        let base = b * g.c * g.h * g.w
        for ci in 0..<g.c { for ki in 0..<g.kh { for kj in 0..<g.kw {
            let r = (ci * g.kh + ki) * g.kw + kj
            for oy in 0..<g.oh { for ox in 0..<g.ow {
                if let s = g.source(ci, ki, kj, oy, ox) { out[(b * rows + r) * l + oy * g.ow + ox] = src[base + s] }
            } }
        } } }
    }
    return try Tensor(out, shape: [g.n, rows, l], dtype: x.dtype)
}

/// Adjoint of im2col: [N, C*kh*kw, OH*OW] -> [N, C, H, W], overlapping windows summed.
func col2im(_ cols: Tensor, _ g: ConvGeometry, dtype: DType) throws -> Tensor {
    let src = cols.toDoubles()
    let rows = g.c * g.kh * g.kw, l = g.oh * g.ow
    var out = [Double](repeating: 0, count: g.n * g.c * g.h * g.w)
    for b in 0..<g.n {
        let base = b * g.c * g.h * g.w
        for ci in 0..<g.c { for ki in 0..<g.kh { for kj in 0..<g.kw {
            let r = (ci * g.kh + ki) * g.kw + kj
            for oy in 0..<g.oh { for ox in 0..<g.ow {
                if let s = g.source(ci, ki, kj, oy, ox) { out[base + s] += src[(b * rows + r) * l + oy * g.ow + ox] }
            } }
        } } }
    }
    return try Tensor(out, shape: [g.n, g.c, g.h, g.w], dtype: dtype)
}

/// Pooling forward (isMax or average with padding counted) and its backward, per plane.
/// The max gradient goes to the first maximal cell of each window (ties: first wins).
func pool2d(_ x: Tensor, _ g: ConvGeometry, isMax: Bool, grad: Tensor? = nil) throws -> Tensor {
    let src = x.toDoubles(), gy = grad?.toDoubles()
    let planes = g.n * g.c, hw = g.h * g.w, ohw = g.oh * g.ow
    var out = [Double](repeating: 0, count: grad == nil ? planes * ohw : planes * hw)
    let area = Double(g.kh * g.kw)
    for p in 0..<planes { for oy in 0..<g.oh { for ox in 0..<g.ow {
        var best = -Double.infinity, bestAt = -1, acc = 0.0
        for ki in 0..<g.kh { for kj in 0..<g.kw {
            guard let s = g.source(0, ki, kj, oy, ox) else { continue }
            let v = src[p * hw + s]
            if v > best || bestAt < 0 { best = v; bestAt = s }
            acc += v
        } }
        let o = p * ohw + oy * g.ow + ox
        if let gy {
            if isMax { if bestAt >= 0 { out[p * hw + bestAt] += gy[o] } } else {
                for ki in 0..<g.kh { for kj in 0..<g.kw {
                    if let s = g.source(0, ki, kj, oy, ox) { out[p * hw + s] += gy[o] / area }
                } }
            }
        } else { out[o] = isMax ? best : acc / area }
    } } }
    return try Tensor(out, shape: grad == nil ? [g.n, g.c, g.oh, g.ow] : x.shape, dtype: x.dtype)
}
