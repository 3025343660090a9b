#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level number parsing for the CSV reader. The fast path handles the common
/// case exactly (Clinger: at most 15..19 significant digits and a power of ten that is
/// itself exact in a Double, so one multiply or divide is correctly rounded); anything
/// else (long mantissas, big exponents) falls back to `strtod`, which rounds correctly.
enum NumberParsing {
    private static let pow10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// Trims ASCII spaces and tabs at both ends.
    @inline(__always)
    static func trim(_ p: UnsafePointer<UInt8>, _ n: Int) -> (UnsafePointer<UInt8>, Int) {
        var s = 0, e = n
        while s < e, isSpace(p[s]) { s += 1 }
        while e > s, isSpace(p[e - 1]) { e -= 1 }
        return (p + s, e - s)
    }

    /// A decimal integer with optional sign; nil when not an integer or on overflow.
    @inline(__always)
    static func parseInt(_ p0: UnsafePointer<UInt8>, _ n0: Int) -> Int? {
        let (p, n) = trim(p0, n0)
        if n == 0 { return nil }
        var i = 0
        var negative = false
        if p[0] == 0x2D { negative = true; i = 1 } else if p[0] == 0x2B { i = 1 }
        if i == n || n - i > 19 { return nil }
        var v: UInt64 = 0
        while i < n {
            let d = p[i] &- 0x30
            if d > 9 { return nil }
            v = v &* 10 &+ UInt64(d)
            i += 1
        }
        // 19 digits fit in UInt64; reject what does not fit in Int.
        if negative { return v <= UInt64(Int.max) + 1 ? Int(truncatingIfNeeded: 0 &- v) : nil }
        return v <= UInt64(Int.max) ? Int(v) : nil
    }

    /// A decimal floating-point number (also "inf", "infinity", "nan", any case).
    @inline(__always)
    static func parseDouble(_ p0: UnsafePointer<UInt8>, _ n0: Int) -> Double? {
        var p = p0, n = n0
        // Trim only when needed: cells almost never have spaces around numbers.
        if n > 0 && (isSpace(p[0]) || isSpace(p[n - 1])) { (p, n) = trim(p0, n0) }
        if n == 0 { return nil }
        var i = 0
        var negative = false
        if p[0] == 0x2D { negative = true; i = 1 } else if p[0] == 0x2B { i = 1 }
        // Accumulate every digit; more than 19 digits (leading zeros included) takes the
        // exact slow path, so the fast path never loses a digit.
        var mantissa: UInt64 = 0
        let intStart = i
        while i < n {
            let d = p[i] &- 0x30
            if d > 9 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        var digits = i - intStart
        var exp10 = 0
        if i < n, p[i] == 0x2E {
            i += 1
            let fracStart = i
            while i < n {
                let d = p[i] &- 0x30
                if d > 9 { break }
                mantissa = mantissa &* 10 &+ UInt64(d)
                i += 1
            }
            exp10 = fracStart - i
            digits += i - fracStart
        }
        if digits == 0 { return special(p, n) }
        if i < n, p[i] | 0x20 == 0x65 {  // 'e' or 'E'
            i += 1
            var eneg = false
            if i < n, p[i] == 0x2D { eneg = true; i += 1 } else if i < n, p[i] == 0x2B { i += 1 }
            var e = 0
            let expStart = i
            while i < n {
                let d = p[i] &- 0x30
                if d > 9 { break }
                if e < 100_000 { e = e * 10 + Int(d) }
                i += 1
            }
            if i == expStart { return nil }
            exp10 += eneg ? -e : e
        }
        if i != n { return nil }
        if digits <= 19 {
            if mantissa == 0 { return negative ? -0.0 : 0.0 }
            // Clinger's fast path: both the mantissa and 10^|e| are exact doubles, so one
            // IEEE multiply or divide gives the correctly rounded result.
            if mantissa <= (1 << 53) && exp10 >= -22 && exp10 <= 22 {
                var v = Double(mantissa)
                v = exp10 < 0 ? v / pow10[-exp10] : v * pow10[exp10]
                return negative ? -v : v
            }
        }
        return slow(p, n)
    }

    /// Reads a simple decimal number at the start of `p[0..<limit]` and returns it with
    /// its length, stopping at the first byte that cannot continue it. Nil when the text
    /// does not start with a number or needs the exact slow path (the caller then uses
    /// `parseDouble` on the whole cell). Must agree with `parseDouble` (tested).
    @inline(__always)
    static func scanDouble(_ p: UnsafePointer<UInt8>, _ limit: Int) -> (Double, Int)? {
        // Cells like "-126.5421" dominate numeric CSVs: read each digit run as one 8-byte
        // word (no per-digit branch to mispredict at the run's end). Runs of 8 or more
        // digits and cells near the buffer's end take the byte loop; both give the same
        // answer (tested).
        var i = 0
        var negative = false
        if limit > 0 && p[0] == 0x2D { negative = true; i = 1 }
        guard i + 8 <= limit else { return scanDoubleBytewise(p, limit) }
        let (intPart, intDigits) = eightDigits(p + i)
        if intDigits == 8 { return scanDoubleBytewise(p, limit) }
        i += intDigits
        var mantissa = intPart, digits = intDigits, exp10 = 0
        if p[i] == 0x2E {
            i += 1
            guard i + 8 <= limit else { return scanDoubleBytewise(p, limit) }
            let (frac, fracDigits) = eightDigits(p + i)
            if fracDigits == 8 { return scanDoubleBytewise(p, limit) }
            mantissa = mantissa &* pow10Int[fracDigits] &+ frac
            digits += fracDigits
            exp10 = -fracDigits
            i += fracDigits
        }
        if digits == 0 || p[i] | 0x20 == 0x65 { return nil }
        if mantissa == 0 { return (negative ? -0.0 : 0.0, i) }
        var v = Double(mantissa)
        if exp10 < 0 { v /= pow10[-exp10] }
        return (negative ? -v : v, i)
    }

    private static let pow10Int: [UInt64] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]

