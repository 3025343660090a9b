import CKernels

/// Building tensors from Swift arrays and reading them back.
extension Tensor {
    /// A float32 tensor from flat row-major values. Example: `try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])`.
    public init(_ values: [Float], shape: [Int]? = nil) throws {
        try self.init(flat: values, shape: shape ?? [values.count], dtype: .float32, op: "tensor")
    }

    /// A tensor of `dtype` (default float64) from Doubles, converted like `astype`.
    public init(_ values: [Double], shape: [Int]? = nil, dtype: DType = .float64) throws {
        let s = shape ?? [values.count]
        try Tensor.checkCount(values.count, s, "tensor")
        try self.init(uninitialized: s, dtype: dtype, op: "tensor")
        Tensor.storeDoubles(values, into: basePointer, dtype: dtype)
    }

    /// A tensor of `dtype` (default int32) from Ints; values wrap to the dtype's width.
    public init(_ values: [Int], shape: [Int]? = nil, dtype: DType = .int32) throws {
        let s = shape ?? [values.count]
        try Tensor.checkCount(values.count, s, "tensor")
        try self.init(uninitialized: s, dtype: dtype, op: "tensor")
        Tensor.storeInt64(values.map { Int64($0) }, into: basePointer, dtype: dtype)
    }

    /// A bool tensor.
    public init(_ values: [Bool], shape: [Int]? = nil) throws {
        let s = shape ?? [values.count]
        try Tensor.checkCount(values.count, s, "tensor")
        try self.init(uninitialized: s, dtype: .bool, op: "tensor")
        let p = ptr(UInt8.self)
        for (i, v) in values.enumerated() { p[i] = v ? 1 : 0 }
    }

    /// A 0-d tensor holding one value. Example: `Tensor(scalar: 2.5)`.
    public init(scalar: Double, dtype: DType = .float32) {
        self = try! Tensor([scalar], shape: [], dtype: dtype)
    }

    init(flat values: [Float], shape: [Int], dtype: DType, op: String) throws {
        try Tensor.checkCount(values.count, shape, op)
        try self.init(uninitialized: shape, dtype: .float32, op: op)
        values.withUnsafeBufferPointer { ptr(Float.self).update(from: $0.baseAddress!, count: values.count) }
    }

    static func checkCount(_ n: Int, _ shape: [Int], _ op: String) throws {
        let c = try ShapeUtil.count(shape, op: op)
        guard c == n else { throw TensorError(op, "\(n) values do not fill shape \(fmt(shape)) (\(c) elements)") }
    }

    // MARK: reading

    /// The elements in row-major order as Floats (any dtype, converted).
    public func toFloats() -> [Float] {
        if dtype == .float32 {
            let c = contiguous()
            return withExtendedLifetime(c) { Array(UnsafeBufferPointer(start: c.ptr(Float.self), count: c.count)) }
        }
        return toDoubles().map { Float($0) }
    }

    /// The elements in row-major order as Doubles (exact for every dtype).
    public func toDoubles() -> [Double] {
        let c = contiguous()
        let n = c.count
        return withExtendedLifetime(c) {
            switch dtype {
            case .float32: return UnsafeBufferPointer(start: c.ptr(Float.self), count: n).map { Double($0) }
            case .float64: return Array(UnsafeBufferPointer(start: c.ptr(Double.self), count: n))
            case .int32: return UnsafeBufferPointer(start: c.ptr(Int32.self), count: n).map { Double($0) }
            case .int8: return UnsafeBufferPointer(start: c.ptr(Int8.self), count: n).map { Double($0) }
            case .uint8, .bool: return UnsafeBufferPointer(start: c.ptr(UInt8.self), count: n).map { Double($0) }
            }
        }
    }

    /// The elements as Ints (floats truncate toward zero; NaN gives 0).
    public func toInts() -> [Int] { toInt64().map { Int($0) } }

    /// The elements as Bools (non-zero is true).
    public func toBools() -> [Bool] { toDoubles().map { $0 != 0 } }

    func toInt64() -> [Int64] {
        let c = contiguous()
        let n = c.count
        return withExtendedLifetime(c) {
            switch dtype {
            case .int32: return UnsafeBufferPointer(start: c.ptr(Int32.self), count: n).map { Int64($0) }
            case .int8: return UnsafeBufferPointer(start: c.ptr(Int8.self), count: n).map { Int64($0) }
            case .uint8, .bool: return UnsafeBufferPointer(start: c.ptr(UInt8.self), count: n).map { Int64($0) }
            default: return c.toDoubles().map(wrapToInt64)
            }
        }
    }

    /// The single value of a one-element tensor.
    public func item() throws -> Double {
        guard count == 1 else { throw TensorError("item", "tensor of shape \(fmt(shape)) has \(count) elements, expected 1") }
        return toDoubles()[0]
    }

    /// The element at a full index (negative indices count from the end).
    public func value(at index: [Int]) throws -> Double {
        guard index.count == rank else { throw TensorError("value", "index of length \(index.count) for a tensor of rank \(rank)") }
        var off = offset
        for (i, v) in index.enumerated() {
            let j = v < 0 ? v + shape[i] : v
            guard j >= 0 && j < shape[i] else { throw TensorError("value", "index \(v) out of range for axis \(i) of size \(shape[i])") }
            off += j * strides[i]
        }
        let p = storage.data + off * dtype.size
        switch dtype {
        case .float32: return Double(p.load(as: Float.self))
        case .float64: return p.load(as: Double.self)
        case .int32: return Double(p.load(as: Int32.self))
        case .int8: return Double(p.load(as: Int8.self))
        case .uint8, .bool: return Double(p.load(as: UInt8.self))
        }
    }

