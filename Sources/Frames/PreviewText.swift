/// Cell texts for printed tables (dataset previews, `describe`): at most `width`
/// characters, the last one an ellipsis when cut, and line breaks and tabs shown as
/// `\n`, `\r`, `\t` so one cell stays on one line.
///
///     PreviewText.clip(String(repeating: "x", count: 100_000_000), 8)   // "xxxxxxx…"
///
/// Reads at most `width + 1` characters of the text, so a 100 MB cell costs what a short
/// one does (counting a String's characters is linear in its length).
public enum PreviewText {
    /// Widest cell in `describe`'s table (column names, top values).
    public static let describeWidth = 40
    /// Widest cell in a dataset preview (`print(ds)`).
    public static let previewWidth = 24

    public static func clip(_ s: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        var out: [Character] = []
        out.reserveCapacity(width + 1)
        for ch in s {
            switch ch {
            case "\n": out += ["\\", "n"]
            case "\r\n": out += ["\\", "r", "\\", "n"]
            case "\r": out += ["\\", "r"]
            case "\t": out += ["\\", "t"]
            default: out.append(ch)
            }
            if out.count > width {
                out.removeLast(out.count - width + 1)
                out.append("…")
                return String(out)
            }
        }
        return String(out)
    }
}
