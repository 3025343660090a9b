import Foundation

/// A table of typed columns with roles (features, label), the source line of every row
/// and its lineage. A value type: transforms return new datasets.
///
///     let ds = try readCSV("Scripts/data/iris.csv", options: CSVOptions(label: "species"))
///     print(ds.rowCount, ds.columnNames, ds.lineage.hash)
public struct Dataset: Equatable, Sendable {
    public var columns: [Column]
    /// Name of the label column, if any. Not part of `featureNames`.
    public var label: String?
    /// Explicit feature columns; nil means "every column except the label".
    public var explicitFeatures: [String]?
    /// 1-based source line (CSV/JSONL) of each row; 0 when the row was built in memory.
    public var sourceLines: [Int]
    public var lineage: Lineage

    public init(columns: [Column], label: String? = nil, features: [String]? = nil,
                sourceLines: [Int]? = nil, lineage: Lineage? = nil) {
        self.columns = columns
        self.label = label
        self.explicitFeatures = features
        let n = columns.first?.count ?? 0
        self.sourceLines = sourceLines ?? [Int](repeating: 0, count: n)
        self.lineage = lineage ?? Lineage(source: "memory", contentHash: Dataset.hashColumns(columns))
    }

    public var rowCount: Int { sourceLines.count }
    public var columnNames: [String] { columns.map(\.name) }
    public var featureNames: [String] {
        explicitFeatures ?? columns.map(\.name).filter { $0 != label }
    }

    public func index(of name: String) -> Int? { columns.firstIndex { $0.name == name } }

    public func column(_ name: String) throws -> Column {
        guard let i = index(of: name) else {
            throw DataError(.unknownColumn, "no column named '\(name)' (have: \(columnNames.joined(separator: ", ")))")
        }
        return columns[i]
    }

    public subscript(name: String) -> Column? { index(of: name).map { columns[$0] } }

    /// A raw record for one row, as `FittedPipeline.apply(toRecord:)` takes it.
    public func record(at row: Int) -> [String: DataValue] {
        var r: [String: DataValue] = [:]
        for c in columns { r[c.name] = c.value(at: row) }
        return r
    }

    /// Keeps `rows` (in that order); lineage is left for the caller to extend.
    public func gather(_ rows: [Int]) -> Dataset {
        var out = self
        out.columns = columns.map { $0.gather(rows) }
        out.sourceLines = rows.map { sourceLines[$0] }
        return out
    }

    /// `gather` that turns `rows` itself into the output's source lines once the columns
    /// are built, so a full-size reorder (sort) holds one index array, not two.
    func gather(moving rows: inout [Int]) -> Dataset {
        var out = self
        out.columns = columns.map { $0.gather(rows) }
        sourceLines.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { r in
                for i in r.indices { r[i] = src[r[i]] }
            }
        }
        out.sourceLines = rows
        rows = []
        return out
    }

    /// Content hash of in-memory columns (used when a dataset has no file source).
    static func hashColumns(_ columns: [Column]) -> String {
        var h = SHA256()
        for c in columns {
            h.update(c.name); h.update(c.type.rawValue)
            switch c.data {
            case .float(let v): v.withUnsafeBytes { h.update(bytes: $0) }
            case .int(let v): v.withUnsafeBytes { h.update(bytes: $0) }
            case .string(let v): for s in v { h.update(s); h.update([0]) }
            case .category(let codes, let levels):
                codes.withUnsafeBytes { h.update(bytes: $0) }
                for s in levels { h.update(s); h.update([0]) }
            }
            c.missing.withUnsafeBytes { h.update(bytes: $0) }
        }
        return h.finalizeHex()
    }
}
