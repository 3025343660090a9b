import Foundation

/// Calendar fields of a `datetime` cell (microseconds since the epoch, UTC), for the
/// column expressions `year`, `month`, `day`, `weekday` and `hour`.
struct TimeParts {
    var year: Int, month: Int, day: Int
    /// Monday = 0 ... Sunday = 6, as pandas' `dt.weekday`.
    var weekday: Int
    var hour: Int

    init(micros: Int) {
        let perDay = 86_400_000_000
        // Floor division, so times before 1970 land on the right day.
        let days = micros >= 0 ? micros / perDay : -((-micros + perDay - 1) / perDay)
        let civil = Datetime.civil(days: days)
        year = civil.year; month = civil.month; day = civil.day
        // 1970-01-01 was a Thursday (3).
        weekday = ((days % 7) + 7 + 3) % 7
        hour = (micros - days * perDay) / 3_600_000_000
    }
}
