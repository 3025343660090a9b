/// SplitMix64: a tiny, explicitly seeded generator. Shuffles and splits depend only on
/// the seed (never on the platform's random source), so a script re-runs bit for bit.
///
///     var rng = SplitMix64(seed: 42); rng.next()
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= SplitMix64.golden
        return SplitMix64.finalize(state)
    }

    /// The increment: 2^64 divided by the golden ratio.
    public static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's output function (a bijective 64-bit mixer).
    @inline(__always)
    public static func finalize(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform integer in 0..<n without modulo bias (Lemire's method).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let t = (0 &- bound) % bound
            while m.low < t { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// Fisher-Yates shuffle of `array` using only this generator.
    public mutating func shuffle<T>(_ array: inout [T]) {
        if array.count < 2 { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, below(i + 1))
        }
    }
}

/// Derives an independent seed from a seed and a counter (a node id, a step, a fold):
/// the SplitMix64 output of `a + golden * (b + 1)`.
///
///     let dropoutSeed = mixSeed(mixSeed(seed, UInt64(nodeID)), step)
@inline(__always)
public func mixSeed(_ a: UInt64, _ b: UInt64) -> UInt64 {
    SplitMix64.finalize(a &+ SplitMix64.golden &* (b &+ 1))
}
