import Foundation

/// The `datetime` column type's values: Int64 microseconds since 1970-01-01T00:00:00Z (UTC),
/// stored as a `.int` column with `Column.isDatetime` set, so code that only knows ints
/// (hashing, gathering, feature matrices) keeps working and sees the microseconds.
///
///     Datetime.parse("2024-06-01")                   // 1717200000000000
///     Datetime.parse("2024-06-01T12:30:00.5+02:00")  // 1717237800500000
///     Datetime.format(1717200000000000)              // "2024-06-01"
///
/// Accepted text (ISO 8601 / RFC 3339): `YYYY-MM-DD`, optionally followed by `T` (or one
/// space) and `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f` (1 to 9 fraction digits, kept to the
/// microsecond), then `Z`, `±HH:MM`, `±HHMM` or `±HH`; no zone means UTC. Fields are range
/// checked (month 1-12, the day within its month, hour < 24, minute < 60, second < 61).
public enum Datetime {
    public static let microsPerSecond: Int64 = 1_000_000
    public static let microsPerDay: Int64 = 86_400_000_000

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The civil date of a day number (inverse of `days`).
    public static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func parse(_ s: String) -> Int? {
        var s = s
        return s.withUTF8 { u in parse(u.baseAddress, u.count) }
    }

    /// Parses `n` bytes at `p`; nil when they are not an ISO-8601 date or timestamp.
    public static func parse(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int? {
        guard let p, n >= 10, n <= 40 else { return nil }
        var i = 0
        func digits(_ k: Int) -> Int? {
            guard i + k <= n else { return nil }
            var v = 0
            for j in i..<(i + k) {
                let d = Int(p[j]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                v = v * 10 + d
            }
            i += k
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < n, p[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        var micros = Int64(days(year: year, month: month, day: day)) * microsPerDay
        if i == n { return Int(micros) }
        guard p[i] == 0x54 || p[i] == 0x74 || p[i] == 0x20 else { return nil }   // T, t or a space
        i += 1
        guard let hour = digits(2), expect(0x3A), let minute = digits(2), hour < 24, minute < 60 else { return nil }
        var second = 0, fraction: Int64 = 0
        if expect(0x3A) {
            guard let s = digits(2), s < 61 else { return nil }
            second = s
            if i < n && (p[i] == 0x2E || p[i] == 0x2C) {
                i += 1
                var k = 0
                var f: Int64 = 0
                while i < n, p[i] >= 0x30, p[i] <= 0x39 {
                    if k < 6 { f = f * 10 + Int64(p[i] - 0x30) }
                    k += 1; i += 1
                }
                guard k >= 1, k <= 9 else { return nil }
                for _ in k..<max(k, 6) { f *= 10 }
                fraction = f
            }
        }
        micros += Int64(hour * 3600 + minute * 60 + second) * microsPerSecond + fraction
        if i == n { return Int(micros) }
        if p[i] == 0x5A || p[i] == 0x7A {   // Z
            i += 1
            return i == n ? Int(micros) : nil
        }
        guard p[i] == 0x2B || p[i] == 0x2D else { return nil }
        let sign: Int64 = p[i] == 0x2D ? -1 : 1
        i += 1
        guard let oh = digits(2), oh <= 23 else { return nil }
        var om = 0
        if i < n {
            _ = expect(0x3A)
            guard let m = digits(2), m < 60 else { return nil }
            om = m
        }
        guard i == n else { return nil }
        // Local time minus its offset is UTC.
        return Int(micros - sign * Int64(oh * 3600 + om * 60) * microsPerSecond)
    }

    /// ISO-8601 text in UTC: a date alone at midnight (`2024-06-01`), else
    /// `2024-06-01T12:30:00Z` with `.123` or `.123456` when there are fractional seconds.
    public static func format(_ micros: Int) -> String {
        let m = Int64(micros)
        var dayNumber = m / microsPerDay, rest = m % microsPerDay
        if rest < 0 { rest += microsPerDay; dayNumber -= 1 }
        let (y, mo, d) = civil(days: Int(dayNumber))
        var out = pad(y, 4) + "-" + pad(mo, 2) + "-" + pad(d, 2)
        if rest == 0 { return out }
        let secs = Int(rest / microsPerSecond), frac = Int(rest % microsPerSecond)
        out += "T" + pad(secs / 3600, 2) + ":" + pad(secs / 60 % 60, 2) + ":" + pad(secs % 60, 2)
        if frac != 0 { out += frac % 1000 == 0 ? "." + pad(frac / 1000, 3) : "." + pad(frac, 6) }
        return out + "Z"
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(abs(v))
        return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Whether every distinct text parses (and there is at least one): an inferred text
    /// column whose values are all dates or timestamps becomes a datetime column.
    static func allParse(_ texts: [String]) -> Bool {
        !texts.isEmpty && texts.allSatisfy { parse($0) != nil }
    }
}

extension Column {
    /// A datetime column from microseconds since the epoch (UTC).
    public static func datetime(name: String, micros: [Int], missing: [Bool]? = nil) -> Column {
        var c = Column(name: name, data: .int(micros), missing: missing)
        c.isDatetime = true
        return c
    }
}
