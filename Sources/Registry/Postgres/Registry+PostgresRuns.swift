import Foundation
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

// The run half of the registry API on PostgreSQL: the same contract as Registry+Runs.swift
// (same errors, same orders), in PostgreSQL's SQL. Dates are cut to milliseconds as the
// SQLite store keeps them, so both stores answer the same values.

extension Registry {
    static let runColumns = """
        id, script, script_sha256, git_commit, params, seed, started_at, ended_at, status, error, host, mlw_version,
        pid, process_start, reproduces, parent_run
        """

    /// Cut to whole milliseconds (as the SQLite store keeps dates). The nudge keeps a date
    /// already on a millisecond (read back from either store) from dropping one ms to
    /// binary rounding (x.123 * 1000 = x122.99999…) or to PostgreSQL keeping whole microseconds.
    static func ms(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000 + 0.01).rounded(.down) / 1000)
    }

    static func decodeRun(_ r: PostgresRandomAccessRow) throws -> Run {
        let paramsText: String = try r.get("params")
        let params = try JSONDecoder().decode([String: ParamValue].self, from: Data(paramsText.utf8))
        let status: String = try r.get("status")
        return Run(id: try r.get("id"), script: try r.get("script"), scriptSha256: try r.get("script_sha256"),
                   gitCommit: try r.get("git_commit"), params: params, seed: try r.get("seed"),
                   startedAt: try r.get("started_at"), endedAt: try r.get("ended_at"),
                   status: RunStatus(rawValue: status) ?? .failed, error: try r.get("error"), host: try r.get("host"),
                   mlwVersion: try r.get("mlw_version"), pid: try r.get("pid"), processStart: try r.get("process_start", Int?.self).map(Int64.init),
                   reproduces: try r.get("reproduces"), parentRun: try r.get("parent_run"))
    }

    func pgStartRun(_ pg: PostgresSession, script: String, hash: String, paramsJSON: String, seed: Int?, gitCommit: String?,
                    host: String, mlwVersion: String, startedAt: Date, processStart: Int64?, reproduces: RunID?, parentRun: RunID?) throws -> RunID {
        try pg.transaction(write: true) { tx in
            let original = try reproduces.map { try pgResolveRunID(tx, $0) }
            let parent = try parentRun.map { try pgResolveRunID(tx, $0) }
            var id = Registry.newRunID()
            while try tx.row("SELECT 1 AS one FROM run WHERE id = $1", [.text(id)]) != nil { id = Registry.newRunID() }
            try tx.execute("""
                INSERT INTO run (id, script, script_sha256, git_commit, params, seed, started_at, status, host, mlw_version,
                                 pid, process_start, reproduces, parent_run)
                VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9, $10, $11, $12, $13)
                """, [.text(id), .text(script), .text(hash), .text(gitCommit), .text(paramsJSON), .int(seed),
                      .date(Registry.ms(startedAt)), .text(host), .text(mlwVersion), .int(Int(getpid())),
                      .int(processStart.map(Int.init)), .text(original), .text(parent)])
            return id
        }
    }

    func pgFinishRun(_ pg: PostgresSession, _ id: RunID, status: RunStatus, error: String?, endedAt: Date,
                     paramsJSON: String?, seed: Int?) throws {
        try pg.transaction(write: true) { tx in
            let run = try pgFetchRun(tx, id)
            guard run.status == .running else { throw RegistryError.runAlreadyFinished(run.id) }
            if let paramsJSON {
                try tx.execute("UPDATE run SET status = $1, error = $2, ended_at = $3, params = $4, seed = $5 WHERE id = $6",
                               [.text(status.rawValue), .text(error), .date(Registry.ms(endedAt)), .text(paramsJSON), .int(seed), .text(run.id)])
            } else {
                try tx.execute("UPDATE run SET status = $1, error = $2, ended_at = $3 WHERE id = $4",
                               [.text(status.rawValue), .text(error), .date(Registry.ms(endedAt)), .text(run.id)])
            }
        }
    }

    func pgLogMetrics(_ pg: PostgresSession, run: RunID, _ values: [(key: String, value: Double, step: Int?)], at time: Date) throws -> [Int] {
        try pg.transaction(write: true) { tx in
            let runID = try pgResolveRunID(tx, run)
            var steps: [Int] = []
            for (key, value, step) in values {
                let used: Int
                if let step { used = step } else {
                    used = try tx.row("SELECT COALESCE(MAX(step) + 1, 0) AS next FROM metric WHERE run_id = $1 AND key = $2",
                                      [.text(runID), .text(key)])!.get("next", Int.self)
                }
                try tx.execute("""
                    INSERT INTO metric (run_id, key, step, value, logged_at) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (run_id, key, step) DO UPDATE SET value = EXCLUDED.value, logged_at = EXCLUDED.logged_at
                    """, [.text(runID), .text(key), .int(used), .double(value), .date(Registry.ms(time))])
                steps.append(used)
            }
            return steps
        }
    }

    func pgRecordDataset(_ pg: PostgresSession, run: RunID, hash: String, source: String, rows: Int, schemaJSON: String) throws {
        try pg.transaction(write: true) { tx in
            let runID = try pgResolveRunID(tx, run)
            try tx.execute("""
                INSERT INTO dataset (hash, source, rows, schema_json, first_seen_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (hash) DO NOTHING
                """, [.text(hash), .text(source), .int(rows), .text(schemaJSON), .date(Registry.ms(Date()))])
            try tx.execute("INSERT INTO run_dataset (run_id, dataset_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           [.text(runID), .text(hash)])
        }
    }

    func pgRuns(_ pg: PostgresSession, filter: RunFilter, limit: Int) throws -> [Run] {
        try pg.transaction(write: false) { tx in
            var conditions: [String] = []
            var args: [PGArg] = []
            if let status = filter.status { args.append(.text(status.rawValue)); conditions.append("status = $\(args.count)") }
            if let script = filter.script { args.append(.text(script)); conditions.append("script = $\(args.count)") }
            if let parent = filter.parent { args.append(.text(try pgResolveRunID(tx, parent))); conditions.append("parent_run = $\(args.count)") }
            var sql = "SELECT \(Registry.runColumns) FROM run"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            sql += " ORDER BY started_at DESC, id"
            // Parameters are matched in Swift on their text form (as the SQLite store does).
            if filter.params.isEmpty { sql += " LIMIT \(max(0, limit))" }
            var result: [Run] = []
            for row in try tx.rows(sql, args) where result.count < limit {
                let run = try Registry.decodeRun(row)
                if filter.params.allSatisfy({ run.params[$0.key]?.description == $0.value }) { result.append(run) }
            }
            return result
        }
    }

    func pgRun(_ pg: PostgresSession, _ id: String) throws -> Run {
        try pg.transaction(write: false) { tx in try pgFetchRun(tx, id) }
    }

    func pgMetrics(_ pg: PostgresSession, run: RunID) throws -> [MetricPoint] {
        try pg.transaction(write: false) { tx in
            let id = try pgResolveRunID(tx, run)
            return try tx.rows("SELECT run_id, key, step, value, logged_at FROM metric WHERE run_id = $1 ORDER BY key, step", [.text(id)]).map {
                MetricPoint(runId: try $0.get("run_id"), key: try $0.get("key"), step: try $0.get("step"), value: try $0.get("value"),
                            loggedAt: try $0.get("logged_at"))
            }
        }
    }

    func pgFinalMetrics(_ pg: PostgresSession, run: RunID) throws -> [String: Double] {
        try pg.transaction(write: false) { tx in try pgFetchFinalMetrics(tx, try pgResolveRunID(tx, run)) }
    }

    func pgDatasets(_ pg: PostgresSession, run: RunID) throws -> [Dataset] {
        try pg.transaction(write: false) { tx in try pgFetchDatasets(tx, try pgResolveRunID(tx, run)) }
    }

    func pgArtifacts(_ pg: PostgresSession, run: RunID) throws -> [Artifact] {
        try pg.transaction(write: false) { tx in try pgFetchArtifacts(tx, try pgResolveRunID(tx, run)) }
    }

    func pgArtifactLinks(_ pg: PostgresSession, run: RunID) throws -> [RunArtifact] {
        try pg.transaction(write: false) { tx in
            let id = try pgResolveRunID(tx, run)
            return try tx.rows("""
                SELECT run_artifact.run_id, run_artifact.artifact_sha256, run_artifact.label
                FROM run_artifact JOIN artifact ON artifact.sha256 = run_artifact.artifact_sha256
                WHERE run_artifact.run_id = $1 ORDER BY artifact.stored_at, run_artifact.label
                """, [.text(id)]).map(Registry.decodeLink)
        }
    }

    func pgRunDetails(_ pg: PostgresSession, _ id: String) throws -> RunDetails {
        try pg.transaction(write: false) { tx in
            let run = try pgFetchRun(tx, id)
            let counts = try tx.rows("SELECT key, COUNT(*) AS n FROM metric WHERE run_id = $1 GROUP BY key", [.text(run.id)])
            let ids = { (sql: String) in try tx.rows(sql, [.text(run.id)]).map { try $0.get("id", String.self) } }
            return RunDetails(
                run: run,
                finalMetrics: try pgFetchFinalMetrics(tx, run.id),
                metricPointCounts: Dictionary(uniqueKeysWithValues: try counts.map { (try $0.get("key", String.self), try $0.get("n", Int.self)) }),
                datasets: try pgFetchDatasets(tx, run.id),
                artifacts: try pgFetchArtifacts(tx, run.id),
                modelVersions: try tx.rows("SELECT \(Registry.versionColumns) FROM model_version WHERE run_id = $1 ORDER BY model_name, version",
                                           [.text(run.id)]).map { withPath(try Registry.decodeVersion($0)) },
                links: try tx.rows("SELECT run_id, artifact_sha256, label FROM run_artifact WHERE run_id = $1 ORDER BY label, artifact_sha256",
                                   [.text(run.id)]).map(Registry.decodeLink),
                reproducedBy: try ids("SELECT id FROM run WHERE reproduces = $1 ORDER BY started_at, id"),
                children: try ids("SELECT id FROM run WHERE parent_run = $1 ORDER BY started_at, id"))
        }
    }

    func pgCompareRuns(_ pg: PostgresSession, _ a: String, _ b: String) throws -> RunDiff {
        try pg.transaction(write: false) { tx in
            let runA = try pgFetchRun(tx, a), runB = try pgFetchRun(tx, b)
            return RunDiff(a: runA, b: runB, metricsA: try pgFetchFinalMetrics(tx, runA.id), metricsB: try pgFetchFinalMetrics(tx, runB.id))
        }
    }

    // MARK: - Helpers

    static func decodeLink(_ r: PostgresRandomAccessRow) throws -> RunArtifact {
        RunArtifact(runId: try r.get("run_id"), artifactSha256: try r.get("artifact_sha256"), label: try r.get("label"))
    }

    /// Exact id, or a unique prefix of at least 4 hex characters (like git).
    func pgFetchRun(_ tx: PGTx, _ id: String) throws -> Run {
        let key = id.lowercased()
        if let row = try tx.row("SELECT \(Registry.runColumns) FROM run WHERE id = $1", [.text(key)]) { return try Registry.decodeRun(row) }
        guard key.count >= 4, key.count < 12, key.allSatisfy(\.isHexDigit) else { throw RegistryError.unknownRun(id) }
        // The key is hex only (checked above), so it has no LIKE wildcards.
        let matches = try tx.rows("SELECT \(Registry.runColumns) FROM run WHERE id LIKE $1 ORDER BY id LIMIT 6",
                                  [.text(key + "%")]).map(Registry.decodeRun)
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty { throw RegistryError.unknownRun(id) }
        throw RegistryError.ambiguousRun(id, matches: matches.map(\.id))
    }

    func pgResolveRunID(_ tx: PGTx, _ id: String) throws -> RunID {
        if let row = try tx.row("SELECT id FROM run WHERE id = $1", [.text(id.lowercased())]) { return try row.get("id") }
        return try pgFetchRun(tx, id).id
    }

    func pgFetchFinalMetrics(_ tx: PGTx, _ runID: RunID) throws -> [String: Double] {
        let rows = try tx.rows("SELECT DISTINCT ON (key) key, value FROM metric WHERE run_id = $1 ORDER BY key, step DESC", [.text(runID)])
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.get("key", String.self), try $0.get("value", Double.self)) })
    }

    func pgFetchDatasets(_ tx: PGTx, _ runID: RunID) throws -> [Dataset] {
        try tx.rows("""
            SELECT dataset.hash, dataset.source, dataset.rows, dataset.schema_json, dataset.first_seen_at
            FROM dataset JOIN run_dataset ON run_dataset.dataset_hash = dataset.hash
            WHERE run_dataset.run_id = $1 ORDER BY dataset.source, dataset.hash
            """, [.text(runID)]).map {
            Dataset(hash: try $0.get("hash"), source: try $0.get("source"), rows: try $0.get("rows"),
                    schemaJson: try $0.get("schema_json"), firstSeenAt: try $0.get("first_seen_at"))
        }
    }

    func pgFetchArtifacts(_ tx: PGTx, _ runID: RunID) throws -> [Artifact] {
        try tx.rows("""
            SELECT DISTINCT artifact.sha256, artifact.size, artifact.stored_at FROM artifact
            JOIN run_artifact ON run_artifact.artifact_sha256 = artifact.sha256
            WHERE run_artifact.run_id = $1 ORDER BY artifact.stored_at, artifact.sha256
            """, [.text(runID)]).map { withPath(try Registry.decodeArtifact($0)) }
    }

    static func decodeArtifact(_ r: PostgresRandomAccessRow) throws -> Artifact {
        Artifact(sha256: try r.get("sha256"), size: Int64(try r.get("size", Int.self)), storedAt: try r.get("stored_at"))
    }
}
