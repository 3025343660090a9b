import Tensor

/// Sum a broadcast gradient back to the shape of the input that was broadcast.
func unbroadcast(_ g: Tensor, to shape: [Int]) throws -> Tensor {
    if g.shape == shape { return g }
    var r = g
    let extra = r.rank - shape.count
    if extra > 0 { r = try r.sum(axes: Array(0..<extra)) }
    let axes = (0..<shape.count).filter { shape[$0] == 1 && r.shape[$0] != 1 }
    if !axes.isEmpty { r = try r.sum(axes: axes, keepDims: true) }
    return try r.reshape(shape)
}

/// A scalar tensor of the given dtype.
func scalar(_ v: Double, _ dtype: DType) -> Tensor { Tensor(scalar: v, dtype: dtype) }

/// 1 where x > 0, else 0 (same dtype as x).
func positiveMask(_ x: Tensor) throws -> Tensor { try Tensor.compare(x, scalar(0, x.dtype), .gt).astype(x.dtype) }

/// Shape with reduced axes kept as 1 (for broadcasting a reduction's gradient back).
func keptShape(_ shape: [Int], axes: [Int]?) -> [Int] {
    guard let axes else { return shape.map { _ in 1 } }
    let norm = Set(axes.map { $0 < 0 ? $0 + shape.count : $0 })
    return shape.enumerated().map { norm.contains($0.offset) ? 1 : $0.element }
}

func normAxis(_ a: Int, _ rank: Int) -> Int { a < 0 ? a + rank : a }

/// Shape rule helpers.
func same(_ s: [SymShape], _ a: Attrs) throws -> SymShape { s[0] }
func scalarShape(_ s: [SymShape], _ a: Attrs) throws -> SymShape { [] }
