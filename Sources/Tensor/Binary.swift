import CKernels

/// Broadcasting elementwise arithmetic and comparisons.
///
/// float32 results run in the C kernels (same-shape, scalar and row-broadcast fast
/// paths, everything else materialises the broadcast first); other dtypes compute in
/// Double (floats, division) or wrapping Int64 (integer +, -, *, max, min).
public enum BinaryOp: String, Sendable {
    case add, sub, mul, div, maximum, minimum, pow

    var ckernel: Int32 {
        switch self {
        case .add: return Int32(MLW_ADD)
        case .sub: return Int32(MLW_SUB)
        case .mul: return Int32(MLW_MUL)
        case .div: return Int32(MLW_DIV)
        case .maximum: return Int32(MLW_MAX)
        case .minimum: return Int32(MLW_MIN)
        case .pow: return Int32(MLW_POW)
        }
    }

    func apply(_ x: Double, _ y: Double) -> Double {
        switch self {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div: return x / y
        case .maximum: return x.isNaN || y.isNaN ? .nan : Swift.max(x, y)
        case .minimum: return x.isNaN || y.isNaN ? .nan : Swift.min(x, y)
        case .pow: return _pow(x, y)
        }
    }

    func applyInt(_ x: Int64, _ y: Int64) -> Int64 {
        switch self {
        case .add: return x &+ y
        case .sub: return x &- y
        case .mul: return x &* y
        case .maximum: return Swift.max(x, y)
        case .minimum: return Swift.min(x, y)
        case .div, .pow: return wrapToInt64(apply(Double(x), Double(y)))
        }
    }
}

/// Comparison operators; results are bool tensors.
public enum CompareOp: String, Sendable {
    case eq, ne, lt, le, gt, ge

    func apply(_ x: Double, _ y: Double) -> Bool {
        switch self {
        case .eq: return x == y
        case .ne: return x != y
        case .lt: return x < y
        case .le: return x <= y
        case .gt: return x > y
        case .ge: return x >= y
        }
    }
}

extension Tensor {
    /// `a op b` with numpy broadcasting and dtype promotion (integer division gives float32).
    public static func binary(_ a: Tensor, _ b: Tensor, _ op: BinaryOp) throws -> Tensor {
        let name = op.rawValue
        let outShape = try ShapeUtil.broadcast(a.shape, b.shape, op: name)
        var outType = DType.promote(a.dtype, b.dtype)
        if op == .div && !outType.isFloatingPoint { outType = .float32 }
        if outType == .float32 {
            return try binaryFloat32(a.astype(.float32), b.astype(.float32), op, outShape)
        }
        let ae = try a.expand(to: outShape), be = try b.expand(to: outShape)
        if !outType.isFloatingPoint && op != .div && op != .pow {
            let x = ae.toInt64(), y = be.toInt64()
            return try fromInt64((0..<x.count).map { op.applyInt(x[$0], y[$0]) }, shape: outShape, dtype: outType, op: name)
        }
        let x = ae.toDoubles(), y = be.toDoubles()
        return try fromDoubles((0..<x.count).map { op.apply(x[$0], y[$0]) }, shape: outShape, dtype: outType, op: name)
    }

