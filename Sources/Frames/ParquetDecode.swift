import Foundation

/// Parquet's value encodings over one page's bytes. Every read is bounds-checked against
/// the page; a count that would read past it throws (never a trap, never a huge allocation:
/// counts are checked against the bytes they need before arrays are made).
struct ParquetBytes: VarintSource {
    let p: UnsafeRawBufferPointer
    var pos: Int
    let end: Int

    init(_ p: UnsafeRawBufferPointer, start: Int = 0, end: Int? = nil) {
        self.p = p; pos = start; self.end = end ?? p.count
    }

    var left: Int { end - pos }

    func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= left else { throw ThriftError("\(what) needs \(n) bytes, only \(max(left, 0)) left in the page") }
    }

    mutating func byte() throws -> UInt8 {
        try need(1, "a byte")
        defer { pos += 1 }
        return p[pos]
    }

    mutating func le32() throws -> UInt32 {
        try need(4, "a 4-byte value")
        defer { pos += 4 }
        return p.loadUnaligned(fromByteOffset: pos, as: UInt32.self).littleEndian
    }

    /// `count` values of `width` bits, packed LSB first, starting at `pos`; advances past
    /// `advance` bytes (at least the bytes read).
    mutating func unpack(_ count: Int, width: Int, into out: inout [UInt64], advance: Int? = nil) throws {
        guard width >= 0, width <= 64 else { throw ThriftError("bit width \(width) is over 64") }
        let bytes = (count * width + 7) / 8
        try need(bytes, "\(count) bit-packed values")
        if width == 0 {
            out.append(contentsOf: repeatElement(0, count: count))
        } else {
            var bit = pos * 8
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
            out.reserveCapacity(out.count + count)
            var done = 0
            // Fast path: one unaligned 8-byte load per value while 8 bytes remain in the
            // buffer (a value of up to 56 bits plus its 7-bit offset fits in one load).
            if width <= 56 {
                let lastLoad = p.count - 8
                while done < count, bit >> 3 <= lastLoad {
                    let w = p.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self).littleEndian
                    out.append((w >> UInt64(bit & 7)) & mask)
                    bit += width; done += 1
                }
            }
            for _ in done..<count {
                var v: UInt64 = 0, got = 0
                while got < width {
                    let off = bit & 7
                    let take = min(8 - off, width - got)
                    v |= (UInt64(p[bit >> 3]) >> UInt64(off)) << UInt64(got)
                    got += take; bit += take
                }
                out.append(v & mask)
            }
        }
        pos += min(max(bytes, advance ?? 0), left)
    }

    /// The RLE / bit-packed hybrid: `count` values of `width` bits.
    mutating func hybrid(_ count: Int, width: Int) throws -> [UInt64] {
        guard width >= 0, width <= 32 else { throw ThriftError("RLE bit width \(width) is over 32") }
        var out: [UInt64] = []
        out.reserveCapacity(count)
        while out.count < count {
            let header = try varint()
            if header & 1 == 0 {
                let n = Int(clamping: header >> 1)
                guard n > 0 else { throw ThriftError("RLE run of length 0") }
                let w = (width + 7) / 8
                try need(w, "an RLE value")
                var v: UInt64 = 0
                for k in 0..<w { v |= UInt64(p[pos + k]) << UInt64(8 * k) }
                pos += w
                out.append(contentsOf: repeatElement(v, count: min(n, count - out.count)))
            } else {
                let groups = Int(clamping: header >> 1)
                guard groups > 0, groups <= (left / max(width, 1)) + 1 else { throw ThriftError("bit-packed run of \(groups) groups runs past the page") }
                let values = groups * 8
                let take = min(values, count - out.count)
                try unpack(take, width: width, into: &out, advance: groups * width)
            }
        }
        return out
    }

    /// DELTA_BINARY_PACKED: `count` integers.
    mutating func deltaBinaryPacked(_ count: Int) throws -> [Int64] {
        let blockSize = try varint(), miniblocks = try varint(), total = try varint()
        var prev = try zigzag()
        guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0 else {
            throw ThriftError("DELTA_BINARY_PACKED header is invalid (block \(blockSize), miniblocks \(miniblocks))")
        }
        guard total >= UInt64(count) else { throw ThriftError("DELTA_BINARY_PACKED holds \(total) values, the page needs \(count)") }
        let perMini = Int(blockSize / miniblocks)
        var out: [Int64] = []
        out.reserveCapacity(count)
        if count > 0 { out.append(prev) }
        var raw: [UInt64] = []
        // Values past `count` (total may exceed it) are still in the stream: read them to find its end.
        let want = Int(clamping: total)
        var produced = total > 0 ? 1 : 0
        while produced < want {
            let minDelta = try zigzag()
            try need(Int(miniblocks), "miniblock bit widths")
            let widths = (0..<Int(miniblocks)).map { Int(p[pos + $0]) }
            pos += Int(miniblocks)
            for w in widths {
                if produced >= want { break }
                raw.removeAll(keepingCapacity: true)
                try unpack(perMini, width: w, into: &raw)
                for d in raw where produced < want {
                    prev = prev &+ minDelta &+ Int64(bitPattern: d)
                    if out.count < count { out.append(prev) }
                    produced += 1
                }
            }
        }
        return out
    }

    /// Byte-array values: the bytes of all values end to end and where each starts
    /// (`offsets.count == count + 1`).
    struct ByteValues {
        var data: [UInt8] = []
        var offsets: [Int] = [0]
        var count: Int { offsets.count - 1 }
        mutating func append(_ p: UnsafeRawBufferPointer, _ start: Int, _ n: Int) {
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[start..<(start + n)]))
            offsets.append(data.count)
        }
    }

    mutating func plainByteArrays(_ count: Int) throws -> ByteValues {
        try need(count * 4, "\(count) byte-array lengths")
        var out = ByteValues()
        out.offsets.reserveCapacity(count + 1)
        for _ in 0..<count {
            let n = Int(try le32())
            try need(n, "a byte array")
            out.append(p, pos, n)
            pos += n
        }
        return out
    }

    mutating func fixedByteArrays(_ count: Int, width: Int) throws -> ByteValues {
        try need(count * width, "\(count) fixed-length values")
        var out = ByteValues()
        out.offsets.reserveCapacity(count + 1)
        for _ in 0..<count { out.append(p, pos, width); pos += width }
        return out
    }

    mutating func deltaLengthByteArrays(_ count: Int) throws -> ByteValues {
        let lengths = try deltaBinaryPacked(count)
        var out = ByteValues()
        for n in lengths {
            guard n >= 0 else { throw ThriftError("negative byte-array length \(n)") }
            try need(Int(n), "a byte array")
            out.append(p, pos, Int(n))
            pos += Int(n)
        }
        return out
    }

    mutating func deltaByteArrays(_ count: Int) throws -> ByteValues {
        let prefixes = try deltaBinaryPacked(count)
        let suffixes = try deltaLengthByteArrays(count)
        var out = ByteValues()
        var last: [UInt8] = []
        for i in 0..<count {
            let k = Int(prefixes[i])
            guard k >= 0, k <= last.count else { throw ThriftError("DELTA_BYTE_ARRAY prefix \(k) is longer than the previous value (\(last.count))") }
            var v = Array(last[0..<k])
            v.append(contentsOf: suffixes.data[suffixes.offsets[i]..<suffixes.offsets[i + 1]])
            out.data.append(contentsOf: v); out.offsets.append(out.data.count)
            last = v
        }
        return out
    }

    /// BYTE_STREAM_SPLIT: byte k of value i is at `k * stride + i`; returns the values' bytes in order.
    mutating func byteStreamSplit(_ count: Int, width: Int) throws -> [UInt8] {
        guard width > 0 else { throw ThriftError("BYTE_STREAM_SPLIT of zero-width values") }
        let stride = left / width
        guard stride >= count else { throw ThriftError("BYTE_STREAM_SPLIT holds \(stride) values, the page needs \(count)") }
        var out = [UInt8](repeating: 0, count: count * width)
        for i in 0..<count {
            for k in 0..<width { out[i * width + k] = p[pos + k * stride + i] }
        }
        pos += stride * width
        return out
    }
}
