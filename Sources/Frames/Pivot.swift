import Foundation

extension Dataset {
    /// Long to wide: one row per distinct `index` tuple (sorted), one column per distinct
    /// value of `columns` (sorted, named by its text), each cell the aggregation of `values`
    /// over the rows with that index and column value; missing where there are none. Like
    /// `pandas.pivot_table(index=, columns=, values=, aggfunc=)`; rows with a missing index
    /// or column value are left out.
    ///
    ///     let wide = try ds.pivot(index: ["user"], columns: "month", values: "amount", agg: .sum("amount"))
    public func pivot(index: [String], columns: String, values: String, agg: Aggregation) throws -> Dataset {
        guard !index.isEmpty else { throw DataError(.badArgument, "pivot needs at least one index column") }
        guard !index.contains(columns) else { throw DataError(.badArgument, "pivot: '\(columns)' is both an index and the columns column") }
        let long = try groupBy(index + [columns], [("\u{1}value", agg)])
        let idx = try encodeKeys([index.map { long[$0]! }])
        let colCol = long[columns]!
        let colIds = try encodeKeys([[colCol]])
        // Distinct column values in sorted order: the first long row of each id, by rank.
        var firstRow = [Int](repeating: -1, count: colIds.count)
        for (r, id) in colIds.ids[0].enumerated() where firstRow[Int(id)] < 0 { firstRow[Int(id)] = r }
        let ranks = colCol.ranks()
        let order = (0..<colIds.count).sorted { ranks[firstRow[$0]] < ranks[firstRow[$1]] }
        var indexFirst = [Int](repeating: -1, count: idx.count)
        for (r, id) in idx.ids[0].enumerated() where indexFirst[Int(id)] < 0 { indexFirst[Int(id)] = r }
        var out: [Column] = index.map { long[$0]!.gather(indexFirst) }
        let valueCol = long["\u{1}value"]!
        for c in order {
            var rows = [Int](repeating: -1, count: idx.count)
            for r in 0..<long.rowCount where colIds.ids[0][r] == Int32(c) { rows[Int(idx.ids[0][r])] = r }
            var col = valueCol.gather(orNull: rows)
            col.name = colCol.value(at: firstRow[c]).description
            guard !out.contains(where: { $0.name == col.name }) else {
                throw DataError(.badArgument, "pivot: the column value '\(col.name)' clashes with an index column name")
            }
            out.append(col)
        }
        return Dataset(columns: out, lineage: lineage.appending("pivot", "index=\(index.joined(separator: ",")) columns=\(columns) values=\(values) agg=\(agg)"))
    }

    /// Wide to long: for each of `valueVars` (default: every column not in `idVars`) every
    /// row once, with the `idVars` columns, a `varName` column holding the column's name and
    /// a `valueName` column holding its cell (pandas' `melt` order). The value columns must
    /// share a kind (numbers, or text).
    public func melt(idVars: [String], valueVars: [String]? = nil, varName: String = "variable",
                     valueName: String = "value") throws -> Dataset {
        let vars = valueVars ?? columnNames.filter { !idVars.contains($0) }
        guard !vars.isEmpty else { throw DataError(.badArgument, "melt: no value columns") }
        let ids = try idVars.map { try column($0) }
        let vals = try vars.map { try column($0) }
        let repeated = Array(vars.indices.map { _ in Array(0..<rowCount) }.joined())
        var out = ids.map { $0.gather(repeated) }
        out.append(Column(name: varName, data: .category(codes: vars.indices.flatMap { [Int32](repeating: Int32($0), count: rowCount) }, levels: vars)))
        var v = try appendColumns(vals)
        v.name = valueName
        out.append(v)
        let names = out.map(\.name)
        guard Set(names).count == names.count else { throw DataError(.badArgument, "melt: output column names clash: \(names)") }
        return Dataset(columns: out, lineage: lineage.appending("melt", "id=\(idVars.joined(separator: ",")) vars=\(vars.joined(separator: ",")) \(varName) \(valueName)"))
    }
}

/// Splits rows by time: `train` before `valFrom` (or `testFrom`), `val` from `valFrom` up
/// to `testFrom`, `test` from `testFrom` on; each part keeps row order. Rows with a missing
/// time are in no part. `column` must be a datetime column.
///
///     let parts = try splitByTime(ds, "ts", testFrom: "2024-06-01")
public func splitByTime(_ ds: Dataset, _ column: String, testFrom: String, valFrom: String? = nil) throws -> DatasetSplit {
    let c = try ds.column(column)
    guard c.isDatetime, case .int(let t) = c.data else {
        throw DataError(.typeConflict, "split_by_time: column '\(column)' is \(c.type.rawValue), not datetime")
    }
    func instant(_ s: String, _ what: String) throws -> Int {
        guard let v = Datetime.parse(s) else { throw DataError(.badArgument, "split_by_time: \(what) '\(s)' is not an ISO-8601 date or timestamp") }
        return v
    }
    let test = try instant(testFrom, "test_from")
    let val = try valFrom.map { try instant($0, "val_from") } ?? test
    guard val <= test else { throw DataError(.badArgument, "split_by_time: val_from is after test_from") }
    var parts: [[Int]] = [[], [], []]
    for r in 0..<ds.rowCount where !c.missing[r] { parts[t[r] >= test ? 2 : (t[r] >= val ? 1 : 0)].append(r) }
    let params = "\(column) val_from=\(valFrom ?? testFrom) test_from=\(testFrom)"
    func part(_ i: Int, _ name: String) -> Dataset { withLineage(ds.gather(parts[i]), "split_by_time", "part=\(name) " + params) }
    return DatasetSplit(train: part(0, "train"), val: part(1, "val"), test: part(2, "test"))
}
