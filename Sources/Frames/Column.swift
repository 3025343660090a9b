import Foundation

/// The type of a dataset column.
public enum ColumnType: String, Codable, Sendable, CaseIterable {
    case int, float, string, category
    /// Microseconds since the Unix epoch (UTC) in `.int` data; see `Datetime`.
    case datetime
}

/// The typed values of one column. Missing cells keep a placeholder (0, NaN, "",
/// code -1) and are flagged in `Column.missing`.
public enum ColumnData: Equatable, Sendable {
    case float([Double])
    case int([Int])
    case string([String])
    /// Dictionary-encoded strings: `levels[codes[i]]`; code -1 means missing.
    case category(codes: [Int32], levels: [String])

    /// Floats compare bit for bit, so NaN placeholders of missing cells compare equal.
    public static func == (a: ColumnData, b: ColumnData) -> Bool {
        switch (a, b) {
        case (.float(let x), .float(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern }
        case (.int(let x), .int(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.category(let c1, let l1), .category(let c2, let l2)): return c1 == c2 && l1 == l2
        default: return false
        }
    }
}

/// One named, typed column. `missing` always has one flag per row.
public struct Column: Equatable, Sendable {
    public var name: String
    public var data: ColumnData
    public var missing: [Bool]
    /// `.int` data holding microseconds since the epoch (UTC): the `datetime` type.
    public var isDatetime = false

    public init(name: String, data: ColumnData, missing: [Bool]? = nil) {
        self.name = name
        self.data = data
        self.missing = missing ?? [Bool](repeating: false, count: Column.count(of: data))
        if case .category(let codes, _) = data, missing == nil {
            self.missing = codes.map { $0 < 0 }
        }
    }

    static func count(of data: ColumnData) -> Int {
        switch data {
        case .float(let v): return v.count
        case .int(let v): return v.count
        case .string(let v): return v.count
        case .category(let c, _): return c.count
        }
    }

    public var count: Int { missing.count }

    public var type: ColumnType {
        switch data {
        case .float: return .float
        case .int: return isDatetime ? .datetime : .int
        case .string: return .string
        case .category: return .category
        }
    }

    public var missingCount: Int { missing.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The cell at `row` as a `DataValue` (`.null` when missing).
    public func value(at row: Int) -> DataValue {
        if missing[row] { return .null }
        switch data {
        case .float(let v): return .double(v[row])
        case .int(let v): return .int(v[row])
        case .string(let v): return .string(v[row])
        case .category(let c, let levels): return .string(levels[Int(c[row])])
        }
    }

    /// Numeric view (ints widened, missing as NaN); nil for string/category columns.
    public var doubles: [Double]? {
        switch data {
        case .float(let v):
            var out = v
            for i in 0..<out.count where missing[i] { out[i] = .nan }
            return out
        case .int(let v):
            var out = [Double](repeating: 0, count: v.count)
            for i in 0..<v.count { out[i] = missing[i] ? .nan : Double(v[i]) }
            return out
        default: return nil
        }
    }

    /// The column restricted to `rows` (in that order). Category levels are kept.
    public func gather(_ rows: [Int]) -> Column { gatherRows(rows) }

    /// `gather` for any index width: joins and sorts pass Int32 rows (half the memory of
    /// their index arrays). A column with no missing cell shares its all-false flags when
    /// the row count is unchanged (sorts, one-to-one joins): any reordering of them is the
    /// same array, so there is nothing to copy.
    func gatherRows<I: FixedWidthInteger>(_ rows: [I]) -> Column {
        let m: [Bool]
        if !missing.contains(true) {
            m = rows.count == count ? missing : [Bool](repeating: false, count: rows.count)
        } else {
            m = rows.map { missing[Int($0)] }
        }
        var c: Column
        switch data {
        case .float(let v): c = Column(name: name, data: .float(rows.map { v[Int($0)] }), missing: m)
        case .int(let v): c = Column(name: name, data: .int(rows.map { v[Int($0)] }), missing: m)
        case .string(let v): c = Column(name: name, data: .string(rows.map { v[Int($0)] }), missing: m)
        case .category(let codes, let l):
            c = Column(name: name, data: .category(codes: rows.map { codes[Int($0)] }, levels: l), missing: m)
        }
        c.isDatetime = isDatetime
        return c
    }

    /// Text values for string and category columns (missing as nil).
    public var strings: [String?]? {
        switch data {
        case .string(let v): return (0..<v.count).map { missing[$0] ? nil : v[$0] }
        case .category(let c, let l): return c.map { $0 < 0 ? nil : l[Int($0)] }
        default: return nil
        }
    }
}
