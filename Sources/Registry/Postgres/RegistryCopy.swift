import Foundation

/// What `Registry.copy(to:)` (`mlw registry migrate-to`) moved, and the digest both sides agree on.
public struct CopyReport: Codable, Sendable, Equatable {
    public var runs = 0
    public var metricPoints = 0
    public var artifacts = 0
    public var versions = 0
    public var aliasEvents = 0
    /// SHA-256 of the canonical JSON of everything copied, computed on the source and
    /// again on the target (`contentDigest()`); equal by construction of the check.
    public var digest = ""
}

extension Registry {
    /// Everything the registry holds, in a canonical form, for hashing.
    struct Content: Encodable {
        var runs: [RunContent]
        var models: [ModelContent]
        var artifacts: [String: Int64]
    }
    struct RunContent: Encodable {
        var run: Run
        var metrics: [MetricPoint]
        var datasets: [Dataset]
        var links: [RunArtifact]
    }
    struct ModelContent: Encodable {
        var name: String
        var versions: [ModelVersion]
        var aliases: [Alias]
        var history: [AliasEvent]
    }

    func content() throws -> Content {
        let runs = try self.runs(limit: Int.max).sorted { $0.id < $1.id }
        var artifacts: [String: Int64] = [:]
        let runContents = try runs.map { run -> RunContent in
            let links = try artifactLinks(run: run.id).sorted { ($0.artifactSha256, $0.label) < ($1.artifactSha256, $1.label) }
            for a in try self.artifacts(run: run.id) { artifacts[a.sha256] = a.size }
            let metrics = try self.metrics(run: run.id).map { point -> MetricPoint in
                var p = point; p.loggedAt = Registry.ms(p.loggedAt); return p
            }
            var r = run
            r.startedAt = Registry.ms(r.startedAt); r.endedAt = r.endedAt.map(Registry.ms)
            return RunContent(run: r, metrics: metrics, datasets: try datasets(run: run.id).map { var d = $0; d.firstSeenAt = Registry.ms(d.firstSeenAt); return d },
                              links: links)
        }
        let models = try self.models().map { m -> ModelContent in
            let versions = try self.versions(m.name).map { v -> ModelVersion in
                var c = v; c.artifactPath = nil; c.createdAt = Registry.ms(c.createdAt); return c
            }
            for v in versions where artifacts[v.artifactSha256] == nil { artifacts[v.artifactSha256] = try artifact(sha256: v.artifactSha256).size }
            return ModelContent(name: m.name, versions: versions,
                                aliases: try aliases(m.name).map { var a = $0; a.updatedAt = Registry.ms(a.updatedAt); return a },
                                history: try aliasHistory(m.name).map { var e = $0; e.id = nil; e.movedAt = Registry.ms(e.movedAt); return e })
        }
        return Content(runs: runContents, models: models, artifacts: artifacts)
    }

