import Foundation

/// Row-group skipping for `readParquet(..., filter:)`: a row group is skipped when its
/// column-chunk statistics prove that no row can pass a simple comparison of a column with
/// a literal (`col("x") > 5`, `5 <= col("x")`, `col("ts") >= "2024-06-01"`), or an
/// `and` / `or` of such. Anything else keeps the group (the filter still runs on the rows).
///
/// What is decided from statistics, and why the rest is not:
/// - ints, floats, dates and timestamps: `==`, `<`, `<=`, `>`, `>=` against min/max;
/// - strings: `<` and `>` only, in UTF-8 byte order (as the filter orders text; its `==`
///   is Unicode-canonical equality, which byte bounds cannot decide);
/// - a group whose every value is null matches no comparison but `!=` (nulls pass `!=`,
///   as in pandas), so `!=` never skips; decimals and booleans never skip.
enum ParquetPushdown {
    /// False only when the row group's statistics prove `expr` false for every row.
    static func mayMatch(_ expr: ColumnExpr, _ group: ParquetRowGroup, _ leaves: [ParquetLeaf]) -> Bool {
        switch expr {
        case .binary("and", let a, let b): return mayMatch(a, group, leaves) && mayMatch(b, group, leaves)
        case .binary("or", let a, let b): return mayMatch(a, group, leaves) || mayMatch(b, group, leaves)
        case .binary(let op, .column(let n), .literal(let v)): return check(op, n, v, group, leaves)
        case .binary(let op, .literal(let v), .column(let n)):
            let flipped = ["<": ">", "<=": ">=", ">": "<", ">=": "<="][op] ?? op
            return check(flipped, n, v, group, leaves)
        default: return true
        }
    }

    private static func check(_ op: String, _ name: String, _ literal: DataValue,
                              _ group: ParquetRowGroup, _ leaves: [ParquetLeaf]) -> Bool {
        guard ["==", "<", "<=", ">", ">="].contains(op),
              let j = leaves.firstIndex(where: { $0.name == name }) else { return true }
        let leaf = leaves[j], stats = group.chunks[j].stats
        if literal == .null { return true }
        if let nulls = stats.nullCount, nulls >= group.numRows, group.numRows > 0 { return false }
        guard let lo = stats.min, let hi = stats.max,
              let bounds = decode(lo, hi, leaf) else { return true }
        switch (bounds, literal) {
        case (.ints(let a, let b, datetime: false), .int(let x)): return test(op, a, b, x)
        case (.ints(let a, let b, datetime: false), .double(let x)): return test(op, Double(a), Double(b), x)
        case (.doubles(let a, let b), .int(let x)): return test(op, a, b, Double(x))
        case (.doubles(let a, let b), .double(let x)): return test(op, a, b, x)
        case (.ints(let a, let b, datetime: true), .string(let s)):
            guard let x = Datetime.parse(s) else { return true }
            return test(op, a, b, x)
        case (.bytes(let a, let b), .string(let s)):
            let x = Array(s.utf8)
            switch op {
            case "<": return a.lexicographicallyPrecedes(x)       // some value below x
            case ">": return x.lexicographicallyPrecedes(b)
            default: return true
            }
        default: return true
        }
    }

    /// Whether some value in [lo, hi] can satisfy `value op x`.
    private static func test<T: Comparable>(_ op: String, _ lo: T, _ hi: T, _ x: T) -> Bool {
        switch op {
        case "==": return lo <= x && x <= hi
        case "<": return lo < x
        case "<=": return lo <= x
        case ">": return hi > x
        default: return hi >= x
        }
    }

    enum Bounds {
        case ints(Int, Int, datetime: Bool)
        case doubles(Double, Double)
        case bytes([UInt8], [UInt8])
    }

    /// Min and max in the reader's units (dates and timestamps as microseconds); nil
    /// when the type is not decided here or the bytes do not fit it.
    static func decode(_ lo: [UInt8], _ hi: [UInt8], _ leaf: ParquetLeaf) -> Bounds? {
        func le(_ b: [UInt8], _ n: Int) -> UInt64? {
            guard b.count == n else { return nil }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(b[k]) << UInt64(8 * k) }
            return v
        }
        func int(_ b: [UInt8]) -> Int? {
            switch leaf.physical {
            case .int32: return le(b, 4).map { Int(Int32(truncatingIfNeeded: $0)) }
            case .int64: return le(b, 8).map { Int(Int64(bitPattern: $0)) }
            default: return nil
            }
        }
        switch (leaf.physical, leaf.logical) {
        case (.int32, .none), (.int64, .none):
            guard let a = int(lo), let b = int(hi) else { return nil }
            return .ints(a, b, datetime: false)
        case (.int32, .date), (.int64, .date):
            guard let a = int(lo), let b = int(hi) else { return nil }
            let (x, o1) = a.multipliedReportingOverflow(by: Int(Datetime.microsPerDay))
            let (y, o2) = b.multipliedReportingOverflow(by: Int(Datetime.microsPerDay))
            return o1 || o2 ? nil : .ints(x, y, datetime: true)
        case (.int64, .timestamp(let perSecond)):
            guard let a = int(lo), let b = int(hi) else { return nil }
            switch perSecond {
            case 1_000:
                let (x, o1) = a.multipliedReportingOverflow(by: 1000), (y, o2) = b.multipliedReportingOverflow(by: 1000)
                return o1 || o2 ? nil : .ints(x, y, datetime: true)
            case 1_000_000: return .ints(a, b, datetime: true)
            default:   // nanos, floored to micros as the reader does (monotone, so bounds stay bounds)
                return .ints(a >= 0 ? a / 1000 : (a - 999) / 1000, b >= 0 ? b / 1000 : (b - 999) / 1000, datetime: true)
            }
        case (.float, .none):
            guard let a = le(lo, 4), let b = le(hi, 4) else { return nil }
            let x = Double(Float(bitPattern: UInt32(a))), y = Double(Float(bitPattern: UInt32(b)))
            return x.isNaN || y.isNaN ? nil : .doubles(x, y)
        case (.double, .none):
            guard let a = le(lo, 8), let b = le(hi, 8) else { return nil }
            let x = Double(bitPattern: a), y = Double(bitPattern: b)
            return x.isNaN || y.isNaN ? nil : .doubles(x, y)
        case (.byteArray, .string), (.byteArray, .none):
            return .bytes(lo, hi)
        default:
            return nil
        }
    }
}

/// What a Parquet read kept and skipped (for tests and reports).
public final class ParquetScanStats: @unchecked Sendable {
    /// Row groups in the files read.
    public var rowGroups = 0
    /// Row groups skipped because their statistics ruled out the filter.
    public var skippedByFilter = 0
    /// Row groups left to other shards.
    public var otherShards = 0
    public init() {}
}