    /// The leading ASCII digits of the 8 bytes at `p` (0...8 of them) and their value.
    @inline(__always)
    static func eightDigits(_ p: UnsafePointer<UInt8>) -> (UInt64, Int) {
        let word = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        let x = word ^ 0x3030_3030_3030_3030   // digits become bytes 0...9
        // A byte is flagged when it is not 0...9; carries only move upward, so the lowest
        // flagged byte is exact (the first non-digit).
        let flags = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
        let n = flags == 0 ? 8 : flags.trailingZeroBitCount >> 3
        if n == 0 { return (0, 0) }
        // Drop the bytes after the digits and put the first digit in the top byte
        // position of an 8-digit number with leading zeros, then combine pairs, quads, halves.
        var v = x << UInt64((8 - n) * 8)
        v = (v &* 10 &+ (v >> 8)) & 0x00FF_00FF_00FF_00FF
        v = (v &* 100 &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF
        v = (v &* 10_000 &+ (v >> 32)) & 0x0000_0000_FFFF_FFFF
        return (v, n)
    }

    /// The byte-at-a-time form of `scanDouble`.
    @inline(__always)
    static func scanDoubleBytewise(_ p: UnsafePointer<UInt8>, _ limit: Int) -> (Double, Int)? {
        var i = 0
        var negative = false
        if limit > 0 && p[0] == 0x2D { negative = true; i = 1 }
        var mantissa: UInt64 = 0
        let intStart = i
        while i < limit {
            let d = p[i] &- 0x30
            if d > 9 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        var digits = i - intStart
        var exp10 = 0
        if i < limit, p[i] == 0x2E {
            i += 1
            let fracStart = i
            while i < limit {
                let d = p[i] &- 0x30
                if d > 9 { break }
                mantissa = mantissa &* 10 &+ UInt64(d)
                i += 1
            }
            exp10 = fracStart - i
            digits += i - fracStart
        }
        // Exponents, long mantissas and signs other than '-' take the general path.
        if digits == 0 || digits > 19 || mantissa > (1 << 53) { return nil }
        if i < limit, p[i] | 0x20 == 0x65 { return nil }
        if mantissa == 0 { return (negative ? -0.0 : 0.0, i) }
        if exp10 < -22 { return nil }
        var v = Double(mantissa)
        if exp10 < 0 { v /= pow10[-exp10] }
        return (negative ? -v : v, i)
    }

    /// Like `scanDouble` for integers: optional '-', 1...18 digits (no overflow possible).
    @inline(__always)
    static func scanInt(_ p: UnsafePointer<UInt8>, _ limit: Int) -> (Int, Int)? {
        var i = 0
        var negative = false
        if limit > 0 && p[0] == 0x2D { negative = true; i = 1 }
        var v = 0
        let start = i
        while i < limit {
            let d = p[i] &- 0x30
            if d > 9 { break }
            v = v &* 10 &+ Int(d)
            i += 1
        }
        let digits = i - start
        if digits == 0 || digits > 18 { return nil }
        return (negative ? -v : v, i)
    }

    /// Hard cases: let the C library round them correctly.
    private static func slow(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
        var buf = [CChar](repeating: 0, count: n + 1)
        for k in 0..<n { buf[k] = CChar(bitPattern: p[k]) }
        return buf.withUnsafeMutableBufferPointer { b -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(b.baseAddress!, &end)
            return end == b.baseAddress! + n ? v : nil
        }
    }

    private static func special(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
        var s = ""
        for k in 0..<n { s.unicodeScalars.append(Unicode.Scalar(p[k] | (p[k] >= 0x41 && p[k] <= 0x5A ? 0x20 : 0))) }
        switch s {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: return nil
        }
    }

    /// Convenience for tests and for JSON strings.
    static func parseDouble(_ s: String) -> Double? {
        var s = s
        return s.withUTF8 { b in b.count == 0 ? nil : parseDouble(b.baseAddress!, b.count) }
    }
}