    /// SHA-256 of the canonical JSON of everything in the registry (runs with their metrics,
    /// datasets and links; models with versions, aliases and alias history; artifact hashes
    /// and sizes). Two registries holding the same things give the same digest, whatever store.
    public func contentDigest() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return SHA256.hex(try encoder.encode(try content()))
    }

    /// Copies this (SQLite) registry into an empty PostgreSQL registry `target`, in one
    /// transaction, keeping ids, versions, timestamps and the alias history; every artifact's
    /// bytes are stored again and their hash checked; then both digests are compared.
    ///
    ///     let report = try source.copy(to: try Registry(postgres: url, artifacts: .resolve()))
    public func copy(to target: Registry) throws -> CopyReport {
        guard let pg = target.postgres else { throw RegistryError.invalidValue("migrate-to needs a PostgreSQL registry as the target") }
        let content = try content()
        var report = CopyReport()
        // Artifacts first (outside the transaction: files are content-addressed and harmless if unused).
        var chunked: [String: [[UInt8]]] = [:]
        for (sha, size) in content.artifacts.sorted(by: { $0.key < $1.key }) {
            let (got, gotSize) = try target.store.put(file: store.url(for: sha))
            guard got == sha, gotSize == size else {
                throw RegistryError.storage("artifact \(sha) hashes to \(got) (\(gotSize) bytes) when copied; the source is damaged (mlw registry check)")
            }
            if target.artifactsInDatabase {
                let bytes = [UInt8](try Data(contentsOf: target.store.url(for: sha)))
                chunked[sha] = stride(from: 0, to: bytes.count, by: 1 << 20).map { Array(bytes[$0..<min($0 + (1 << 20), bytes.count)]) }
            }
        }
        try pg.transaction(write: true) { tx in
            guard try tx.row("SELECT 1 AS one FROM run LIMIT 1") == nil, try tx.row("SELECT 1 AS one FROM model LIMIT 1") == nil else {
                throw RegistryError.invalidValue("the target registry \(pg.location) is not empty; migrate-to copies into an empty one")
            }
            let now = Registry.ms(Date())
            for (sha, size) in content.artifacts {
                for (seq, chunk) in (chunked[sha] ?? []).enumerated() {
                    try tx.execute("INSERT INTO artifact_chunk (sha256, seq, data) VALUES ($1, $2, $3)", [.text(sha), .int(seq), .bytes(chunk)])
                }
                try tx.execute("INSERT INTO artifact (sha256, size, stored_at) VALUES ($1, $2, $3)", [.text(sha), .int(Int(size)), .date(now)])
            }
            for rc in content.runs {
                let r = rc.run
                try tx.execute("""
                    INSERT INTO run (id, script, script_sha256, git_commit, params, seed, started_at, ended_at, status, error, host,
                                     mlw_version, pid, process_start)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                    """, [.text(r.id), .text(r.script), .text(r.scriptSha256), .text(r.gitCommit), .text(try Registry.paramsJSON(r.params)),
                          .int(r.seed), .date(r.startedAt), .date(r.endedAt), .text(r.status.rawValue), .text(r.error), .text(r.host),
                          .text(r.mlwVersion), .int(r.pid), .int(r.processStart.map(Int.init))])
            }
            // Links between runs once every run exists (the foreign keys are not deferred).
            for rc in content.runs where rc.run.reproduces != nil || rc.run.parentRun != nil {
                try tx.execute("UPDATE run SET reproduces = $1, parent_run = $2 WHERE id = $3",
                               [.text(rc.run.reproduces), .text(rc.run.parentRun), .text(rc.run.id)])
            }
            for rc in content.runs {
                for m in rc.metrics {
                    try tx.execute("INSERT INTO metric (run_id, key, step, value, logged_at) VALUES ($1, $2, $3, $4, $5)",
                                   [.text(m.runId), .text(m.key), .int(m.step), .double(m.value), .date(m.loggedAt)])
                }
                for d in rc.datasets {
                    try tx.execute("""
                        INSERT INTO dataset (hash, source, rows, schema_json, first_seen_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
                        """, [.text(d.hash), .text(d.source), .int(d.rows), .text(d.schemaJson), .date(d.firstSeenAt)])
                    try tx.execute("INSERT INTO run_dataset (run_id, dataset_hash) VALUES ($1, $2)", [.text(rc.run.id), .text(d.hash)])
                }
                for l in rc.links {
                    try tx.execute("INSERT INTO run_artifact (run_id, artifact_sha256, label) VALUES ($1, $2, $3)",
                                   [.text(l.runId), .text(l.artifactSha256), .text(l.label)])
                }
                report.runs += 1
                report.metricPoints += rc.metrics.count
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            for m in content.models {
                let created = m.versions.map(\.createdAt).min() ?? now
                try tx.execute("INSERT INTO model (name, created_at) VALUES ($1, $2)", [.text(m.name), .date(created)])
                for v in m.versions {
                    try tx.execute("""
                        INSERT INTO model_version (model_name, version, run_id, artifact_sha256, metrics, created_at, kind)
                        VALUES ($1, $2, $3, $4, $5, $6, $7)
                        """, [.text(v.modelName), .int(v.version), .text(v.runId), .text(v.artifactSha256),
                              .text(String(decoding: try encoder.encode(v.metrics), as: UTF8.self)), .date(v.createdAt), .text(v.kind?.rawValue)])
                    report.versions += 1
                }
                for a in m.aliases {
                    try tx.execute("INSERT INTO alias (model_name, alias, version, updated_at) VALUES ($1, $2, $3, $4)",
                                   [.text(a.modelName), .text(a.alias), .int(a.version), .date(a.updatedAt)])
                }
                for e in m.history {
                    try tx.execute("""
                        INSERT INTO alias_event (model_name, alias, old_version, new_version, reason, moved_at) VALUES ($1, $2, $3, $4, $5, $6)
                        """, [.text(e.modelName), .text(e.alias), .int(e.oldVersion), .int(e.newVersion), .text(e.reason.rawValue), .date(e.movedAt)])
                    report.aliasEvents += 1
                }
            }
            report.artifacts = content.artifacts.count
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .millisecondsSince1970
        let source = SHA256.hex(try encoder.encode(content))
        let copied = try target.contentDigest()
        if source != copied, let dump = ProcessInfo.processInfo.environment["MLW_COPY_DUMP"] {
            try? encoder.encode(content).write(to: URL(fileURLWithPath: dump + ".source.json"))
            try? encoder.encode(try target.content()).write(to: URL(fileURLWithPath: dump + ".target.json"))
        }
        guard source == copied else {
            throw RegistryError.storage("the copy's digest \(copied) differs from the source's \(source); the target holds a partial copy")
        }
        report.digest = copied
        return report
    }
}