    // MARK: storing

    static func storeDoubles(_ v: [Double], into p: UnsafeMutableRawPointer, dtype: DType) {
        let n = v.count
        switch dtype {
        case .float32: let q = p.assumingMemoryBound(to: Float.self); for i in 0..<n { q[i] = Float(v[i]) }
        case .float64: let q = p.assumingMemoryBound(to: Double.self); for i in 0..<n { q[i] = v[i] }
        case .int32: let q = p.assumingMemoryBound(to: Int32.self); for i in 0..<n { q[i] = Int32(truncatingIfNeeded: wrapToInt64(v[i])) }
        case .int8: let q = p.assumingMemoryBound(to: Int8.self); for i in 0..<n { q[i] = Int8(truncatingIfNeeded: wrapToInt64(v[i])) }
        case .uint8: let q = p.assumingMemoryBound(to: UInt8.self); for i in 0..<n { q[i] = UInt8(truncatingIfNeeded: wrapToInt64(v[i])) }
        case .bool: let q = p.assumingMemoryBound(to: UInt8.self); for i in 0..<n { q[i] = v[i] != 0 ? 1 : 0 }
        }
    }

    static func storeInt64(_ v: [Int64], into p: UnsafeMutableRawPointer, dtype: DType) {
        let n = v.count
        switch dtype {
        case .float32: let q = p.assumingMemoryBound(to: Float.self); for i in 0..<n { q[i] = Float(v[i]) }
        case .float64: let q = p.assumingMemoryBound(to: Double.self); for i in 0..<n { q[i] = Double(v[i]) }
        case .int32: let q = p.assumingMemoryBound(to: Int32.self); for i in 0..<n { q[i] = Int32(truncatingIfNeeded: v[i]) }
        case .int8: let q = p.assumingMemoryBound(to: Int8.self); for i in 0..<n { q[i] = Int8(truncatingIfNeeded: v[i]) }
        case .uint8: let q = p.assumingMemoryBound(to: UInt8.self); for i in 0..<n { q[i] = UInt8(truncatingIfNeeded: v[i]) }
        case .bool: let q = p.assumingMemoryBound(to: UInt8.self); for i in 0..<n { q[i] = v[i] != 0 ? 1 : 0 }
        }
    }

    /// A contiguous tensor from computed Doubles (internal generic path).
    static func fromDoubles(_ v: [Double], shape: [Int], dtype: DType, op: String) throws -> Tensor {
        let t = try Tensor(uninitialized: shape, dtype: dtype, op: op)
        storeDoubles(v, into: t.basePointer, dtype: dtype)
        return t
    }

    static func fromInt64(_ v: [Int64], shape: [Int], dtype: DType, op: String) throws -> Tensor {
        let t = try Tensor(uninitialized: shape, dtype: dtype, op: op)
        storeInt64(v, into: t.basePointer, dtype: dtype)
        return t
    }

    /// The same values converted to another dtype (floats to ints truncate toward zero
    /// and wrap; NaN becomes 0; anything non-zero becomes true).
    public func astype(_ to: DType) -> Tensor {
        if to == dtype { return self }
        if dtype.isInteger || dtype == .bool {
            return try! Tensor.fromInt64(toInt64(), shape: shape, dtype: to, op: "astype")
        }
        return try! Tensor.fromDoubles(toDoubles(), shape: shape, dtype: to, op: "astype")
    }
}

extension Tensor {
    /// A float32 [rows, cols] tensor whose rows `fill` writes straight into the new buffer
    /// (`fill(range, p)`: rows `range`, row-major, the first at `p`), in row blocks spread
    /// over the kernel threads. For conversions whose source is not one flat array (a
    /// dataset's columns), so the data is written once instead of built and then copied.
    public static func float32Rows(_ rows: Int, _ cols: Int, fill: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) throws -> Tensor {
        let t = try Tensor(uninitialized: [rows, cols], dtype: .float32, op: "tensor")
        let p = t.ptr(Float.self)
        // Blocks of at least 256 rows (small sets stay on one thread), about 4 per thread.
        let blockRows = Swift.max(256, (rows + 4 * threads - 1) / Swift.max(4 * threads, 1))
        let blocks = (rows + blockRows - 1) / blockRows
        parallelFor(blocks) { k in
            let lo = k * blockRows, hi = Swift.min(rows, lo + blockRows)
            fill(lo..<hi, p + lo * cols)
        }
        return t
    }

    /// Rows `range` of float64 columns written as float32 rows `width` wide starting at `dst`
    /// (column k to output column `at[k]`, increasing): 16 x 16 tiles, vectorised, in C.
    public static func writeRows(of columns: [UnsafePointer<Double>], at: [Int], rows range: Range<Int>,
                                 into dst: UnsafeMutablePointer<Float>, width: Int) {
        guard !columns.isEmpty, !range.isEmpty else { return }
        let shifted = columns.map { $0 + range.lowerBound }
        let positions = at.map { CLong($0) }
        shifted.withUnsafeBufferPointer { c in
            positions.withUnsafeBufferPointer { p in
                c.baseAddress!.withMemoryRebound(to: UnsafePointer<Double>?.self, capacity: c.count) { cp in
                    mlw_columns_to_rows_f64(cp, p.baseAddress, c.count, range.count, dst, width)
                }
            }
        }
    }
}
