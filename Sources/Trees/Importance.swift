/// Per-feature importance: the total gain of its splits, or how many splits use it.
public func featureImportance(_ e: Ensemble, byGain: Bool) -> [Double] {
    var out = [Double](repeating: 0, count: e.features)
    for t in e.trees {
        for n in 0..<t.nodeCount where t.feature[n] >= 0 && Int(t.feature[n]) < e.features {
            out[Int(t.feature[n])] += byGain ? t.gain[n] : 1
        }
    }
    return out
}
