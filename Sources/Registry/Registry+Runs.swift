import Foundation
import GRDB
import JSON

/// Which runs `runs(filter:limit:)` returns. Empty fields match everything.
///
///     try registry.runs(filter: RunFilter(status: .finished, params: ["epochs": "30"]), limit: 10)
public struct RunFilter: Sendable, Equatable {
    public var status: RunStatus?
    /// Exact script path as recorded.
    public var script: String?
    /// Parameter name -> value as text (`ParamValue.description`), all must match.
    public var params: [String: String]
    /// Only children of this run (id or unique prefix).
    public var parent: String?

    public init(status: RunStatus? = nil, script: String? = nil, params: [String: String] = [:], parent: String? = nil) {
        self.status = status; self.script = script; self.params = params; self.parent = parent
    }
}

extension Registry {
    // MARK: - Writing runs

    /// Records the start of a run and returns its new id.
    ///
    ///     let id = try registry.startRun(script: "train.mlw", scriptHash: SHA256.hex(fileAt: url),
    ///                                    params: ["epochs": 20], seed: 42)
    public func startRun(
        script: String, scriptHash: String, params: [String: ParamValue] = [:], seed: Int? = nil,
        gitCommit: String? = nil, host: String = Processes.hostName,
        mlwVersion: String = Registry.defaultMLWVersion, startedAt: Date = Date(), reproduces: RunID? = nil,
        parentRun: RunID? = nil
    ) throws -> RunID {
        let hash = scriptHash.lowercased()
        guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
            throw RegistryError.invalidValue("script hash must be 64 hex characters (SHA-256), got '\(scriptHash)'")
        }
        let paramsJSON = try Registry.paramsJSON(params)
        let processStart = Processes.startTime(getpid())
        if let postgres {
            return try pgStartRun(postgres, script: script, hash: hash, paramsJSON: paramsJSON, seed: seed, gitCommit: gitCommit, host: host,
                                  mlwVersion: mlwVersion, startedAt: startedAt, processStart: processStart, reproduces: reproduces, parentRun: parentRun)
        }
        return try write { db in
            let original = try reproduces.map { try resolveRunID(db, $0) }
            let parent = try parentRun.map { try resolveRunID(db, $0) }
            var id = Registry.newRunID()
            while try Int.fetchOne(db, sql: "SELECT 1 FROM run WHERE id = ?", arguments: [id]) != nil { id = Registry.newRunID() }
            // Plain SQL rather than the record's Codable insert: the generic encoding path costs
            // more than the rest of an empty `mlw run` (columns as in `Run`).
            try db.execute(sql: """
                INSERT INTO run (id, script, script_sha256, git_commit, params, seed, started_at, ended_at, status, error,
                                 host, mlw_version, pid, process_start, reproduces, parent_run)
                VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'running', NULL, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, script, hash, gitCommit, paramsJSON, seed, Registry.timestamp(startedAt),
                                 host, mlwVersion, Int(getpid()), processStart, original, parent])
            return id
        }
    }

    /// Marks a running run as finished or failed.
    ///
    ///     try registry.finishRun(id, status: .failed, error: "loss is NaN")
    public func finishRun(_ id: RunID, status: RunStatus = .finished, error: String? = nil, endedAt: Date = Date()) throws {
        try finishRun(id, status: status, error: error, endedAt: endedAt, params: nil, seed: nil)
    }

    /// Ends a running run in one transaction; `params`/`seed` replace the recorded ones when
    /// `params` is given.
    func finishRun(_ id: RunID, status: RunStatus, error: String?, endedAt: Date,
                   params: [String: ParamValue]?, seed: Int?) throws {
        guard status != .running else { throw RegistryError.invalidValue("finishRun needs status finished or failed") }
        let paramsJSON = try params.map(Registry.paramsJSON)
        if let postgres {
            return try pgFinishRun(postgres, id, status: status, error: error, endedAt: endedAt, paramsJSON: paramsJSON, seed: seed)
        }
        var sql = "UPDATE run SET status = ?, error = ?, ended_at = ?"
        var arguments: StatementArguments = [status.rawValue, error, Registry.timestamp(endedAt)]
        if let paramsJSON {
            sql += ", params = ?, seed = ?"
            arguments += [paramsJSON, seed]
        }
        sql += " WHERE id = ? AND status = 'running'"
        try write { db in
            // An exact id of a running run is the common case; anything else (a prefix, an
            // unknown or ended run) goes through fetchRun for its error.
            try db.execute(sql: sql, arguments: arguments + [id])
            if db.changesCount == 1 { return }
            let run = try fetchRun(db, id)
            guard run.status == .running else { throw RegistryError.runAlreadyFinished(run.id) }
            try db.execute(sql: sql, arguments: arguments + [run.id])
        }
    }

    /// Parameters as the `params` column holds them: the JSON object GRDB writes for the
    /// record (sorted keys).
    static func paramsJSON(_ params: [String: ParamValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .throw
        return String(decoding: try encoder.encode(params), as: UTF8.self)
    }

    /// Reads `YYYY-MM-DD HH:MM:SS.SSS` (UTC) back; nil for any other form (GRDB decides then).
    static func date(timestamp text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count == 23, b[4] == 45, b[7] == 45, b[10] == 32, b[13] == 58, b[16] == 58, b[19] == 46 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var v = 0
            for i in range {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19), let ms = number(20..<23) else { return nil }
        var tm = tm()
        tm.tm_year = Int32(year - 1900); tm.tm_mon = Int32(month - 1); tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(hour); tm.tm_min = Int32(minute); tm.tm_sec = Int32(second)
        let seconds = timegm(&tm)
        return Date(timeIntervalSince1970: Double(seconds) + Double(ms) / 1000)
    }

    /// A date as GRDB stores it: `YYYY-MM-DD HH:MM:SS.SSS` in UTC (milliseconds truncated),
    /// without a DateFormatter (whose set-up is a noticeable part of a short run).
    static func timestamp(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var seconds = time_t(t.rounded(.down))
        var ms = Int(((t - Double(seconds)) * 1000).rounded(.down))
        if ms >= 1000 { seconds += 1; ms -= 1000 }
        var tm = tm()
        gmtime_r(&seconds, &tm)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2)) "
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ms), 3))"
    }

    /// Logs one metric value in its own transaction. Without `step`, the value goes one
    /// step after the key's last one (0 for the first). Returns the step used. Logging the
    /// same step again replaces the value.
    ///
    ///     try registry.logMetric(run: id, key: "val_loss", value: 0.31, step: 4)
    @discardableResult
    public func logMetric(run: RunID, key: String, value: Double, step: Int? = nil, at time: Date = Date()) throws -> Int {
        try logMetrics(run: run, [(key, value, step)], at: time)[0]
    }

    /// Logs many metric values in one transaction (much faster than one call each).
    /// Returns the step used for each value.
    ///
    ///     try registry.logMetrics(run: id, [("loss", 0.5, 1), ("acc", 0.8, 1)])
    @discardableResult
    public func logMetrics(run: RunID, _ values: [(key: String, value: Double, step: Int?)], at time: Date = Date()) throws -> [Int] {
        for (key, value, step) in values {
            try RegistryName.validate(key, kind: "metric")
            guard !value.isNaN else { throw RegistryError.invalidValue("metric '\(key)' is NaN; NaN cannot be stored") }
            if let step, step < 0 { throw RegistryError.invalidValue("metric '\(key)' has negative step \(step)") }
        }
        if let postgres { return try pgLogMetrics(postgres, run: run, values, at: time) }
        return try write { db in
            let runID = try resolveRunID(db, run)
            var steps: [Int] = []
            for (key, value, step) in values {
                let used = try step ?? (Int.fetchOne(db, sql: "SELECT MAX(step) + 1 FROM metric WHERE run_id = ? AND key = ?",
                                                      arguments: [runID, key]) ?? 0)
                try MetricPoint(runId: runID, key: key, step: used, value: value, loggedAt: time).insert(db, onConflict: .replace)
                steps.append(used)
            }
            return steps
        }
    }

    /// Records that `run` read the dataset with lineage hash `hash`. The dataset row is
    /// created the first time the hash is seen and kept as is afterwards.
    ///
    ///     try registry.recordDataset(run: id, hash: h, source: "data/digits.csv", rows: 1797, schemaJSON: "{}")
    public func recordDataset(run: RunID, hash: String, source: String, rows: Int, schemaJSON: String = "{}") throws {
        guard !hash.isEmpty, hash.count <= 128 else { throw RegistryError.invalidValue("dataset hash must be 1 to 128 characters") }
        guard rows >= 0 else { throw RegistryError.invalidValue("dataset row count must not be negative") }
        guard (try? JSONParser.parse(schemaJSON)) != nil else {
            throw RegistryError.invalidValue("dataset schema is not valid JSON")
        }
        if let postgres { return try pgRecordDataset(postgres, run: run, hash: hash, source: source, rows: rows, schemaJSON: schemaJSON) }
        try write { db in
            let runID = try resolveRunID(db, run)
            try Dataset(hash: hash, source: source, rows: rows, schemaJson: schemaJSON, firstSeenAt: Date())
                .insert(db, onConflict: .ignore)
            try RunDataset(runId: runID, datasetHash: hash).insert(db, onConflict: .ignore)
        }
    }

    // MARK: - Reading runs

    /// The run with this id, or with this unique id prefix (at least 4 characters).
    public func run(_ id: String) throws -> Run {
        if let postgres { return try pgRun(postgres, id) }
        return try read { db in try fetchRun(db, id) }
    }

    /// Runs, newest first, that match `filter`.
    ///
    ///     try registry.runs(filter: RunFilter(status: .failed), limit: 20)
    public func runs(filter: RunFilter = RunFilter(), limit: Int = 50) throws -> [Run] {
        if let postgres { return try pgRuns(postgres, filter: filter, limit: limit) }
        return try read { db in
            var request = Run.all().order(Column("started_at").desc, Column("id"))
            if let status = filter.status { request = request.filter(Column("status") == status.rawValue) }
            if let script = filter.script { request = request.filter(Column("script") == script) }
            if let parent = filter.parent { request = request.filter(Column("parent_run") == (try resolveRunID(db, parent))) }
            // Parameters are matched in Swift on their text form, so 30, "30" and 30.0 typed
            // at the CLI behave the same whatever JSON type the script used.
            var result: [Run] = []
            let cursor = try request.fetchCursor(db)
            while result.count < limit, let run = try cursor.next() {
                if filter.params.allSatisfy({ run.params[$0.key]?.description == $0.value }) { result.append(run) }
            }
            return result
        }
    }

    /// Every metric point of a run, ordered by key then step.
    public func metrics(run: RunID) throws -> [MetricPoint] {
        if let postgres { return try pgMetrics(postgres, run: run) }
        return try read { db in
            let id = try resolveRunID(db, run)
            return try MetricPoint.filter(Column("run_id") == id).order(Column("key"), Column("step")).fetchAll(db)
        }
    }

    /// The value at the highest step of each metric key of a run.
    public func finalMetrics(run: RunID) throws -> [String: Double] {
        if let postgres { return try pgFinalMetrics(postgres, run: run) }
        return try read { db in try fetchFinalMetrics(db, try resolveRunID(db, run)) }
    }

    /// Datasets the run read, by source.
    public func datasets(run: RunID) throws -> [Dataset] {
        if let postgres { return try pgDatasets(postgres, run: run) }
        return try read { db in
            let id = try resolveRunID(db, run)
            return try Dataset.fetchAll(db, sql: """
                SELECT dataset.* FROM dataset JOIN run_dataset ON run_dataset.dataset_hash = dataset.hash
                WHERE run_dataset.run_id = ? ORDER BY dataset.source, dataset.hash
                """, arguments: [id])
        }
    }

    /// Artifacts the run produced, with their file paths.
    public func artifacts(run: RunID) throws -> [Artifact] {
        if let postgres { return try pgArtifacts(postgres, run: run) }
        return try read { db in
            let id = try resolveRunID(db, run)
            return try Artifact.fetchAll(db, sql: """
                SELECT DISTINCT artifact.* FROM artifact JOIN run_artifact ON run_artifact.artifact_sha256 = artifact.sha256
                WHERE run_artifact.run_id = ? ORDER BY artifact.stored_at, artifact.sha256
                """, arguments: [id]).map(withPath)
        }
    }

    /// Everything known about one run: what `mlw registry run ID` and `mlw reproduce` need.
    public func runDetails(_ id: String) throws -> RunDetails {
        if let postgres { return try pgRunDetails(postgres, id) }
        return try read { db in
            let run = try fetchRun(db, id)
            let counts = try Row.fetchAll(db, sql: "SELECT key, COUNT(*) FROM metric WHERE run_id = ? GROUP BY key",
                                          arguments: [run.id])
            return RunDetails(
                run: run,
                finalMetrics: try fetchFinalMetrics(db, run.id),
                metricPointCounts: Dictionary(uniqueKeysWithValues: counts.map { ($0[0] as String, $0[1] as Int) }),
                datasets: try Dataset.fetchAll(db, sql: """
                    SELECT dataset.* FROM dataset JOIN run_dataset ON run_dataset.dataset_hash = dataset.hash
                    WHERE run_dataset.run_id = ? ORDER BY dataset.source
                    """, arguments: [run.id]),
                artifacts: try Artifact.fetchAll(db, sql: """
                    SELECT DISTINCT artifact.* FROM artifact JOIN run_artifact ON run_artifact.artifact_sha256 = artifact.sha256
                    WHERE run_artifact.run_id = ? ORDER BY artifact.stored_at
                    """, arguments: [run.id]).map(withPath),
                modelVersions: try ModelVersion.filter(Column("run_id") == run.id)
                    .order(Column("model_name"), Column("version")).fetchAll(db).map(withPath),
                links: try RunArtifact.filter(Column("run_id") == run.id).order(Column("label"), Column("artifact_sha256")).fetchAll(db),
                reproducedBy: try String.fetchAll(db, sql: "SELECT id FROM run WHERE reproduces = ? ORDER BY started_at, id",
                                                  arguments: [run.id]),
                children: try String.fetchAll(db, sql: "SELECT id FROM run WHERE parent_run = ? ORDER BY started_at, id",
                                              arguments: [run.id]))
        }
    }

    /// Differences between two runs: script, seed, parameters and final metrics.
    ///
    ///     let diff = try registry.compareRuns("3f2a9c", "b71e04")
    public func compareRuns(_ a: String, _ b: String) throws -> RunDiff {
        if let postgres { return try pgCompareRuns(postgres, a, b) }
        return try read { db in
            let runA = try fetchRun(db, a), runB = try fetchRun(db, b)
            return RunDiff(a: runA, b: runB,
                           metricsA: try fetchFinalMetrics(db, runA.id), metricsB: try fetchFinalMetrics(db, runB.id))
        }
    }

    // MARK: - Helpers

    static func newRunID() -> RunID {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() & 0xFFFF_FFFF_FFFF
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// Exact id, or a unique prefix of at least 4 hex characters (like git).
    func fetchRun(_ db: Database, _ id: String) throws -> Run {
        let key = id.lowercased()
        if let run = try Run.fetchOne(db, key: key) { return run }
        guard key.count >= 4, key.count < 12, key.allSatisfy(\.isHexDigit) else { throw RegistryError.unknownRun(id) }
        let matches = try Run.filter(sql: "substr(id, 1, ?) = ?", arguments: [key.count, key]).limit(6).fetchAll(db)
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty { throw RegistryError.unknownRun(id) }
        throw RegistryError.ambiguousRun(id, matches: matches.map(\.id))
    }

    func resolveRunID(_ db: Database, _ id: String) throws -> RunID {
        // An exact id needs no decoded record.
        if let exact = try String.fetchOne(db, sql: "SELECT id FROM run WHERE id = ?", arguments: [id.lowercased()]) { return exact }
        return try fetchRun(db, id).id
    }

    func fetchFinalMetrics(_ db: Database, _ runID: RunID) throws -> [String: Double] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT key, value FROM metric m
            WHERE run_id = ? AND step = (SELECT MAX(step) FROM metric WHERE run_id = m.run_id AND key = m.key)
            """, arguments: [runID])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as Double) })
    }
}

/// Everything known about one run.
public struct RunDetails: Codable, Sendable, Equatable {
    public var run: Run
    /// Value at the last step of each metric key.
    public var finalMetrics: [String: Double]
    /// How many points each metric key has.
    public var metricPointCounts: [String: Int]
    public var datasets: [Dataset]
    public var artifacts: [Artifact]
    /// Model versions registered from this run.
    public var modelVersions: [ModelVersion]
    /// Every artifact link of the run with its label ("script", "model", "reproduce:iris:1", ...).
    public var links: [RunArtifact] = []
    /// Runs made by `mlw reproduce` of this one, oldest first.
    public var reproducedBy: [RunID] = []
    /// Child runs (`parent_run` = this run), oldest first.
    public var children: [RunID] = []
}
