/// Joining and indexing: concat, stack, indexSelect, gather, oneHot.
/// These move raw element bytes, so they work for every dtype without conversion.
extension Tensor {
    /// Joins tensors along an existing axis; all other dims must match. dtypes are promoted.
    /// Example: `try Tensor.concat([a, b], axis: 0)`.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("concat", "needs at least one tensor") }
        guard first.rank > 0 else { throw TensorError("concat", "cannot concatenate scalars (use stack)") }
        let a = try ShapeUtil.axis(axis, rank: first.rank, op: "concat")
        let dt = tensors.dropFirst().reduce(first.dtype) { DType.promote($0, $1.dtype) }
        var total = 0
        for t in tensors {
            guard t.rank == first.rank,
                  t.shape.indices.allSatisfy({ $0 == a || t.shape[$0] == first.shape[$0] }) else {
                throw TensorError("concat", "shapes \(tensors.map { fmt($0.shape) }.joined(separator: ", ")) differ outside axis \(a)")
            }
            total += t.shape[a]
        }
        var outShape = first.shape
        outShape[a] = total
        let out = try Tensor(uninitialized: outShape, dtype: dt, op: "concat")
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *) * dt.size
        let rowBytes = total * inner
        var col = 0
        for t in tensors {
            let c = t.astype(dt).contiguous()
            let chunk = t.shape[a] * inner
            withExtendedLifetime(c) {
                for o in 0..<outer where chunk > 0 {
                    (out.basePointer + o * rowBytes + col).copyMemory(from: c.basePointer + o * chunk, byteCount: chunk)
                }
            }
            col += chunk
        }
        return out
    }

    /// Joins same-shape tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("stack", "needs at least one tensor") }
        for t in tensors where t.shape != first.shape {
            throw TensorError("stack", "all tensors must have the same shape, got \(fmt(first.shape)) and \(fmt(t.shape))")
        }
        let a = try ShapeUtil.axis(axis, rank: first.rank + 1, op: "stack")
        return try concat(tensors.map { try $0.unsqueeze(a) }, axis: a)
    }

    /// Picks the entries `indices` (1-D integer tensor, negatives count from the end) along `axis`.
    public func indexSelect(axis: Int, indices: Tensor) throws -> Tensor {
        let a = try ShapeUtil.axis(axis, rank: rank, op: "index_select")
        guard indices.rank == 1, !indices.dtype.isFloatingPoint else {
            throw TensorError("index_select", "indices must be a 1-D integer tensor, got \(fmt(indices.shape)) \(indices.dtype)")
        }
        let n = shape[a]
        let idx = try indices.toInt64().map { v -> Int in
            let i = v < 0 ? Int(v) + n : Int(v)
            guard i >= 0 && i < n else { throw TensorError("index_select", "index \(v) is out of range for axis \(a) of shape \(fmt(shape))") }
            return i
        }
        var outShape = shape
        outShape[a] = idx.count
        let out = try Tensor(uninitialized: outShape, dtype: dtype, op: "index_select")
        let c = contiguous()
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *) * dtype.size
        withExtendedLifetime(c) {
            var dst = out.basePointer
            for o in 0..<outer {
                for i in idx {
                    dst.copyMemory(from: c.basePointer + (o * n + i) * inner, byteCount: inner)
                    dst += inner
                }
            }
        }
        return out
    }

    /// torch.gather: out[i][j][k] = self[index[i][j][k]][j][k] for axis 0 (likewise for other axes).
    /// `index` has the same rank as self and dims no larger than self's off the axis.
    public func gather(axis: Int, index: Tensor) throws -> Tensor {
        let a = try ShapeUtil.axis(axis, rank: rank, op: "gather")
        guard index.rank == rank, !index.dtype.isFloatingPoint,
              index.shape.indices.allSatisfy({ $0 == a || index.shape[$0] <= shape[$0] }) else {
            throw TensorError("gather", "index of shape \(fmt(index.shape)) \(index.dtype) does not fit tensor of shape \(fmt(shape)) on axis \(a)")
        }
        let idx = index.toInt64()
        let out = try Tensor(uninitialized: index.shape, dtype: dtype, op: "gather")
        let c = contiguous()
        let cs = ShapeUtil.contiguousStrides(shape)
        var pos = [Int](repeating: 0, count: rank)
        let size = dtype.size
        try withExtendedLifetime(c) {
            for e in 0..<idx.count {
                var v = Int(idx[e])
                if v < 0 { v += shape[a] }
                guard v >= 0 && v < shape[a] else {
                    throw TensorError("gather", "index \(idx[e]) is out of range for axis \(a) of shape \(fmt(shape))")
                }
                var src = 0
                for d in 0..<rank { src += (d == a ? v : pos[d]) * cs[d] }
                (out.basePointer + e * size).copyMemory(from: c.basePointer + src * size, byteCount: size)
                var d = rank - 1
                while d >= 0 { pos[d] += 1; if pos[d] < index.shape[d] { break }; pos[d] = 0; d -= 1 }
            }
        }
        return out
    }

    /// One-hot encoding: shape indices.shape + [depth], 1 at each index (float32 by default).
    public static func oneHot(_ indices: Tensor, depth: Int, dtype: DType = .float32) throws -> Tensor {
        guard depth >= 0, !indices.dtype.isFloatingPoint else {
            throw TensorError("one_hot", "needs integer indices and depth >= 0, got \(indices.dtype) and \(depth)")
        }
        let total = try ShapeUtil.count(indices.shape + [depth], op: "one_hot")
        guard total <= TensorStorage.maxBytes / 16 else { throw TensorError("one_hot", "result of shape \(fmt(indices.shape + [depth])) is too large") }
        let idx = indices.toInt64()
        var v = [Double](repeating: 0, count: total)
        for (i, x) in idx.enumerated() {
            guard x >= 0 && x < depth else { throw TensorError("one_hot", "index \(x) is out of range for depth \(depth)") }
            v[i * depth + Int(x)] = 1
        }
        return try fromDoubles(v, shape: indices.shape + [depth], dtype: dtype, op: "one_hot")
    }
}
