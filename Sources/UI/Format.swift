import Foundation
import Workbench

// Small formatting helpers shared by the pages: times, durations, numbers, JSON values.

enum Format {
    /// `2026-12-03 15:14:13` UTC (gmtime_r: no shared DateFormatter between request threads).
    static func time(_ date: Date?) -> String {
        guard let date else { return "" }
        var t = time_t(date.timeIntervalSince1970.rounded(.down)), tm = tm()
        gmtime_r(&t, &tm)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                      Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec))
    }

    /// ISO 8601 for the JSON forms.
    static func iso(_ date: Date?) -> Any {
        guard let date else { return NSNull() }
        return time(date).replacingOccurrences(of: " ", with: "T") + "Z"
    }

    /// `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
    static func duration(_ seconds: Double?) -> String {
        guard let s = seconds, s.isFinite, s >= 0 else { return "" }
        if s < 1 { return "\(Int((s * 1000).rounded())) ms" }
        if s < 60 { return String(format: "%.1f s", s) }
        if s < 3600 { return String(format: "%d min %02d s", Int(s) / 60, Int(s) % 60) }
        return String(format: "%d h %02d min", Int(s) / 3600, (Int(s) % 3600) / 60)
    }

    /// Metric values as people read them: 4 significant digits.
    static func number(_ v: Double?) -> String {
        guard let v else { return "" }
        if !v.isFinite { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return String(format: "%.4g", v)
    }

    /// A Double for JSONSerialization, which refuses NaN and infinities.
    static func json(_ v: Double?) -> Any {
        guard let v else { return NSNull() }
        return v.isFinite ? v : number(v)
    }

    static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1 << 20 { return String(format: "%.1f KiB", Double(n) / 1024) }
        if n < 1 << 30 { return String(format: "%.1f MiB", Double(n) / 1_048_576) }
        return String(format: "%.1f GiB", Double(n) / 1_073_741_824)
    }
}

/// `&`, `<`, `>`, `"` and `'` as entities, for the few places HTML is built in Swift
/// (highlighted scripts, charts); templates escape with Mustache's `{{ }}`.
func htmlEscape(_ s: String) -> String { svgEscape(s) }

/// Query-string encoding for links built in Swift (the template escapes the result again for HTML).
func urlEncode(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
}

/// The value, or JSON null.
func orNull<T>(_ v: T?) -> Any { v.map { $0 as Any } ?? NSNull() }
