import Tensor

/// How static quantization picks an activation range from calibration data.
/// `.minmax`: the observed range; `.percentile`: clips outliers at a percentile of |x|
/// (`percentile:` option, default 99.99); `.entropy`: the clipping threshold that minimises
/// the KL divergence between the float histogram and its 8-bit version (TensorRT's method).
public enum CalibrationMethod: String, Sendable { case minmax, percentile, entropy }

/// An activation range [lo, hi] (lo <= 0 <= hi) from calibration values.
func calibrate(_ v: [Float], method: CalibrationMethod, percentile: Double, symmetric: Bool) -> (lo: Float, hi: Float) {
    let lo0 = min(v.min() ?? 0, 0), hi0 = max(v.max() ?? 0, 0)
    switch method {
    case .minmax: return (lo0, hi0)
    case .percentile:
        let a = v.map { Swift.abs($0) }.sorted()
        guard !a.isEmpty else { return (0, 0) }
        let t = a[min(a.count - 1, Int(Double(a.count - 1) * percentile / 100))]
        return (max(lo0, -t), min(hi0, t))
    case .entropy:
        let t = entropyThreshold(v.map { Swift.abs($0) }, levels: symmetric ? 128 : 256)
        return (max(lo0, -t), min(hi0, t))
    }
}

/// KL-divergence calibration: a 2048-bin histogram of |x|; for each candidate threshold
/// (bin i), the clipped distribution P (outliers added to the last bin) is compared with Q,
/// P merged into `levels` bins and expanded back; the threshold with the least KL wins.
func entropyThreshold(_ a: [Float], levels: Int, bins: Int = 2048) -> Float {
    guard let mx = a.max(), mx > 0 else { return 0 }
    var hist = [Double](repeating: 0, count: bins)
    let w = mx / Float(bins)
    for x in a { hist[min(bins - 1, Int(x / w))] += 1 }
    var best = (kl: Double.infinity, i: bins)
    var i = levels
    while i <= bins {
        var p = Array(hist[0..<i]); p[i - 1] += hist[i...].reduce(0, +)
        // Q: the first i bins (without the outliers, so clipping is penalised) merged into `levels` groups, each group's mass spread over its non-empty bins.
        var q = [Double](repeating: 0, count: i)
        let step = Double(i) / Double(levels)
        for g in 0..<levels {
            let s = Int(Double(g) * step), e = max(s + 1, Int(Double(g + 1) * step))
            let mass = hist[s..<e].reduce(0, +), nz = hist[s..<e].filter { $0 > 0 }.count
            if nz > 0 { for j in s..<e where hist[j] > 0 { q[j] = mass / Double(nz) } }
        }
        let ps = p.reduce(0, +), qs = q.reduce(0, +)
        var kl = 0.0
        for j in 0..<i where p[j] > 0 {
            let pj = p[j] / ps, qj = q[j] > 0 ? q[j] / qs : 1e-12
            kl += pj * log1(pj / qj)
        }
        if kl < best.kl { best = (kl, i) }
        i += 16   // every 16th bin: the curve is smooth and the search 16x cheaper
    }
    return Float(best.i) * w
}

/// (scale, zero point) for a range: symmetric int8 (zero point 0) or asymmetric uint8.
func activationParams(lo: Float, hi: Float, symmetric: Bool) -> (scale: Float, zero: Int) {
    if symmetric {
        let s = max(hi, -lo) / 127
        return (s > 0 ? s : 1, 0)
    }
    let s = (hi - lo) / 255
    guard s > 0 else { return (1, 0) }
    return (s, Int(min(255, max(0, (-lo / s).rounded()))))
}