    private static func binaryFloat32(_ a: Tensor, _ b: Tensor, _ op: BinaryOp, _ shape: [Int]) throws -> Tensor {
        let out = try Tensor(uninitialized: shape, dtype: .float32, op: op.rawValue)
        let n = out.count
        if n == 0 { return out }
        let k = op.ckernel
        if a.shape == shape && a.isContiguous {
            if b.shape == shape && b.isContiguous {
                mlw_binary_f32(k, Int32(MLW_VV), a.ptr(Float.self), b.ptr(Float.self), out.ptr(Float.self), n)
                return out
            }
            if b.count == 1 {
                let bc = b.contiguous()
                mlw_binary_f32(k, Int32(MLW_VS), a.ptr(Float.self), bc.ptr(Float.self), out.ptr(Float.self), n)
                return out
            }
            // Row broadcast: b's shape (without leading 1s) is a suffix of the output shape.
            let bs = Array(b.shape.drop(while: { $0 == 1 }))
            if b.isContiguous && bs.count <= shape.count && Array(shape.suffix(bs.count)) == bs {
                let cols = b.count
                withExtendedLifetime(b) {
                    mlw_binary_rows_f32(k, a.ptr(Float.self), b.ptr(Float.self), out.ptr(Float.self), n / cols, cols)
                }
                return out
            }
        }
        if a.count == 1 && b.shape == shape && b.isContiguous {
            let ac = a.contiguous()
            mlw_binary_f32(k, Int32(MLW_SV), ac.ptr(Float.self), b.ptr(Float.self), out.ptr(Float.self), n)
            return out
        }
        if channelBroadcast(a, b, k, shape, out) { return out }
        let ae = try a.expand(to: shape).contiguous(), be = try b.expand(to: shape).contiguous()
        mlw_binary_f32(k, Int32(MLW_VV), ae.ptr(Float.self), be.ptr(Float.self), out.ptr(Float.self), n)
        return out
    }

    /// One operand full and contiguous, the other a per-channel vector such as batch
    /// norm's [1, C, 1, 1] against [N, C, H, W]: one vector-scalar pass per (outer, channel)
    /// run instead of expanding the small operand to the full shape first.
    private static func channelBroadcast(_ a: Tensor, _ b: Tensor, _ k: Int32, _ shape: [Int], _ out: Tensor) -> Bool {
        let aFull = a.shape == shape && a.isContiguous, bFull = b.shape == shape && b.isContiguous
        guard aFull != bFull else { return false }
        let small = aFull ? b : a, full = aFull ? a : b
        guard small.isContiguous else { return false }
        let core = Array(small.shape.drop(while: { $0 == 1 }))
        let trailing = core.reversed().prefix(while: { $0 == 1 }).count
        guard trailing > 0, trailing < core.count, core.count <= shape.count else { return false }
        let channels = Array(core.dropLast(trailing))
        let at = shape.count - core.count
        guard Array(shape[at..<(at + channels.count)]) == channels else { return false }
        let inner = shape.suffix(trailing).reduce(1, *), c = channels.reduce(1, *)
        guard inner >= 8 else { return false }   // short runs: the expanding path is as good
        let outer = out.count / (c * inner)
        withExtendedLifetime((small, full)) {
            let sp = small.ptr(Float.self), fp = full.ptr(Float.self), op = out.ptr(Float.self)
            let mode = Int32(aFull ? MLW_VS : MLW_SV)
            for o in 0..<outer {
                for ch in 0..<c {
                    let at = (o * c + ch) * inner
                    if aFull { mlw_binary_f32(k, mode, fp + at, sp + ch, op + at, inner) }
                    else { mlw_binary_f32(k, mode, sp + ch, fp + at, op + at, inner) }
                }
            }
        }
        return true
    }

    /// Elementwise comparison with broadcasting; returns a bool tensor.
    public static func compare(_ a: Tensor, _ b: Tensor, _ op: CompareOp) throws -> Tensor {
        let outShape = try ShapeUtil.broadcast(a.shape, b.shape, op: op.rawValue)
        let x = try a.expand(to: outShape).toDoubles(), y = try b.expand(to: outShape).toDoubles()
        return try fromDoubles((0..<x.count).map { op.apply(x[$0], y[$0]) ? 1 : 0 }, shape: outShape, dtype: .bool, op: op.rawValue)
    }

