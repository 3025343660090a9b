import FileIO
import Foundation
import JSON

/// Writing datasets back to files: CSV (RFC 4180) and JSON Lines, through `SafeWrite`
/// (a regular file is replaced atomically, so a crash leaves the old file or the new one).
/// What is written reads back with `readCSV` / `readJSONL` to the same cells:
///
/// - CSV: a header row, then one record per row; a field is quoted (`"..."`, inner quotes
///   doubled) when it holds the delimiter, a quote, CR or LF, or starts or ends with a space;
///   missing cells are empty fields; floats keep a fractional part (`5.0`) so a float
///   column stays float; line ends are LF.
/// - JSON Lines: one object per row, keys in column order, missing cells `null`, floats
///   as their shortest round-trip text (`5.0` stays a float). JSON has no infinity: an
///   infinite cell is an error naming its column and row (NaN is the missing marker and
///   is written as `null`).
///
/// Text that spells a missing value (`""`, `NA`, `null`, ...) reads back as missing, and a
/// text column whose every cell looks like a number reads back as numbers unless the
/// reader is given a schema; everything else round-trips cell for cell.
///
///     try ds.writeCSV(to: "out.csv")
///     try ds.writeJSONL(to: "out.jsonl")
extension Dataset {
    /// Writes the dataset as CSV (header row, `delimiter`-separated, LF line ends).
    public func writeCSV(to path: String, delimiter: Character = ",") throws {
        guard let d = delimiter.asciiValue, d != 0x22, d != 0x0A, d != 0x0D else {
            throw DataError(.badArgument, "delimiter must be one ASCII character other than quote or newline")
        }
        try writeStreaming(to: path) { out in
            for (j, c) in columns.enumerated() {
                if j > 0 { out.append(d) }
                appendCSVField(c.name, delimiter: d, to: &out)
            }
            out.append(0x0A)
        } row: { r, out in
            for (j, c) in columns.enumerated() {
                if j > 0 { out.append(d) }
                guard !c.missing[r] else { continue }
                switch c.data {
                case .float(let v): out.append(contentsOf: csvNumber(v[r]).utf8)
                case .int(let v): out.append(contentsOf: (c.isDatetime ? Datetime.format(v[r]) : String(v[r])).utf8)
                case .string(let v): appendCSVField(v[r], delimiter: d, to: &out)
                case .category(let codes, let levels): appendCSVField(levels[Int(codes[r])], delimiter: d, to: &out)
                }
            }
            out.append(0x0A)
        }
    }

    /// Writes the dataset as JSON Lines: one object per row, keys in column order.
    public func writeJSONL(to path: String) throws {
        // Keys are escaped once, not per row.
        let keys: [[UInt8]] = columns.map { c in var w = JSONWriter(); w.string(c.name); w.byte(UInt8(ascii: ":")); return w.bytes }
        var w = JSONWriter(capacity: 256)
        try writeStreaming(to: path) { _ in } row: { r, out in
            w.bytes.removeAll(keepingCapacity: true)
            w.byte(UInt8(ascii: "{"))
            for (j, c) in columns.enumerated() {
                if j > 0 { w.byte(UInt8(ascii: ",")) }
                w.bytes.append(contentsOf: keys[j])
                if c.missing[r] { w.raw("null"); continue }
                switch c.data {
                case .float(let v):
                    let x = v[r]
                    if x.isNaN { w.raw("null") }
                    else if x.isInfinite {
                        throw DataError(.badArgument, "column '\(c.name)', row \(r): \(x < 0 ? "-" : "")infinity cannot be written as JSON")
                    } else { w.double(x) }
                case .int(let v): if c.isDatetime { w.string(Datetime.format(v[r])) } else { w.int(v[r]) }
                case .string(let v): w.string(v[r])
                case .category(let codes, let levels): w.string(levels[Int(codes[r])])
                }
            }
            w.raw("}\n")
            out.append(contentsOf: w.bytes)
        }
    }

    /// Streams `header` then every row through one buffer, flushed to `SafeWrite` every
    /// megabyte, so writing a large dataset never holds its whole text.
    private func writeStreaming(to path: String, header: (inout [UInt8]) throws -> Void,
                                row: (Int, inout [UInt8]) throws -> Void) throws {
        let flushAt = 1 << 20
        try SafeWrite.write(to: path) { emit in
            var out: [UInt8] = []
            out.reserveCapacity(flushAt + 4096)
            try header(&out)
            for r in 0..<rowCount {
                try row(r, &out)
                if out.count >= flushAt {
                    try out.withUnsafeBytes { try emit($0) }
                    out.removeAll(keepingCapacity: true)
                }
            }
            if !out.isEmpty { try out.withUnsafeBytes { try emit($0) } }
        }
    }
}

/// A float cell as CSV text that reads back as the same double and as a float: integral
/// values keep `.0`, others are Swift's shortest round-trip text (`0.1`, `1e-05`);
/// infinities as `inf`/`-inf` (the reader's spelling), NaN as `NaN` (read back as missing).
func csvNumber(_ x: Double) -> String {
    if x.isNaN { return "NaN" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    return x.description   // "5.0", "0.1", "1e-05", "1e+16": all read back as floats
}

/// Appends one CSV field, quoted by RFC 4180 when it must be: it holds the delimiter, a
/// quote, CR or LF, or starts or ends with a space (which some readers trim).
func appendCSVField(_ s: String, delimiter: UInt8, to out: inout [UInt8]) {
    var s = s
    s.withUTF8 { u in
        let needsQuotes = u.contains { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            || u.first == 0x20 || u.last == 0x20
        guard needsQuotes else { out.append(contentsOf: u); return }
        out.append(0x22)
        for b in u {
            if b == 0x22 { out.append(0x22) }
            out.append(b)
        }
        out.append(0x22)
    }
}

/// The CSV text of one field (`appendCSVField` as a string), for tests and callers that
/// build their own records.
///
///     csvField("a,b")   // "\"a,b\""
public func csvField(_ s: String, delimiter: Character = ",") -> String {
    var out: [UInt8] = []
    appendCSVField(s, delimiter: delimiter.asciiValue ?? 0x2C, to: &out)
    return String(decoding: out, as: UTF8.self)
}
