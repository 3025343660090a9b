/// One fitted tree, nodes in creation order (children after their parent). A leaf has
/// feature -1 and its output in `value`; an internal node sends x[feature] <= threshold
/// (bin <= bin in the training data) left and NaN to the side `missingLeft` says. A
/// categorical node (non-empty `cats`) sends the category codes in `cats` left and every
/// other value (other codes, unseen categories, NaN) right, as LightGBM does.
public struct Tree: Equatable, Sendable {
    public var feature: [Int32] = [-1]
    public var bin: [Int32] = [0]
    public var threshold: [Float] = [0]
    public var missingLeft: [UInt8] = [0]
    public var left: [Int32] = [-1]
    public var right: [Int32] = [-1]
    public var value: [Double] = [0]
    /// Split gain of internal nodes (0 for leaves): feature importance by gain.
    public var gain: [Double] = [0]
    /// Training rows (weighted by bagging) that reached each node: TreeSHAP's cover.
    public var cover: [Double] = [0]
    /// Category codes that go left at a categorical node (ascending); empty for numeric
    /// nodes and leaves.
    public var cats: [[Int32]] = [[]]

    public init() {}

    public var nodeCount: Int { feature.count }
    public var leafCount: Int { feature.filter { $0 < 0 }.count }

    /// Turns leaf `node` into a split and appends its two children (leaves); returns them.
    mutating func split(_ node: Int, feature f: Int, bin b: Int, threshold t: Float, missingLeft ml: Bool, gain g: Double,
                        cats c: [Int32] = []) -> (Int, Int) {
        let l = nodeCount, r = nodeCount + 1
        feature[node] = Int32(f); bin[node] = Int32(b); threshold[node] = t; missingLeft[node] = ml ? 1 : 0
        left[node] = Int32(l); right[node] = Int32(r); gain[node] = g; value[node] = 0; cats[node] = c
        for _ in 0..<2 {
            feature.append(-1); bin.append(0); threshold.append(0); missingLeft.append(0)
            left.append(-1); right.append(-1); value.append(0); gain.append(0); cover.append(0); cats.append([])
        }
        return (l, r)
    }

    public func isCategorical(_ n: Int) -> Bool { !cats[n].isEmpty }

    /// Whether raw value v goes left at internal node n.
    @inline(__always)
    public func goesLeft(_ n: Int, _ v: Float) -> Bool {
        if !cats[n].isEmpty {
            guard v >= 0, v < 2_147_483_647, v == v.rounded(.down) else { return false }
            return cats[n].contains(Int32(v))
        }
        return v.isNaN ? missingLeft[n] != 0 : v <= threshold[n]
    }

    /// Depth of the deepest leaf (a single leaf: 0).
    public var depth: Int {
        var best = 0, stack = [(0, 0)]
        while let (n, d) = stack.popLast() {
            if feature[n] < 0 { best = Swift.max(best, d) } else { stack.append((Int(left[n]), d + 1)); stack.append((Int(right[n]), d + 1)) }
        }
        return best
    }

    /// The leaf a row of raw features reaches.
    public func leaf(_ x: UnsafePointer<Float>) -> Int {
        var n = 0
        while feature[n] >= 0 {
            n = Int(goesLeft(n, x[Int(feature[n])]) ? left[n] : right[n])
        }
        return n
    }
}
