import Foundation
import JSON

/// Reads JSON Lines: one JSON object per line; keys become columns (in order of first
/// appearance), absent keys and nulls are missing. Blank lines are skipped.
///
///     let ds = try readJSONL("events.jsonl", label: "y")
///
/// Errors name the file and line (bad JSON, a line that is not an object, bad UTF-8).
public func readJSONL(_ path: String, label: String? = nil, features: [String]? = nil,
                      maxCategoryLevels: Int = 32) throws -> Dataset {
    // Regular files only (InputFile: a device or FIFO is refused by name), and the whole
    // file is read, so at most a quarter of physical memory.
    let data = try InputFile.readAll(path, maxBytes: maxJSONLFileBytes)
    if data.isEmpty { throw DataError(.emptyFile, "file is empty", file: path) }
    var names: [String] = []
    var cells: [String: [DataValue]] = [:]
    var lines: [Int] = []
    var lineNo = 0
    for raw in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
        lineNo += 1
        var bytes = raw
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw DataError(.invalidUTF8, "invalid UTF-8 bytes", file: path, line: lineNo)
        }
        let object: JSONValue
        do { object = try bytes.withUnsafeBytes { try JSONParser.parse($0) } }
        catch let e as JSONError { throw DataError(.badJSON, "invalid JSON at column \(e.column): \(e.message)", file: path, line: lineNo) }
        guard case .object(let fields) = object else {
            throw DataError(.badJSON, "line is not a JSON object", file: path, line: lineNo)
        }
        var dict: [String: DataValue] = [:]
        for (k, v) in fields { dict[k] = DataValue(json: v) }
        let row = lines.count
        for key in dict.keys.sorted() where cells[key] == nil {
            names.append(key)
            cells[key] = [DataValue](repeating: .null, count: row)
        }
        for key in names { cells[key]!.append(dict[key] ?? .null) }
        lines.append(lineNo)
    }
    if lines.isEmpty { throw DataError(.emptyFile, "file has no records", file: path) }
    let columns = names.map { inferColumn(from: cells[$0]!, name: $0, maxCategoryLevels: maxCategoryLevels) }
    var h = SHA256()
    data.withUnsafeBytes { h.update(bytes: $0) }
    for role in [label].compactMap({ $0 }) + (features ?? []) where !names.contains(role) {
        throw DataError(.unknownColumn, "no column named '\(role)'", file: path)
    }
    return Dataset(columns: columns, label: label, features: features, sourceLines: lines,
                   lineage: Lineage(source: "read_jsonl", contentHash: h.finalizeHex(), params: "max_levels=\(maxCategoryLevels)"))
}

/// Largest file `readJSONL` reads: a quarter of physical memory (it holds the file, and
/// the cells it becomes, at once).
public let maxJSONLFileBytes = physicalMemoryBytes / 4

extension DataValue {
    /// A JSON value as a cell: numbers, strings and booleans as they are, null as missing,
    /// lists and objects as their compact JSON text.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array, .object: self = .string(json.text())
        }
    }
}

/// Builds a typed column from loose values: all ints (or bools) -> int, numbers -> float,
/// anything textual -> string or category (few distinct values).
public func inferColumn(from values: [DataValue], name: String, maxCategoryLevels: Int = 32) -> Column {
    let missing = values.map(\.isNull)
    var sawDouble = false, sawText = false
    for v in values {
        switch v {
        case .double: sawDouble = true
        case .string: sawText = true
        default: break
        }
    }
    if !sawText {
        if sawDouble || values.allSatisfy(\.isNull) {
            return Column(name: name, data: .float(values.map { $0.number ?? .nan }), missing: missing)
        }
        return Column(name: name, data: .int(values.map { $0.number.map { Int($0) } ?? 0 }), missing: missing)
    }
    var levels: [String] = [], index: [String: Int32] = [:]
    let codes: [Int32] = values.map { v in
        if v.isNull { return -1 }
        let s = v.description
        if let c = index[s] { return c }
        let c = Int32(levels.count); levels.append(s); index[s] = c; return c
    }
    // Strings that are all ISO dates or timestamps make a datetime column.
    if values.allSatisfy({ if case .string = $0 { return true }; return $0.isNull }), Datetime.allParse(levels) {
        let micros = levels.map { Datetime.parse($0)! }
        return Column.datetime(name: name, micros: codes.map { $0 < 0 ? 0 : micros[Int($0)] }, missing: missing)
    }
    let nonMissing = missing.filter { !$0 }.count
    if levels.count <= maxCategoryLevels && levels.count * 2 <= nonMissing {
        return Column(name: name, data: .category(codes: codes, levels: levels), missing: missing)
    }
    return Column(name: name, data: .string(codes.map { $0 < 0 ? "" : levels[Int($0)] }), missing: missing)
}

extension Dataset {
    /// "Tensors in": a dataset from a row-major float matrix (`rows` x `cols`) and
    /// optional labels. Columns are named `names` or f0, f1, ...; the label column "label".
    ///
    ///     let ds = try Dataset(features: x, rows: 100, cols: 4, labels: y)
    public init(features: [Float], rows: Int, cols: Int, labels: [Float]? = nil,
                names: [String]? = nil, labelName: String = "label") throws {
        guard features.count == rows * cols else {
            throw DataError(.badArgument, "features has \(features.count) values, expected rows*cols = \(rows * cols)")
        }
        if let labels, labels.count != rows {
            throw DataError(.badArgument, "labels has \(labels.count) values, expected \(rows)")
        }
        let names = names ?? (0..<cols).map { "f\($0)" }
        guard names.count == cols else { throw DataError(.badArgument, "names has \(names.count) entries, expected \(cols)") }
        var columns: [Column] = []
        for j in 0..<cols {
            var v = [Double](repeating: 0, count: rows)
            for i in 0..<rows { v[i] = Double(features[i * cols + j]) }
            columns.append(Column(name: names[j], data: .float(v), missing: v.map(\.isNaN)))
        }
        if let labels {
            // Integral labels (class ids) stay ints so stratified splits and encoders see classes.
            if labels.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e9 }) {
                columns.append(Column(name: labelName, data: .int(labels.map { Int($0) })))
            } else {
                columns.append(Column(name: labelName, data: .float(labels.map(Double.init))))
            }
        }
        self.init(columns: columns, label: labels == nil ? nil : labelName, features: names)
        self.lineage = Lineage(source: "from_matrix", contentHash: Dataset.hashColumns(columns),
                               params: "rows=\(rows) cols=\(cols)")
    }
}
