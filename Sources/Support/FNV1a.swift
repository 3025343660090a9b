/// FNV-1a, 64-bit: a fast non-cryptographic hash for checksums of model files and for
/// sticky canary buckets. SHA-256 (the Checksum target) is for content addresses.
///
///     FNV1a.hash(Array("abc".utf8))
public enum FNV1a {
    public static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x100_0000_01b3

    public static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h = offset
        for b in bytes { h = (h ^ UInt64(b)) &* prime }
        return h
    }
}
