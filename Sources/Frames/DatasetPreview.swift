import Foundation

extension Dataset: CustomStringConvertible {
    /// A short preview for the REPL: shape, column types and the first rows.
    ///
    ///     print(ds)   // "Dataset 150 rows x 5 columns (label: species)" + a table of 5 rows
    public var description: String { preview(rows: 5) }

    /// Shape, types and the first `rows` rows as a fixed-width table (missing shown as NA;
    /// floats to 6 significant digits; names and cells clipped to `PreviewText.previewWidth`
    /// characters, control characters escaped, in time that does not grow with a cell's
    /// length).
    public func preview(rows: Int = 5) -> String {
        var out = "Dataset \(rowCount) rows x \(columns.count) columns"
        if let label { out += " (label: \(label))" }
        out += "\n"
        let clip = { (s: String) in PreviewText.clip(s, PreviewText.previewWidth) }
        var table = [columnNames.map(clip), columns.map { $0.type.rawValue }]
        for r in 0..<min(max(rows, 0), rowCount) {
            table.append(columns.map { c in
                let v = c.value(at: r)
                if v.isNull { return "NA" }
                if c.isDatetime, case .int(let t) = v { return Datetime.format(t) }
                if case .double(let d) = v { return PreviewText.number(d) }
                return clip(v.description)
            })
        }
        let widths = (0..<columns.count).map { j in table.map { $0[j].count }.max() ?? 0 }
        for row in table {
            out += zip(row, widths).map { s, w in s.padding(toLength: w, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        if rowCount > rows { out += "... \(rowCount - rows) more rows\n" }
        return out
    }
}
