/// Shape-changing operations. They return views sharing storage whenever the
/// strides allow it, and copy only when they must (e.g. reshape of a transpose).
extension Tensor {
    /// Same elements, new shape; one entry may be -1 (inferred).
    /// Example: `try t.reshape([-1, 4])`.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        let n = count
        var shape = newShape
        let unknown = shape.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1 else { throw TensorError("reshape", "only one -1 allowed in \(fmt(newShape))") }
        guard shape.allSatisfy({ $0 >= -1 }) else { throw TensorError("reshape", "negative dimension in \(fmt(newShape))") }
        if let u = unknown.first {
            let known = try ShapeUtil.count(shape.enumerated().map { $0.offset == u ? 1 : $0.element }, op: "reshape")
            guard known != 0, n % known == 0 else {
                throw TensorError("reshape", "cannot reshape tensor of shape \(fmt(self.shape)) (\(n) elements) into \(fmt(newShape))")
            }
            shape[u] = n / known
        }
        let m = try ShapeUtil.count(shape, op: "reshape")
        guard m == n else {
            throw TensorError("reshape", "cannot reshape tensor of shape \(fmt(self.shape)) (\(n) elements) into \(fmt(newShape))")
        }
        let src = isContiguous ? self : contiguous()
        return Tensor(storage: src.storage, dtype: dtype, shape: shape, strides: ShapeUtil.contiguousStrides(shape), offset: src.offset)
    }

    /// A 1-D view of all elements.
    public func flatten() -> Tensor { try! reshape([-1]) }

    /// Reorders the axes: result axis i is input axis `order[i]`. A view.
    public func permute(_ order: [Int]) throws -> Tensor {
        guard order.count == rank else {
            throw TensorError("permute", "order \(fmt(order)) has \(order.count) axes, tensor of shape \(fmt(shape)) has \(rank)")
        }
        let axes = try order.map { try ShapeUtil.axis($0, rank: rank, op: "permute") }
        guard Set(axes).count == rank else { throw TensorError("permute", "order \(fmt(order)) repeats an axis") }
        return Tensor(storage: storage, dtype: dtype, shape: axes.map { shape[$0] }, strides: axes.map { strides[$0] }, offset: offset)
    }

    /// Swaps two axes (defaults: the last two). A view.
    public func transpose(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        if rank < 2 { return self }   // like numpy: transposing a vector or scalar is a no-op
        let x = try ShapeUtil.axis(a, rank: rank, op: "transpose"), y = try ShapeUtil.axis(b, rank: rank, op: "transpose")
        var order = Array(0..<rank)
        order.swapAt(x, y)
        return try permute(order)
    }

    /// numpy's `.T`: all axes reversed. A view.
    public var T: Tensor { try! permute(Array((0..<rank).reversed())) }

    /// Removes axes of size 1 (all of them when `axes` is nil). A view.
    public func squeeze(_ axes: [Int]? = nil) throws -> Tensor {
        let drop: Set<Int>
        if let axes {
            let norm = try axes.map { try ShapeUtil.axis($0, rank: rank, op: "squeeze") }
            for a in norm where shape[a] != 1 {
                throw TensorError("squeeze", "axis \(a) of shape \(fmt(shape)) has size \(shape[a]), not 1")
            }
            drop = Set(norm)
        } else {
            drop = Set(shape.indices.filter { shape[$0] == 1 })
        }
        let keep = shape.indices.filter { !drop.contains($0) }
        return Tensor(storage: storage, dtype: dtype, shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
    }

    /// Inserts an axis of size 1 at `axis` (-1 appends). A view.
    public func unsqueeze(_ axis: Int) throws -> Tensor {
        let a = try ShapeUtil.axis(axis, rank: rank + 1, op: "unsqueeze")
        var s = shape, st = strides
        s.insert(1, at: a)
        st.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        return Tensor(storage: storage, dtype: dtype, shape: s, strides: st, offset: offset)
    }

    /// A broadcast view with the given shape (stride 0 on repeated axes), like numpy.broadcast_to.
    public func expand(to target: [Int]) throws -> Tensor {
        guard target.count >= rank else {
            throw TensorError("expand", "cannot broadcast shape \(fmt(shape)) to \(fmt(target))")
        }
        let n = try ShapeUtil.count(target, op: "expand")
        guard n <= TensorStorage.maxBytes / dtype.size else { throw TensorError("expand", "shape \(fmt(target)) is too large") }
        let lead = target.count - rank
        var st = [Int](repeating: 0, count: target.count)
        for i in 0..<rank {
            if shape[i] == target[lead + i] { st[lead + i] = strides[i] } else if shape[i] == 1 { st[lead + i] = 0 } else {
                throw TensorError("expand", "cannot broadcast shape \(fmt(shape)) to \(fmt(target))")
            }
        }
        return Tensor(storage: storage, dtype: dtype, shape: target, strides: st, offset: offset)
    }

    /// Python-style slicing on one axis: start/stop may be negative or nil, step != 0
    /// (negative steps walk backwards). A view. Example: `try t.slice(axis: 1, start: 1, stop: nil, step: 2)`.
    public func slice(axis: Int, start: Int? = nil, stop: Int? = nil, step: Int = 1) throws -> Tensor {
        let a = try ShapeUtil.axis(axis, rank: rank, op: "slice")
        guard step != 0 else { throw TensorError("slice", "step must not be 0") }
        guard step != Int.min else { throw TensorError("slice", "step \(step) is out of range") }
        let n = shape[a]
        func clampIndex(_ v: Int, lowest: Int, highest: Int) -> Int {
            let x = v < 0 ? v + n : v
            return Swift.min(Swift.max(x, lowest), highest)
        }
        let len: Int, first: Int
        if step > 0 {
            let s = start.map { clampIndex($0, lowest: 0, highest: n) } ?? 0
            let e = stop.map { clampIndex($0, lowest: 0, highest: n) } ?? n
            len = e > s ? (e - s - 1) / step + 1 : 0
            first = s
        } else {
            let s = start.map { clampIndex($0, lowest: -1, highest: n - 1) } ?? n - 1
            let e = stop.map { clampIndex($0, lowest: -1, highest: n - 1) } ?? -1
            len = s > e ? (s - e - 1) / (-step) + 1 : 0
            first = s
        }
        var sh = shape, st = strides
        sh[a] = len
        st[a] = len > 1 ? strides[a] * step : strides[a]   // |step| < n when len > 1: no overflow
        let off = len > 0 ? offset + first * strides[a] : offset
        return Tensor(storage: storage, dtype: dtype, shape: sh, strides: st, offset: off)
    }

    /// One (start, stop, step) per leading axis; missing axes are taken whole.
    public func slice(_ ranges: [(start: Int?, stop: Int?, step: Int)]) throws -> Tensor {
        guard ranges.count <= rank else {
            throw TensorError("slice", "\(ranges.count) ranges for a tensor of shape \(fmt(shape))")
        }
        var t = self
        for (i, r) in ranges.enumerated() { t = try t.slice(axis: i, start: r.start, stop: r.stop, step: r.step) }
        return t
    }

    /// Selects index `i` along `axis` and drops that axis (like `t[i]` in numpy for axis 0).
    public func select(axis: Int = 0, index: Int) throws -> Tensor {
        let a = try ShapeUtil.axis(axis, rank: rank, op: "select")
        let i = index < 0 ? index + shape[a] : index
        guard i >= 0 && i < shape[a] else {
            throw TensorError("select", "index \(index) is out of range for axis \(a) of shape \(fmt(shape))")
        }
        return try slice(axis: a, start: i, stop: i + 1).squeeze([a])
    }
}
