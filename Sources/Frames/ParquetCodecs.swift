import CCodecs
import Foundation

/// Parquet page compression through the system's libzstd, libsnappy and zlib.
/// Decompression is told the page's uncompressed size (from its header, already bounded
/// by the caller) and fails unless exactly that many bytes come out.
enum ParquetCodec: Int {
    case uncompressed = 0, snappy = 1, gzip = 2, zstd = 6

    static func named(_ s: String) -> ParquetCodec? {
        switch s.lowercased() {
        case "none", "uncompressed": return .uncompressed
        case "snappy": return .snappy
        case "gzip": return .gzip
        case "zstd": return .zstd
        default: return nil
        }
    }

    static func name(of code: Int) -> String {
        switch code {
        case 0: return "UNCOMPRESSED"
        case 1: return "SNAPPY"
        case 2: return "GZIP"
        case 3: return "LZO"
        case 4: return "BROTLI"
        case 5: return "LZ4"
        case 6: return "ZSTD"
        case 7: return "LZ4_RAW"
        default: return "codec \(code)"
        }
    }

    /// `src` decompressed to exactly `size` bytes.
    func decompress(_ src: UnsafeRawBufferPointer, size: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        let ok: Bool = out.withUnsafeMutableBytes { dst in
            let d = dst.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!
            let s = src.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
            switch self {
            case .uncompressed:
                guard src.count == size else { return false }
                if size > 0 { d.copyMemory(from: s, byteCount: size) }
                return true
            case .zstd:
                let r = ZSTD_decompress(d, size, s, src.count)
                return ZSTD_isError(r) == 0 && r == size
            case .snappy:
                var n = 0
                guard snappy_uncompressed_length(s.assumingMemoryBound(to: CChar.self), src.count, &n) == SNAPPY_OK,
                      n == size else { return false }
                return snappy_uncompress(s.assumingMemoryBound(to: CChar.self), src.count,
                                         d.assumingMemoryBound(to: CChar.self), &n) == SNAPPY_OK && n == size
            case .gzip:
                return ParquetCodec.gunzip(s, src.count, d, size)
            }
        }
        guard ok else { throw ThriftError("\(ParquetCodec.name(of: rawValue)) data does not decompress to the \(size) bytes the page header says") }
        return out
    }

    private static func gunzip(_ s: UnsafeRawPointer, _ n: Int, _ d: UnsafeMutableRawPointer, _ size: Int) -> Bool {
        var z = z_stream()
        guard inflateInit2_(&z, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return false }
        defer { inflateEnd(&z) }
        z.next_in = UnsafeMutablePointer(mutating: s.assumingMemoryBound(to: Bytef.self))
        z.avail_in = uInt(n)
        z.next_out = d.assumingMemoryBound(to: Bytef.self)
        z.avail_out = uInt(size)
        guard n <= Int(UInt32.max), size <= Int(UInt32.max) else { return false }
        let r = inflate(&z, Z_FINISH)
        return r == Z_STREAM_END && Int(z.total_out) == size
    }

    func compress(_ src: [UInt8]) throws -> [UInt8] {
        switch self {
        case .uncompressed: return src
        case .zstd:
            let cap = ZSTD_compressBound(src.count)
            var out = [UInt8](repeating: 0, count: cap)
            let r = out.withUnsafeMutableBytes { d in src.withUnsafeBytes { s in ZSTD_compress(d.baseAddress, cap, s.baseAddress, s.count, 3) } }
            guard ZSTD_isError(r) == 0 else { throw ThriftError("zstd compression failed") }
            out.removeSubrange(r...)
            return out
        case .snappy:
            var n = snappy_max_compressed_length(src.count)
            var out = [UInt8](repeating: 0, count: n)
            let r = out.withUnsafeMutableBytes { d in
                (src.isEmpty ? [0] : src).withUnsafeBytes { s in
                    snappy_compress(s.baseAddress!.assumingMemoryBound(to: CChar.self), src.count,
                                    d.baseAddress!.assumingMemoryBound(to: CChar.self), &n)
                }
            }
            guard r == SNAPPY_OK else { throw ThriftError("snappy compression failed") }
            out.removeSubrange(n...)
            return out
        case .gzip:
            var z = z_stream()
            guard deflateInit2_(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw ThriftError("gzip setup failed")
            }
            defer { deflateEnd(&z) }
            let cap = Int(deflateBound(&z, uLong(src.count))) + 32
            var out = [UInt8](repeating: 0, count: cap)
            var src = src
            let r: Int32 = src.withUnsafeMutableBytes { s in
                out.withUnsafeMutableBytes { d in
                    z.next_in = s.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    z.avail_in = uInt(s.count)
                    z.next_out = d.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    z.avail_out = uInt(cap)
                    return deflate(&z, Z_FINISH)
                }
            }
            guard r == Z_STREAM_END else { throw ThriftError("gzip compression failed") }
            out.removeSubrange(Int(z.total_out)...)
            return out
        }
    }
}
