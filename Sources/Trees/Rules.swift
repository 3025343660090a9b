import Foundation

/// A tree printed as nested if/else rules with feature names:
///
///     if petal_length <= 2.45:
///       value 0.333
///     else:  (missing goes here)
///       ...
public func rules(_ e: Ensemble, tree index: Int, leaf: (Double) -> String = { shortValue($0) }, maxLines: Int = 10_000) -> String {
    let t = e.trees[index]
    var out: [String] = []
    func walk(_ n: Int, _ depth: Int) {
        if out.count >= maxLines { return }
        let pad = String(repeating: "  ", count: depth)
        if t.feature[n] < 0 { out.append(pad + leaf(t.value[n])); return }
        let name = Int(t.feature[n]) < e.featureNames.count ? e.featureNames[Int(t.feature[n])] : "x\(t.feature[n])"
        if t.isCategorical(n) {
            let levels = Int(t.feature[n]) < e.categories.count ? e.categories[Int(t.feature[n])] : nil
            let names = t.cats[n].map { c in levels.flatMap { Int(c) < $0.count ? $0[Int(c)] : nil } ?? String(c) }
            out.append(pad + "if \(name) in {\(names.joined(separator: ", "))}:")
            walk(Int(t.left[n]), depth + 1)
            out.append(pad + "else:  (other, unseen and missing categories)")
            walk(Int(t.right[n]), depth + 1)
            return
        }
        let ml = t.missingLeft[n] != 0
        out.append(pad + "if \(name) <= \(shortValue(Double(t.threshold[n])))\(ml ? " or missing" : ""):")
        walk(Int(t.left[n]), depth + 1)
        out.append(pad + "else:")
        walk(Int(t.right[n]), depth + 1)
    }
    walk(0, 0)
    if out.count >= maxLines { out.append("... (more than \(maxLines) lines)") }
    return out.joined(separator: "\n")
}

public func shortValue(_ v: Double) -> String {
    let r = (v * 10000).rounded() / 10000
    if r == r.rounded(), Swift.abs(r) < 1e15 { return String(Int(r)) }
    return String(format: "%g", r)
}
