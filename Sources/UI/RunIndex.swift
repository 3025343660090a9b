import Foundation
import Registry
import Support

/// The runs table in memory: every run with its final metrics, reloaded (two queries) when
/// older than `maxAge`, so sorting, filtering and paging 10 k runs never re-reads the registry
/// per request.
final class RunIndex: @unchecked Sendable {
    struct Snapshot {
        var rows: [RunTableRow]
        var paramKeys: [String]
        var metricKeys: [String]
        var loadedAt: Date
    }

    let registry: Registry
    let maxAge: Double
    private let lock = NSLock()
    private var cached: Snapshot?
    private var loadedNanos: UInt64 = 0
    private var currentMaxAge: Double = 0

    init(registry: Registry, maxAge: Double = 2) {
        self.registry = registry; self.maxAge = maxAge; self.currentMaxAge = maxAge
    }

    /// The next snapshot reads the registry again (after this process changed it).
    func invalidate() {
        lock.lock(); defer { lock.unlock() }
        cached = nil
    }

    func snapshot() throws -> Snapshot {
        lock.lock(); defer { lock.unlock() }
        let now = DispatchTime.now().uptimeNanoseconds
        if let cached, Double(now - loadedNanos) / 1e9 < currentMaxAge { return cached }
        let started = DispatchTime.now().uptimeNanoseconds
        let rows = try registry.runTable()
        var params = Set<String>(), metrics = Set<String>()
        for r in rows { params.formUnion(r.run.params.keys); metrics.formUnion(r.finalMetrics.keys) }
        let s = Snapshot(rows: rows, paramKeys: params.sorted(), metricKeys: metrics.sorted(), loadedAt: Date())
        // Counted from the end of the load, and longer for a slow load (a big registry on a
        // busy machine): reloading must never take most of the time.
        let finished = DispatchTime.now().uptimeNanoseconds
        cached = s; loadedNanos = finished
        currentMaxAge = max(maxAge, 5 * Double(finished - started) / 1e9)
        return s
    }
}

/// A column of the runs table that can be sorted on.
enum RunColumn: Equatable {
    case id, script, started, duration, status, param(String), metric(String)

    /// `started`, `param:lr`, `metric:test_accuracy`; nil for anything else.
    init?(_ text: String) {
        switch text {
        case "id": self = .id
        case "script": self = .script
        case "started": self = .started
        case "duration": self = .duration
        case "status": self = .status
        default:
            if text.hasPrefix("param:"), text.count > 6 { self = .param(String(text.dropFirst(6))) }
            else if text.hasPrefix("metric:"), text.count > 7 { self = .metric(String(text.dropFirst(7))) }
            else { return nil }
        }
    }

    var key: String {
        switch self {
        case .id: return "id"
        case .script: return "script"
        case .started: return "started"
        case .duration: return "duration"
        case .status: return "status"
        case let .param(p): return "param:\(p)"
        case let .metric(m): return "metric:\(m)"
        }
    }
}

/// One run's duration in seconds; a running run's so far.
func runDuration(_ run: Run, now: Date = Date()) -> Double {
    (run.endedAt ?? now).timeIntervalSince(run.startedAt)
}

/// A sortable value: numbers before text, missing values always last.
private enum SortValue {
    case number(Double), text(String), missing
}

private func sortValue(_ row: RunTableRow, _ column: RunColumn, now: Date) -> SortValue {
    switch column {
    case .id: return .text(row.run.id)
    case .script: return .text(row.run.script)
    case .started: return .number(row.run.startedAt.timeIntervalSince1970)
    case .duration: return .number(runDuration(row.run, now: now))
    case .status: return .text(row.run.status.rawValue)
    case let .metric(m): return row.finalMetrics[m].map { $0.isNaN ? .missing : .number($0) } ?? .missing
    case let .param(p):
        switch row.run.params[p] {
        case nil: return .missing
        case let .int(i)?: return .number(Double(i))
        case let .double(d)?: return .number(d)
        case let .bool(b)?: return .text(String(b))
        case let .string(s)?: return .text(s)
        }
    }
}

/// Sorts stably by `column`; missing values go last whichever the direction.
func sortRuns(_ rows: [RunTableRow], by column: RunColumn, descending: Bool, now: Date = Date()) -> [RunTableRow] {
    let keyed = rows.enumerated().map { (offset: $0.offset, row: $0.element, value: sortValue($0.element, column, now: now)) }
    func less(_ a: SortValue, _ b: SortValue) -> Bool? {
        switch (a, b) {
        case let (.number(x), .number(y)): return x == y ? nil : x < y
        case let (.text(x), .text(y)): return x == y ? nil : x < y
        case (.number, .text): return true
        case (.text, .number): return false
        default: return nil
        }
    }
    return keyed.sorted { a, b in
        switch (a.value, b.value) {
        case (.missing, .missing): return a.offset < b.offset
        case (.missing, _): return false
        case (_, .missing): return true
        default:
            guard let l = less(a.value, b.value) else { return a.offset < b.offset }
            return descending ? !l : l
        }
    }.map(\.row)
}

