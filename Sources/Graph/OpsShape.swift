import Tensor

/// Target shape of `reshape`: ONNX rules — 0 copies the input's dim (so [0, -1] keeps
/// the batch), one -1 is inferred.
private func reshapeTarget(_ input: SymShape, _ spec: [Int]) throws -> SymShape {
    var out: SymShape = []
    var inferAt: Int? = nil
    for (i, v) in spec.enumerated() {
        if v == 0 {
            guard i < input.count else { throw GraphError("reshape: 0 at position \(i) but input has rank \(input.count)") }
            out.append(input[i])
        } else if v == -1 {
            guard inferAt == nil else { throw GraphError("reshape: more than one -1 in \(spec)") }
            inferAt = i; out.append(.fixed(-1))
        } else if v > 0 { out.append(.fixed(v)) } else { throw GraphError("reshape: bad size \(v) in \(spec)") }
    }
    // Batch dims cancel between input and output; the remaining fixed counts must agree.
    let inBatch = input.filter { $0 == .batch }.count, outBatch = out.filter { $0 == .batch }.count
    let inFixed = input.compactMap(\.size).reduce(1, *)
    let outFixed = out.compactMap { $0.size }.filter { $0 != -1 }.reduce(1, *)
    if let k = inferAt {
        guard inBatch == outBatch, outFixed > 0, inFixed % outFixed == 0 else {
            throw GraphError("reshape: cannot infer -1 reshaping \(formatShape(input)) to \(spec)")
        }
        out[k] = .fixed(inFixed / outFixed)
    } else if inBatch != outBatch || inFixed != outFixed {
        throw GraphError("reshape: cannot reshape \(formatShape(input)) into \(spec)")
    }
    return out
}

private func runtimeShape(_ x: Tensor, _ spec: [Int]) -> [Int] {
    spec.enumerated().map { $0.element == 0 ? x.shape[$0.offset] : $0.element }
}

let shapeOps: [OpDef] = [
    OpDef(.reshape, arity: 1...1, shape: { s, a in try reshapeTarget(s[0], a.ints("shape") ?? []) },
          forward: { x, a, _ in (try x[0].reshape(runtimeShape(x[0], a.ints("shape") ?? [])), []) },
          backward: { b in [try b.grad.reshape(b.inputs[0].shape)] }, lower: .view),
    // [N, ...] -> [N, product of the rest].
    OpDef(.flatten, arity: 1...1, shape: { s, _ in
        guard let first = s[0].first else { throw GraphError("flatten: input must have rank >= 1") }
        guard let rest = fixedCount(Array(s[0].dropFirst())) else { throw GraphError("flatten: only the first dim may be the batch") }
        return [first, .fixed(rest)]
    }, forward: { x, _, _ in (try x[0].reshape([x[0].shape.first ?? 1, -1]), []) },
       backward: { b in [try b.grad.reshape(b.inputs[0].shape)] }, lower: .view),
    OpDef(.transpose, arity: 1...1, shape: { s, a in
        let perm = a.ints("perm") ?? Array((0..<s[0].count).reversed())
        guard perm.sorted() == Array(0..<s[0].count) else { throw GraphError("transpose: \(perm) is not a permutation of the axes of \(formatShape(s[0]))") }
        return perm.map { s[0][$0] }
    }, forward: { x, a, _ in
        (try x[0].permute(a.ints("perm") ?? Array((0..<x[0].rank).reversed())).contiguous(), [])
    }, backward: { b in
        let perm = b.attrs.ints("perm") ?? Array((0..<b.inputs[0].rank).reversed())
        var inv = perm
        for (i, p) in perm.enumerated() { inv[p] = i }
        return [try b.grad.permute(inv).contiguous()]
    }),
    OpDef(.concat, arity: 1...256, shape: { s, a in
        let r = s[0].count, ax = normAxis(a.int("axis", -1), r)
        guard ax >= 0, ax < r else { throw GraphError("concat: axis \(a.int("axis", -1)) out of range for rank \(r)") }
        var total = 0
        for t in s {
            guard t.count == r else { throw GraphError("concat: ranks differ: \(s.map(formatShape))") }
            for i in 0..<r where i != ax && t[i] != s[0][i] { throw GraphError("concat: shapes \(s.map(formatShape)) differ off axis \(ax)") }
            guard let n = t[ax].size else { throw GraphError("concat: cannot concatenate along the batch axis") }
            total += n
        }
        var out = s[0]; out[ax] = .fixed(total); return out
    }, dtype: { d, _ in d.dropFirst().reduce(d[0]) { DType.promote($0, $1) } },
       forward: { x, a, _ in (try Tensor.concat(x, axis: a.int("axis", -1)), []) },
       backward: { b in
        let ax = normAxis(b.attrs.int("axis", -1), b.grad.rank)
        var start = 0
        return try b.inputs.map { t in
            let n = t.shape[ax]; defer { start += n }
            return try b.grad.slice(axis: ax, start: start, stop: start + n).contiguous()
        }
    }),
]

/// sum / mean over `axes` (nil: all) with `keepdims`.
private func reduction(_ name: OpName, mean: Bool) -> OpDef {
    OpDef(name, arity: 1...1, shape: { s, a in
        let r = s[0].count
        guard let axes = a.ints("axes") else { return a.bool("keepdims", false) ? s[0].map { _ in .fixed(1) } : [] }
        let norm = Set(axes.map { normAxis($0, r) })
        guard norm.allSatisfy({ $0 >= 0 && $0 < r }) else { throw GraphError("\(name): axes \(axes) out of range for rank \(r)") }
        var out: SymShape = []
        for i in 0..<r { if norm.contains(i) { if a.bool("keepdims", false) { out.append(.fixed(1)) } } else { out.append(s[0][i]) } }
        return out
    }, forward: { x, a, _ in
        let axes = a.ints("axes"), k = a.bool("keepdims", false)
        return (mean ? try x[0].mean(axes: axes, keepDims: k) : try x[0].sum(axes: axes, keepDims: k), [])
    }, backward: { b in
        let x = b.inputs[0]
        var g = try b.grad.reshape(keptShape(x.shape, axes: b.attrs.ints("axes"))).expand(to: x.shape).contiguous()
        if mean { g = try g * (Double(max(b.output.count, 1)) / Double(max(x.count, 1))) }
        return [g]
    })
}

let reductionOps: [OpDef] = [reduction(.sum, mean: false), reduction(.mean, mean: true)]
