import Foundation

/// A plain aligned text table: numbers right-aligned, everything else left-aligned,
/// columns separated by two spaces, a dashed rule under the header.
///
///     TextTable(["name", "version"], [["iris", "3"]]).render()
///     // name  version
///     // ----  -------
///     // iris        3
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]

    public init(_ headers: [String], _ rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }

    /// The table as text, one line per row, ending with a newline.
    public func render() -> String {
        let columns = headers.count
        var widths = headers.map(\.count)
        var numeric = [Bool](repeating: true, count: columns)
        for row in rows {
            for (i, cell) in row.prefix(columns).enumerated() {
                widths[i] = max(widths[i], cell.count)
                if !cell.isEmpty && !TextTable.looksNumeric(cell) { numeric[i] = false }
            }
        }
        func line(_ cells: [String], header: Bool) -> String {
            var parts: [String] = []
            for i in 0..<columns {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                parts.append(numeric[i] && !header ? pad + cell : cell + pad)
            }
            return trimTrailing(parts.joined(separator: "  "))
        }
        var out = line(headers, header: true) + "\n"
        out += trimTrailing(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) + "\n"
        for row in rows { out += line(row, header: false) + "\n" }
        return out
    }

    private func trimTrailing(_ s: String) -> String {
        var s = s
        while s.last == " " { s.removeLast() }
        return s
    }

    static func looksNumeric(_ s: String) -> Bool {
        Double(s) != nil || s == "-"
    }

    /// Short, stable rendering of a number: integers without ".0", others with up to 6
    /// significant digits.
    public static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6g", value)
    }

    /// `2024-05-01 12:30:05` in UTC, so tables read the same on every machine.
    public static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }
}
