/// Cell texts for printed tables (dataset previews, `describe`): at most `width`
/// characters, the last one an ellipsis when cut, and control characters shown as escapes
/// (`\n`, `\r`, `\t`, else `\u{1b}`, as MLW writes them in strings) so one cell stays on
/// one line and the columns stay aligned.
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
            default:
                if ch.unicodeScalars.contains(where: isBreaking) {
                    for u in ch.unicodeScalars {
                        if isBreaking(u) { out += Array("\\u{" + String(u.value, radix: 16) + "}") } else { out.append(Character(u)) }
                    }
                } else {
                    out.append(ch)
                }
            }
            if out.count > width {
                out.removeLast(out.count - width + 1)
                out.append("…")
                return String(out)
            }
        }
        return String(out)
    }

    /// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators:
    /// printed raw they move the cursor, break the line or are invisible.
    static func isBreaking(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029
    }

    /// A float cell for a preview: 6 significant digits (`0.123457`, `1.5e-07`), integral
    /// values without a trailing `.0`, as `describe` prints them.
    ///
    ///     PreviewText.number(0.12345679104328156)   // "0.123457"
    public static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        var s = String(format: "%.6g", v)
        if s == "-0" { s = "0" }
        return s
    }
}
