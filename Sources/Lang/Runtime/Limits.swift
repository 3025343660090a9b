/// The language's size limits, one place (documented in Docs/robustness.md, "Language
/// limits"). Every builtin or operator that grows a string or a list checks the size of
/// its result here *before* allocating, so a script asking for too much gets an error
/// naming the operation instead of a trap or an allocation failure.
public enum Limits {
    /// Largest string a builtin or operator builds: 256 MiB of UTF-8.
    public static let maxStringBytes = 256 << 20
    /// Most items in a list a builtin or operator builds (`range`, `*`, `+`): 2^26.
    public static let maxListItems = 1 << 26
    /// Deepest nesting that equality, ordering and printing walk (lists and records).
    public static let maxNesting = 100_000
    /// Widest field `format` pads to.
    public static let maxFormatWidth = 10_000
    /// Largest count a native accepts for a count-like argument (`runs`, `epochs`...).
    public static let maxCount = 1 << 31

    /// Throws unless a string of `bytes` UTF-8 bytes is within the limit. `bytes` may
    /// have overflowed to a negative value when the caller used `&+`/`&*`: pass the
    /// exact count computed with overflow checks (see `sumBytes`).
    public static func checkString(_ bytes: Int, _ operation: String) throws {
        if bytes > maxStringBytes || bytes < 0 {
            throw NativeError("\(operation): result of \(bytes < 0 ? "more than \(Int.max)" : String(bytes)) bytes exceeds the string limit of \(maxStringBytes) bytes (256 MiB)")
        }
    }

    /// Throws unless a list of `items` items is within the limit.
    public static func checkList(_ items: Int, _ operation: String) throws {
        if items > maxListItems || items < 0 {
            throw NativeError("\(operation): result of \(items < 0 ? "more than \(Int.max)" : String(items)) items exceeds the list limit of \(maxListItems) items")
        }
    }

    /// `a + b`, or -1 (which `checkString`/`checkList` report as too large) on overflow.
    public static func sum(_ a: Int, _ b: Int) -> Int {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? -1 : s
    }

    /// `a * b` for non-negative operands, or -1 on overflow.
    public static func product(_ a: Int, _ b: Int) -> Int {
        let (s, o) = a.multipliedReportingOverflow(by: b)
        return o ? -1 : s
    }
}
