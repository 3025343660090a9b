#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Constructors: zeros, ones, full, arange, linspace, eye.
///
/// Sizes come from scripts, so each constructor checks the request before allocating
/// (`checkCreationSize`): a failed allocation aborts a Swift process ("Fatal error: failed
/// to allocate"), an error does not.
extension Tensor {
    /// Most elements a constructor (zeros, ones, full, arange, linspace, eye, rand, randn,
    /// randint, permutation) makes: 2^31.
    public static let maxCreatedElements = 1 << 31

    /// Checks a requested shape before anything is allocated: no negative dimension, at
    /// most `maxCreatedElements` elements, and `count * (dtype size + scratchPerElement)`
    /// bytes within the machine's physical memory and within the address space left under
    /// `ulimit -v` (RLIMIT_AS). `scratchPerElement`: bytes of temporary arrays per element
    /// the constructor builds on the way. Returns the element count.
    ///
    ///     try Tensor.checkCreationSize([1_000_000_000, 1_000_000_000], dtype: .float32, op: "zeros")  // throws
    @discardableResult
    public static func checkCreationSize(_ shape: [Int], dtype: DType, op: String, scratchPerElement: Int = 0) throws -> Int {
        let n = try ShapeUtil.count(shape, op: op)
        guard n <= maxCreatedElements else {
            throw TensorError(op, "shape \(fmt(shape)) has \(n) elements, more than the limit of \(maxCreatedElements)")
        }
        let bytes = n * (dtype.size + Swift.max(0, scratchPerElement))  // < 2^31 * 2^7: no overflow
        if bytes > TensorStorage.maxBytes {
            throw TensorError(op, "shape \(fmt(shape)) needs \(bytes) bytes, more than this machine's memory (\(TensorStorage.maxBytes) bytes)")
        }
        if bytes >= 1 << 26, let room = addressSpaceLeft(), bytes > room {
            throw TensorError(op, "shape \(fmt(shape)) needs \(bytes) bytes, more than the \(room) bytes of address space left (ulimit -v)")
        }
        return n
    }

    /// Bytes of address space this process may still map under RLIMIT_AS (nil: unlimited
    /// or unknown). Its current size comes from /proc/self/statm (Linux).
    static func addressSpaceLeft() -> Int? {
        var lim = rlimit()
        guard getrlimit(Int32(RLIMIT_AS.rawValue), &lim) == 0, lim.rlim_cur != rlim_t.max else { return nil }
        let limit = lim.rlim_cur > UInt64(Int.max) ? Int.max : Int(lim.rlim_cur)
        guard let f = fopen("/proc/self/statm", "r") else { return limit }
        defer { fclose(f) }
        var pages = 0
        guard fscanf_size(f, &pages) else { return limit }
        let used = pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        return Swift.max(0, limit - used)
    }

    /// Reads the first number of /proc/self/statm (the mapped size in pages).
    private static func fscanf_size(_ f: UnsafeMutablePointer<FILE>, _ out: inout Int) -> Bool {
        var buf = [CChar](repeating: 0, count: 64)
        guard fgets(&buf, Int32(buf.count), f) != nil else { return false }
        let text = String(cString: buf)
        guard let first = text.split(separator: " ").first, let v = Int(first) else { return false }
        out = v
        return true
    }

    /// All zeros. Example: `try Tensor.zeros([2, 3])`.
    public static func zeros(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try checkCreationSize(shape, dtype: dtype, op: "zeros")
        return try Tensor(uninitialized: shape, dtype: dtype, zeroed: true, op: "zeros")
    }

    /// All ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try full(shape, 1, dtype: dtype, op: "ones")
    }

    /// Every element equal to `value` (converted to `dtype`).
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) throws -> Tensor {
        try full(shape, value, dtype: dtype, op: "full")
    }

    static func full(_ shape: [Int], _ value: Double, dtype: DType, op: String) throws -> Tensor {
        try checkCreationSize(shape, dtype: dtype, op: op)
        let t = try Tensor(uninitialized: shape, dtype: dtype, op: op)
        let n = t.count
        switch dtype {
        case .float32: t.ptr(Float.self).initialize(repeating: Float(value), count: n)
        case .float64: t.ptr(Double.self).initialize(repeating: value, count: n)
        case .int32: t.ptr(Int32.self).initialize(repeating: Int32(truncatingIfNeeded: wrapToInt64(value)), count: n)
        case .int8: t.ptr(Int8.self).initialize(repeating: Int8(truncatingIfNeeded: wrapToInt64(value)), count: n)
        case .uint8: t.ptr(UInt8.self).initialize(repeating: UInt8(truncatingIfNeeded: wrapToInt64(value)), count: n)
        case .bool: t.ptr(UInt8.self).initialize(repeating: value != 0 ? 1 : 0, count: n)
        }
        return t
    }

    /// Values start, start+step, ... below stop (above for negative steps), like numpy.arange.
    /// Example: `try Tensor.arange(0, 5)` gives [0, 1, 2, 3, 4].
    public static func arange(_ start: Double, _ stop: Double, step: Double = 1, dtype: DType = .float32) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, stop.isFinite else {
            throw TensorError("arange", "invalid range start \(start), stop \(stop), step \(step)")
        }
        let n = Swift.max(0, ((stop - start) / step).rounded(.up))
        guard n <= Double(maxCreatedElements) else {
            throw TensorError("arange", "range has \(n) elements, more than the limit of \(maxCreatedElements)")
        }
        let count = Int(n)
        try checkCreationSize([count], dtype: dtype, op: "arange")
        return try filled(count, dtype: dtype, op: "arange") { start + Double($0) * step }
    }

    /// A 1-D tensor of f(0), f(1), ... written in 64K-element pieces, so no temporary array
    /// as large as the tensor is made.
    static func filled(_ count: Int, dtype: DType, op: String, _ f: (Int) -> Double) throws -> Tensor {
        let t = try Tensor(uninitialized: [count], dtype: dtype, op: op)
        let piece = 65_536
        var piecesDone = 0
        while piecesDone * piece < count {
            let lo = piecesDone * piece, hi = Swift.min(count, lo + piece)
            storeDoubles((lo..<hi).map(f), into: t.basePointer + lo * dtype.size, dtype: dtype)
            piecesDone += 1
        }
        return t
    }

    /// `count` evenly spaced values from start to end inclusive.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32) throws -> Tensor {
        guard count >= 0 else { throw TensorError("linspace", "count must be >= 0, got \(count)") }
        try checkCreationSize([count], dtype: dtype, op: "linspace")
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        return try filled(count, dtype: dtype, op: "linspace") { i in count > 1 && i == count - 1 ? end : start + Double(i) * step }
    }

    /// Identity-like matrix of shape [n, m] (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) throws -> Tensor {
        let cols = m ?? n
        try checkCreationSize([n, cols], dtype: dtype, op: "eye")
        let t = try zeros([n, cols], dtype: dtype)
        let one = try full([], 1, dtype: dtype)
        for i in 0..<Swift.min(n, cols) {
            (t.basePointer + (i * cols + i) * dtype.size).copyMemory(from: one.basePointer, byteCount: dtype.size)
        }
        return t
    }
}
