/// TreeSHAP (Lundberg, Erion and Lee 2018, algorithm 2): exact Shapley values of each
/// feature for one row, with the tree's training covers as the background distribution, in
/// polynomial time. Per output, the values plus the bias (the covers' expected leaf value)
/// add up to the ensemble's sum for that row: the raw score of a boosted model.
public struct TreeSHAP {
    struct PathElement { var feature: Int; var zero: Double; var one: Double; var weight: Double }

    let tree: Tree

    /// The expected value of the tree under its covers.
    public static func expectedValue(_ t: Tree) -> Double {
        func walk(_ n: Int) -> Double {
            if t.feature[n] < 0 { return t.value[n] }
            let l = Int(t.left[n]), r = Int(t.right[n]), c = t.cover[n]
            guard c > 0 else { return 0.5 * (walk(l) + walk(r)) }
            return (t.cover[l] * walk(l) + t.cover[r] * walk(r)) / c
        }
        return walk(0)
    }

    /// Adds this tree's contributions for row x into phi (one value per feature).
    public static func add(_ t: Tree, _ x: UnsafePointer<Float>, into phi: inout [Double]) {
        var s = TreeSHAP(tree: t)
        var path = [PathElement](repeating: PathElement(feature: -1, zero: 0, one: 0, weight: 0), count: (t.depth + 2) * (t.depth + 3) / 2 + 4)
        s.recurse(x, &phi, node: 0, depth: 0, path: &path, start: 0, zero: 1, one: 1, feature: -1)
    }

    func extend(_ p: inout [PathElement], _ at: Int, _ depth: Int, zero: Double, one: Double, feature: Int) {
        p[at + depth] = PathElement(feature: feature, zero: zero, one: one, weight: depth == 0 ? 1 : 0)
        var i = depth - 1
        while i >= 0 {
            p[at + i + 1].weight += one * p[at + i].weight * Double(i + 1) / Double(depth + 1)
            p[at + i].weight = zero * p[at + i].weight * Double(depth - i) / Double(depth + 1)
            i -= 1
        }
    }

    func unwind(_ p: inout [PathElement], _ at: Int, _ depth: Int, _ index: Int) {
        let one = p[at + index].one, zero = p[at + index].zero
        var next = p[at + depth].weight
        var i = depth - 1
        while i >= 0 {
            if one != 0 {
                let tmp = p[at + i].weight
                p[at + i].weight = next * Double(depth + 1) / (Double(i + 1) * one)
                next = tmp - p[at + i].weight * zero * Double(depth - i) / Double(depth + 1)
            } else {
                p[at + i].weight = p[at + i].weight * Double(depth + 1) / (zero * Double(depth - i))
            }
            i -= 1
        }
        for j in index..<depth {
            p[at + j].feature = p[at + j + 1].feature; p[at + j].zero = p[at + j + 1].zero; p[at + j].one = p[at + j + 1].one
        }
    }

    func unwoundSum(_ p: [PathElement], _ at: Int, _ depth: Int, _ index: Int) -> Double {
        let one = p[at + index].one, zero = p[at + index].zero
        var next = p[at + depth].weight, total = 0.0
        var i = depth - 1
        while i >= 0 {
            if one != 0 {
                let tmp = next * Double(depth + 1) / (Double(i + 1) * one)
                total += tmp
                next = p[at + i].weight - tmp * zero * Double(depth - i) / Double(depth + 1)
            } else if zero != 0 {
                total += p[at + i].weight / zero / (Double(depth - i) / Double(depth + 1))
            }
            i -= 1
        }
        return total
    }

    /// `start`: where this call's copy of the path begins in the shared buffer (each level
    /// copies its parent's path after it, as the reference implementation does).
    mutating func recurse(_ x: UnsafePointer<Float>, _ phi: inout [Double], node: Int, depth d: Int, path: inout [PathElement],
                          start parentStart: Int, zero: Double, one: Double, feature: Int) {
        var depth = d
        let at = parentStart + depth
        if depth > 0 { for i in 0..<depth { path[at + i] = path[parentStart + i] } }
        extend(&path, at, depth, zero: zero, one: one, feature: feature)
        let t = tree
        if t.feature[node] < 0 {
            if depth >= 1 {
                for i in 1...depth {
                    let w = unwoundSum(path, at, depth, i)
                    let e = path[at + i]
                    phi[e.feature] += w * (e.one - e.zero) * t.value[node]
                }
            }
            return
        }
        let f = Int(t.feature[node]), v = x[f]
        let goLeft = t.goesLeft(node, v)
        let hot = Int(goLeft ? t.left[node] : t.right[node]), cold = Int(goLeft ? t.right[node] : t.left[node])
        let w = t.cover[node]
        let hotZero = w > 0 ? t.cover[hot] / w : 0.5, coldZero = w > 0 ? t.cover[cold] / w : 0.5
        var inZero = 1.0, inOne = 1.0
        var index = 0
        while index <= depth { if path[at + index].feature == f { break }; index += 1 }
        if index != depth + 1 {
            inZero = path[at + index].zero; inOne = path[at + index].one
            unwind(&path, at, depth, index)
            depth -= 1
        }
        recurse(x, &phi, node: hot, depth: depth + 1, path: &path, start: at, zero: hotZero * inZero, one: inOne, feature: f)
        recurse(x, &phi, node: cold, depth: depth + 1, path: &path, start: at, zero: coldZero * inZero, one: 0, feature: f)
    }
}

extension Ensemble {
    /// Per-row, per-output contributions: [rows][outputs][features + 1], the last entry the
    /// bias. For each output they sum to `rawScores` (base + trees' sum; forests' mean: the
    /// sum scaled; isolation forests: the summed path lengths).
    public func contributions(_ x: [Float], rows: Int) -> [Double] {
        let w = features + 1
        var out = [Double](repeating: 0, count: rows * outputs * w)
        let factor = transform == .mean ? scale : 1
        var bias = transform == .raw || transform == .mean ? base : [Double](repeating: 0, count: outputs)
        for (k, t) in trees.enumerated() { bias[output[k]] += TreeSHAP.expectedValue(t) * factor }
        x.withUnsafeBufferPointer { xp in
            for i in 0..<rows {
                var phi = [[Double]](repeating: [Double](repeating: 0, count: features + 1), count: outputs)
                for (k, t) in trees.enumerated() {
                    var p = [Double](repeating: 0, count: features + 1)
                    TreeSHAP.add(t, xp.baseAddress! + i * features, into: &p)
                    for f in 0..<features { phi[output[k]][f] += p[f] * factor }
                }
                for c in 0..<outputs {
                    phi[c][features] = bias[c]
                    for f in 0...features { out[(i * outputs + c) * w + f] = phi[c][f] }
                }
            }
        }
        return out
    }
}