    /// `cond ? a : b` elementwise, all three broadcast together; the dtype is promote(a, b).
    public static func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let s1 = try ShapeUtil.broadcast(cond.shape, a.shape, op: "where")
        let shape = try ShapeUtil.broadcast(s1, b.shape, op: "where")
        let c = try cond.expand(to: shape).toDoubles()
        let x = try a.expand(to: shape).toDoubles(), y = try b.expand(to: shape).toDoubles()
        return try fromDoubles((0..<c.count).map { c[$0] != 0 ? x[$0] : y[$0] }, shape: shape,
                               dtype: DType.promote(a.dtype, b.dtype), op: "where")
    }

    /// out = a * b + c for same-shape float32 tensors in one pass (falls back to two ops otherwise).
    public static func fusedMultiplyAdd(_ a: Tensor, _ b: Tensor, _ c: Tensor) throws -> Tensor {
        if a.dtype == .float32 && b.dtype == .float32 && c.dtype == .float32 && a.shape == b.shape && b.shape == c.shape
            && a.isContiguous && b.isContiguous && c.isContiguous {
            let out = try Tensor(uninitialized: a.shape, dtype: .float32, op: "fma")
            mlw_fma_f32(a.ptr(Float.self), b.ptr(Float.self), c.ptr(Float.self), out.ptr(Float.self), a.count)
            return out
        }
        return try binary(binary(a, b, .mul), c, .add)
    }

    /// A 0-d tensor for a Swift scalar used with `self`: keeps self's dtype unless a
    /// fractional value meets an integer tensor (then float32).
    func scalarLike(_ v: Double) -> Tensor {
        let dt: DType = dtype.isFloatingPoint || (v.rounded() == v && dtype != .bool) ? dtype : .float32
        return Tensor(scalar: v, dtype: dt)
    }

    // MARK: named methods

    public func add(_ o: Tensor) throws -> Tensor { try Tensor.binary(self, o, .add) }
    public func sub(_ o: Tensor) throws -> Tensor { try Tensor.binary(self, o, .sub) }
    public func mul(_ o: Tensor) throws -> Tensor { try Tensor.binary(self, o, .mul) }
    public func div(_ o: Tensor) throws -> Tensor { try Tensor.binary(self, o, .div) }
    /// Elementwise power with broadcasting.
    public func pow(_ o: Tensor) throws -> Tensor { try Tensor.binary(self, o, .pow) }
    /// Elementwise power by a scalar. Example: `try x.pow(2)`.
    public func pow(_ e: Double) throws -> Tensor { try Tensor.binary(self, scalarLike(e), .pow) }
    public static func maximum(_ a: Tensor, _ b: Tensor) throws -> Tensor { try binary(a, b, .maximum) }
    public static func minimum(_ a: Tensor, _ b: Tensor) throws -> Tensor { try binary(a, b, .minimum) }

    public func eq(_ o: Tensor) throws -> Tensor { try Tensor.compare(self, o, .eq) }
    public func ne(_ o: Tensor) throws -> Tensor { try Tensor.compare(self, o, .ne) }
    public func lt(_ o: Tensor) throws -> Tensor { try Tensor.compare(self, o, .lt) }
    public func le(_ o: Tensor) throws -> Tensor { try Tensor.compare(self, o, .le) }
    public func gt(_ o: Tensor) throws -> Tensor { try Tensor.compare(self, o, .gt) }
    public func ge(_ o: Tensor) throws -> Tensor { try Tensor.compare(self, o, .ge) }

    // MARK: operators (throwing, because shapes may not broadcast)

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(a, b, .add) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(a, b, .sub) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(a, b, .mul) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(a, b, .div) }
    public static func + (a: Tensor, b: Double) throws -> Tensor { try binary(a, a.scalarLike(b), .add) }
    public static func - (a: Tensor, b: Double) throws -> Tensor { try binary(a, a.scalarLike(b), .sub) }
    public static func * (a: Tensor, b: Double) throws -> Tensor { try binary(a, a.scalarLike(b), .mul) }
    public static func / (a: Tensor, b: Double) throws -> Tensor { try binary(a, a.scalarLike(b), .div) }
    public static func + (a: Double, b: Tensor) throws -> Tensor { try binary(b.scalarLike(a), b, .add) }
    public static func - (a: Double, b: Tensor) throws -> Tensor { try binary(b.scalarLike(a), b, .sub) }
    public static func * (a: Double, b: Tensor) throws -> Tensor { try binary(b.scalarLike(a), b, .mul) }
    public static func / (a: Double, b: Tensor) throws -> Tensor { try binary(b.scalarLike(a), b, .div) }
    public static prefix func - (a: Tensor) -> Tensor { a.neg() }
}
