
/// A raw pointer that may cross threads (each worker writes disjoint elements).
struct SendablePointer: @unchecked Sendable { let raw: UnsafeMutableRawPointer }

/// Counter-based random numbers (Philox4x32-10).
///
/// Element i of a random tensor is a pure function of (seed, i): Philox is run on the
/// counter (i_lo, i_hi, stream, 0) with key (seed_lo, seed_hi). Results therefore never
/// depend on thread count, call order or the tensor's shape — only on its size.
public enum Philox {
    /// The four 32-bit outputs for one counter.
    public static func block(seed: UInt64, counter: UInt64, stream: UInt32 = 0) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2 = stream, c3: UInt32 = 0
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
            let n1 = UInt32(truncatingIfNeeded: p1)
            let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
            let n3 = UInt32(truncatingIfNeeded: p0)
            c0 = n0; c1 = n1; c2 = n2; c3 = n3
            k0 = k0 &+ 0x9E37_79B9
            k1 = k1 &+ 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// Uniform in [0, 1) with 24 random bits (exactly representable as Float).
    @inline(__always) static func unit(_ x: UInt32) -> Double { Double(x >> 8) * (1.0 / 16_777_216.0) }
}

extension Tensor {
    static func randomCount(_ shape: [Int], _ op: String) throws -> Int {
        let n = try ShapeUtil.count(shape, op: op)
        // the generator builds a [Double] first
        guard n <= TensorStorage.maxBytes / 16 else { throw TensorError(op, "shape \(fmt(shape)) is too large") }
        return n
    }

    /// Uniform samples in [0, 1). Element i depends only on (seed, i).
    public static func rand(_ shape: [Int], seed: UInt64, dtype: DType = .float32) throws -> Tensor {
        try generate(shape, dtype: dtype, op: "rand") { i in Philox.unit(Philox.block(seed: seed, counter: UInt64(i)).0) }
    }

    /// Standard normal samples (Box-Muller on two Philox words). Element i depends only on (seed, i).
    public static func randn(_ shape: [Int], seed: UInt64, dtype: DType = .float32) throws -> Tensor {
        try generate(shape, dtype: dtype, op: "randn") { i in
            let (a, b, _, _) = Philox.block(seed: seed, counter: UInt64(i), stream: 1)
            let u1 = (Double(a) + 1.0) / 4_294_967_296.0        // (0, 1]: log is finite
            let u2 = Double(b) / 4_294_967_296.0
            return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
        }
    }

    /// Fills a float tensor with f(i), in fixed 64K-element chunks spread over the threads.
    /// Each element is a pure function of its index, so the thread count cannot change it.
    static func generate(_ shape: [Int], dtype: DType, op: String, _ f: @escaping @Sendable (Int) -> Double) throws -> Tensor {
        let n = try randomCount(shape, op)
        let outType: DType = dtype.isFloatingPoint ? dtype : .float32
        let out = try Tensor(uninitialized: shape, dtype: outType, op: op)
        let chunk = 65_536, chunks = (n + chunk - 1) / chunk
        let dst = SendablePointer(raw: out.basePointer)
        let body: @Sendable (Int) -> Void = { c in
            for i in (c * chunk)..<Swift.min(n, (c + 1) * chunk) {
                if outType == .float32 { dst.raw.assumingMemoryBound(to: Float.self)[i] = Float(f(i)) }
                else { dst.raw.assumingMemoryBound(to: Double.self)[i] = f(i) }
            }
        }
        parallelFor(chunks, body)   // element i depends only on (seed, i): any split gives the same bits
        return out
    }

    /// Integers uniform in [low, high) (int32 by default). Element i depends only on (seed, i).
    public static func randint(_ low: Int, _ high: Int, shape: [Int], seed: UInt64, dtype: DType = .int32) throws -> Tensor {
        guard high > low else { throw TensorError("randint", "high (\(high)) must be greater than low (\(low))") }
        let n = try randomCount(shape, "randint")
        let range = UInt64(bitPattern: Int64(high) &- Int64(low))
        let v = (0..<n).map { i -> Int64 in
            let (a, b, _, _) = Philox.block(seed: seed, counter: UInt64(i), stream: 2)
            let r = UInt64(a) | (UInt64(b) << 32)
            return Int64(low) &+ Int64(bitPattern: r.multipliedFullWidth(by: range).high)
        }
        return try fromInt64(v, shape: shape, dtype: dtype, op: "randint")
    }

    /// A random permutation of 0..<n (int32): indices sorted by a Philox key per index.
    public static func permutation(_ n: Int, seed: UInt64) throws -> Tensor {
        guard n >= 0 else { throw TensorError("permutation", "n must be >= 0, got \(n)") }
        _ = try randomCount([n], "permutation")
        let keys = (0..<n).map { i -> UInt64 in
            let (a, b, _, _) = Philox.block(seed: seed, counter: UInt64(i), stream: 3)
            return UInt64(a) | (UInt64(b) << 32)
        }
        let order = (0..<n).sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
        return try Tensor(order, shape: [n], dtype: .int32)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
