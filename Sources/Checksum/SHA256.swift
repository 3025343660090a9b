import CChecksum
import Foundation

/// A small SHA-256 (FIPS 180-4), because Foundation on Linux has no CryptoKit. The one
/// implementation used for lineage hashes, stage-cache keys and content-addressed artifacts.
/// Streaming: feed bytes with `update`, then `finalizeHex()`.
///
///     var h = SHA256(); h.update("abc"); h.finalizeHex()  // "ba7816bf..."
public struct SHA256: Sendable {
    // Eight state words as plain stored values (no array checks in the block loop).
    private var h0: UInt32 = 0x6a09e667, h1: UInt32 = 0xbb67ae85, h2: UInt32 = 0x3c6ef372, h3: UInt32 = 0xa54ff53a
    private var h4: UInt32 = 0x510e527f, h5: UInt32 = 0x9b05688c, h6: UInt32 = 0x1f83d9ab, h7: UInt32 = 0x5be0cd19
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0
    /// Whole blocks go to the SHA-NI instructions when the CPU has them (about 4x faster).
    private var accelerated = SHA256.hardwareAvailable

    /// True when this CPU's SHA extensions are used.
    public static let hardwareAvailable = csha256_accelerated() != 0

    public init() {}

    /// `portable: true` uses the Swift rounds even where SHA-NI exists (tests compare both).
    public init(portable: Bool) { accelerated = !portable && SHA256.hardwareAvailable }

    public mutating func update(_ string: String) { update(Array(string.utf8)) }
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update(bytes: $0) } }
    public mutating func update(_ data: Data) { data.withUnsafeBytes { update(bytes: $0) } }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { update(bytes: bytes) }

    public mutating func update(bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var i = 0
        // Top up a partial block first, then hash whole blocks straight from the input.
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, bytes.count)
            buffer.append(contentsOf: bytes[0..<take]); i = take
            if buffer.count == 64 { buffer.withUnsafeBytes { compressBlocks($0.baseAddress!, 1) }; buffer.removeAll(keepingCapacity: true) }
        }
        let whole = (bytes.count - i) / 64
        if whole > 0 { compressBlocks(bytes.baseAddress! + i, whole); i += whole * 64 }
        if i < bytes.count { buffer.append(contentsOf: bytes[i...]) }
    }

    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var pad: [UInt8] = [0x80]
        let rem = (buffer.count + 1) % 64
        pad += [UInt8](repeating: 0, count: rem <= 56 ? 56 - rem : 120 - rem)
        for s in stride(from: 56, through: 0, by: -8) { pad.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(s))) }
        let saved = length
        update(pad)
        length = saved
        var out: [UInt8] = []
        for w in [h0, h1, h2, h3, h4, h5, h6, h7] { out += [UInt8(w >> 24), UInt8(truncatingIfNeeded: w >> 16), UInt8(truncatingIfNeeded: w >> 8), UInt8(truncatingIfNeeded: w)] }
        return out
    }

    public mutating func finalizeHex() -> String {
        finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// One-shot helper.
    public static func hex(_ string: String) -> String { var h = SHA256(); h.update(string); return h.finalizeHex() }

    /// Hex digest of `data` in one call: `SHA256.hex(Data())` is `e3b0c442…`.
    public static func hex(_ data: Data) -> String { var h = SHA256(); h.update(data); return h.finalizeHex() }

    /// Hash of the file at `path` (see `hex(fileAt:)`).
    public static func hexOfFile(_ path: String) throws -> String {
        try hex(fileAt: URL(fileURLWithPath: path))
    }

    /// Hash of a file's bytes, read into one reused 1 MB buffer (never held whole).
    public static func hex(fileAt url: URL) throws -> String {
        let fd = open(url.path, O_RDONLY)
        if fd < 0 { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: url.path]) }
        defer { close(fd) }
        let size = 1 << 20
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buf.deallocate() }
        var h = SHA256()
        while true {
            let n = read(fd, buf, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: url.path])
            }
            if n == 0 { break }
            h.update(bytes: UnsafeRawBufferPointer(start: buf, count: n))
        }
        return h.finalizeHex()
    }

    private mutating func compressBlocks(_ p: UnsafeRawPointer, _ count: Int) {
        guard accelerated else {
            for b in 0..<count { compress(p + b * 64) }
            return
        }
        var s = (h0, h1, h2, h3, h4, h5, h6, h7)
        withUnsafeMutableBytes(of: &s) {
            csha256_blocks($0.baseAddress!.assumingMemoryBound(to: UInt32.self), p.assumingMemoryBound(to: UInt8.self), count)
        }
        (h0, h1, h2, h3, h4, h5, h6, h7) = s
    }

    private mutating func compress(_ p: UnsafeRawPointer) {
        // Message schedule on the stack: no allocation per 64-byte block.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { wb in
            let w = wb.baseAddress!
            for t in 0..<16 {
                w[t] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self))
            }
            for t in 16..<64 {
                let x = w[t - 15], y = w[t - 2]
                let s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3)
                let s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
            withUnsafeBytes(of: csha256_round_constants) { kb in
                let k = kb.baseAddress!.assumingMemoryBound(to: UInt32.self)
                for t in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[t] &+ w[t]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ s0 &+ maj
                }
            }
            h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d; h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
        }
    }
}

@inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 &- n)) }
