import Foundation

/// Builds one typed column while the reader streams cells to it. Inferred columns
/// start as int, widen to float on the first non-integer number, and ask for a
/// re-read as text on the first non-number (earlier cells' exact text is gone by then).
struct ColumnBuilder {
    enum Kind { case int, float, text, needsText, datetime }
    let name: String
    let declared: ColumnType?
    var kind: Kind
    var ints: [Int] = []
    var doubles: [Double] = []
    var codes: [Int32] = []
    var levels: [String] = []
    var levelIndex: [String: Int32] = [:]
    var missingRows: [Int] = []
    var count = 0

    init(name: String, declared: ColumnType?, forceText: Bool) {
        self.name = name
        self.declared = declared
        switch declared {
        case .int?: kind = .int
        case .float?: kind = .float
        case .string?, .category?: kind = .text
        case .datetime?: kind = .datetime
        case nil: kind = forceText ? .text : .int
        }
    }

    mutating func reserve(_ n: Int) {
        switch kind {
        case .int, .datetime: ints.reserveHuge(n)
        case .float: doubles.reserveHuge(n)
        case .text: codes.reserveCapacity(n)
        case .needsText: break
        }
    }

    mutating func appendMissing() {
        missingRows.append(count)
        count += 1
        switch kind {
        case .int, .datetime: ints.append(0)
        case .float: doubles.append(.nan)
        case .text: codes.append(-1)
        case .needsText: break
        }
    }

    /// Cells the reader already parsed while scanning (the column's own kind).
    @inline(__always) mutating func appendParsed(double v: Double) { doubles.append(v); count += 1 }
    @inline(__always) mutating func appendParsed(int v: Int) { ints.append(v); count += 1 }

    /// Appends one non-missing cell. Throws on a declared-type conflict or bad UTF-8.
    @inline(__always)
    mutating func append(_ p: UnsafePointer<UInt8>, _ n: Int, line: Int) throws {
        switch kind {
        case .int:
            if let v = NumberParsing.parseInt(p, n) { ints.append(v); count += 1; return }
            if let d = NumberParsing.parseDouble(p, n) {
                if declared == .int { throw conflict(p, n, "int", line) }
                doubles = ints.map(Double.init)
                ints = []
                kind = .float
                doubles.append(d); count += 1; return
            }
            try notANumber(p, n, line)
        case .float:
            if let d = NumberParsing.parseDouble(p, n) { doubles.append(d); count += 1; return }
            try notANumber(p, n, line)
        case .text:
            guard let s = String(validating: UnsafeBufferPointer(start: p, count: n), as: UTF8.self) else {
                throw DataError(.invalidUTF8, "invalid UTF-8 bytes", line: line, column: name)
            }
            if let code = levelIndex[s] { codes.append(code) } else {
                let code = Int32(levels.count)
                levels.append(s); levelIndex[s] = code; codes.append(code)
            }
            count += 1
        case .needsText:
            count += 1
        case .datetime:
            guard let v = Datetime.parse(p, n) else { throw conflict(p, n, "datetime (ISO 8601)", line) }
            ints.append(v); count += 1
        }
    }

    private mutating func notANumber(_ p: UnsafePointer<UInt8>, _ n: Int, _ line: Int) throws {
        if let d = declared { throw conflict(p, n, d.rawValue, line) }
        kind = .needsText
        ints = []; doubles = []
        count += 1
    }

    /// Errors carry the line; the reader adds the file name.
    private func conflict(_ p: UnsafePointer<UInt8>, _ n: Int, _ type: String, _ line: Int) -> DataError {
        guard let s = String(validating: UnsafeBufferPointer(start: p, count: n), as: UTF8.self) else {
            return DataError(.invalidUTF8, "invalid UTF-8 bytes", line: line, column: name)
        }
        return DataError(.typeConflict, "value '\(s)' is not of declared type \(type)", line: line, column: name)
    }

    /// The finished column. Inferred text becomes a category when it has few levels.
    func finish(maxCategoryLevels: Int) -> Column {
        var missing = [Bool](repeating: false, count: count)
        for r in missingRows { missing[r] = true }
        switch kind {
        case .int:
            // A column with no values at all reads as float (all NaN).
            if declared == nil, missingRows.count == count, count > 0 {
                return Column(name: name, data: .float([Double](repeating: .nan, count: count)), missing: missing)
            }
            return Column(name: name, data: .int(ints), missing: missing)
        case .float:
            return Column(name: name, data: .float(doubles), missing: missing)
        case .datetime:
            return Column.datetime(name: name, micros: ints, missing: missing)
        case .text, .needsText:
            // Inferred text whose every distinct value is an ISO date or timestamp.
            if declared == nil, kind == .text, Datetime.allParse(levels) {
                let micros = levels.map { Datetime.parse($0)! }
                return Column.datetime(name: name, micros: codes.map { $0 < 0 ? 0 : micros[Int($0)] }, missing: missing)
            }
            let nonMissing = count - missingRows.count
            let asCategory = declared == .category
                || (declared == nil && levels.count <= maxCategoryLevels && levels.count * 2 <= nonMissing)
            if asCategory { return Column(name: name, data: .category(codes: codes, levels: levels), missing: missing) }
            return Column(name: name, data: .string(codes.map { $0 < 0 ? "" : levels[Int($0)] }), missing: missing)
        }
    }
}
