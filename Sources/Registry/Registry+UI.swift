import Foundation
import GRDB

/// One line of `mlw ui`'s runs table: a run and the value at the last step of each metric key.
public struct RunTableRow: Sendable, Equatable {
    public var run: Run
    public var finalMetrics: [String: Double]
}

extension Registry {
    /// Every run, newest first, with its final metrics, in two queries: what the runs page of
    /// `mlw ui` sorts, filters and pages in memory (`finalMetrics(run:)` per run would be one
    /// query per run, 10 k queries for 10 k runs).
    public func runTable() throws -> [RunTableRow] {
        // PostgreSQL: the public queries (one per run for the final metrics).
        if isPostgres { return try runs(limit: Int.max).map { RunTableRow(run: $0, finalMetrics: try finalMetrics(run: $0.id)) } }
        return try read { db in
            let runs = try Run.order(Column("started_at").desc, Column("id")).fetchAll(db)
            var finals: [String: [String: Double]] = [:]
            // SQLite returns the bare `value` column from the row holding MAX(step): the last
            // value per (run, key), read in primary-key order without a correlated subquery.
            let rows = try Row.fetchCursor(db, sql: "SELECT run_id, key, value, MAX(step) FROM metric GROUP BY run_id, key")
            while let row = try rows.next() {
                finals[row[0] as String, default: [:]][row[1] as String] = row[2] as Double
            }
            return runs.map { RunTableRow(run: $0, finalMetrics: finals[$0.id] ?? [:]) }
        }
    }
}
