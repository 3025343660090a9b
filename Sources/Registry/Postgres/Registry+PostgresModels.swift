import Foundation
import PostgresNIO

// The model half of the registry API on PostgreSQL (same contract as Registry+Models.swift).
// Alias moves also `NOTIFY mlw_alias` (delivered at commit) so serving replicas that LISTEN
// switch at once.

extension Registry {
    /// The channel alias moves are announced on; the payload is the model name.
    public static let aliasChannel = "mlw_alias"

    static let versionColumns = "model_name, version, run_id, artifact_sha256, metrics, created_at, kind"

    static func decodeVersion(_ r: PostgresRandomAccessRow) throws -> ModelVersion {
        let metricsText: String = try r.get("metrics")
        return ModelVersion(modelName: try r.get("model_name"), version: try r.get("version"), runId: try r.get("run_id"),
                            artifactSha256: try r.get("artifact_sha256"),
                            metrics: try JSONDecoder().decode([String: Double].self, from: Data(metricsText.utf8)),
                            createdAt: try r.get("created_at"),
                            kind: try r.get("kind", String?.self).flatMap(ArtifactKind.init(rawValue:)))
    }

    static func decodeAliasEvent(_ r: PostgresRandomAccessRow) throws -> AliasEvent {
        AliasEvent(id: Int64(try r.get("id", Int.self)), modelName: try r.get("model_name"), alias: try r.get("alias"),
                   oldVersion: try r.get("old_version"), newVersion: try r.get("new_version"),
                   reason: AliasMoveReason(rawValue: try r.get("reason")) ?? .set, movedAt: try r.get("moved_at"))
    }

    /// Records an artifact whose bytes are complete (in the shared folder, or in `chunks`
    /// when the bytes live in the database: those go in the same transaction as the row).
    func pgRecordArtifact(_ pg: PostgresSession, sha: String, size: Int64, run: RunID?, label: String,
                          chunks: (() throws -> [[UInt8]])?) throws -> Artifact? {
        try pg.transaction(write: true) { tx in
            let exists = try tx.row("SELECT 1 AS one FROM artifact WHERE sha256 = $1", [.text(sha)]) != nil
            if !exists {
                if let chunks {
                    try tx.execute("DELETE FROM artifact_chunk WHERE sha256 = $1", [.text(sha)])
                    for (seq, chunk) in try chunks().enumerated() {
                        try tx.execute("INSERT INTO artifact_chunk (sha256, seq, data) VALUES ($1, $2, $3)",
                                       [.text(sha), .int(seq), .bytes(chunk)])
                    }
                } else if store.fileSize(store.url(for: sha)) != size {
                    return nil
                }
                try tx.execute("INSERT INTO artifact (sha256, size, stored_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                               [.text(sha), .int(Int(size)), .date(Registry.ms(Date()))])
            }
            if let run {
                try tx.execute("INSERT INTO run_artifact (run_id, artifact_sha256, label) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                               [.text(try pgResolveRunID(tx, run)), .text(sha), .text(label)])
            }
            let row = try tx.row("SELECT sha256, size, stored_at FROM artifact WHERE sha256 = $1", [.text(sha)])!
            return withPath(try Registry.decodeArtifact(row))
        }
    }

    func pgArtifact(_ pg: PostgresSession, sha256: String) throws -> Artifact {
        try pg.transaction(write: false) { tx in
            guard let row = try tx.row("SELECT sha256, size, stored_at FROM artifact WHERE sha256 = $1", [.text(sha256.lowercased())]) else {
                throw RegistryError.unknownArtifact(sha256)
            }
            return withPath(try Registry.decodeArtifact(row))
        }
    }

    /// Writes a database-held artifact into the local cache folder (content-addressed, so
    /// concurrent readers agree), when it is not there yet.
    func pgMaterialize(_ pg: PostgresSession, sha256: String) throws {
        guard artifactsInDatabase else { return }
        let sha = sha256.lowercased()
        let expected = try pg.transaction(write: false) { tx in
            try tx.row("SELECT size FROM artifact WHERE sha256 = $1", [.text(sha)])?.get("size", Int.self)
        }
        guard let expected, store.fileSize(store.url(for: sha)) != Int64(expected) else { return }
        var bytes = Data()
        try pg.transaction(write: false) { tx in
            for row in try tx.rows("SELECT data FROM artifact_chunk WHERE sha256 = $1 ORDER BY seq", [.text(sha)]) {
                var buffer: ByteBuffer = try row.get("data")
                bytes.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            }
        }
        let (got, _) = try store.put(bytes: bytes)
        guard got == sha else { throw RegistryError.storage("artifact \(sha) read back from PostgreSQL hashes to \(got)") }
    }

    func pgRegister(_ pg: PostgresSession, _ artifact: Artifact, name: String, run: RunID?, metricsJSON: String,
                    metrics: [String: Double], alias: String?, kind: ArtifactKind?) throws -> ModelVersion {
        try pg.transaction(write: true) { tx in
            guard try tx.row("SELECT 1 AS one FROM artifact WHERE sha256 = $1", [.text(artifact.sha256)]) != nil else {
                throw RegistryError.unknownArtifact(artifact.sha256)
            }
            let runID = try run.map { try pgResolveRunID(tx, $0) }
            let now = Registry.ms(Date())
            try tx.execute("INSERT INTO model (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.text(name), .date(now)])
            let next = try tx.row("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_version WHERE model_name = $1",
                                  [.text(name)])!.get("next", Int.self)
            try tx.execute("""
                INSERT INTO model_version (model_name, version, run_id, artifact_sha256, metrics, created_at, kind)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, [.text(name), .int(next), .text(runID), .text(artifact.sha256), .text(metricsJSON), .date(now), .text(kind?.rawValue)])
            if let alias { try pgMoveAlias(tx, name: name, alias: alias, to: next, reason: .set) }
            return withPath(ModelVersion(modelName: name, version: next, runId: runID, artifactSha256: artifact.sha256,
                                         metrics: metrics, createdAt: now, kind: kind))
        }
    }

    func pgResolve(_ pg: PostgresSession, _ reference: ModelReference) throws -> ModelVersion {
        let version = try pg.transaction(write: false) { tx in withPath(try pgFetchVersion(tx, reference)) }
        try pgMaterialize(pg, sha256: version.artifactSha256)
        return version
    }

    func pgSetAlias(_ pg: PostgresSession, _ name: String, alias: String, version: Int) throws -> AliasEvent {
        try pg.transaction(write: true) { tx in
            _ = try pgFetchVersion(tx, .version(model: name, version: version))
            return try pgMoveAlias(tx, name: name, alias: alias, to: version, reason: .set)
        }
    }

    func pgRollback(_ pg: PostgresSession, _ name: String, alias: String) throws -> AliasEvent {
        try pg.transaction(write: true) { tx in
            _ = try pgFetchVersion(tx, .alias(model: name, alias: alias))
            let events = try tx.rows("SELECT * FROM alias_event WHERE model_name = $1 AND alias = $2 ORDER BY id DESC",
                                     [.text(name), .text(alias)]).map(Registry.decodeAliasEvent)
            var pendingUndos = 0
            for event in events {
                if event.reason == .rollback { pendingUndos += 1; continue }
                if pendingUndos > 0 { pendingUndos -= 1; continue }
                guard let target = event.oldVersion else { break }
                return try pgMoveAlias(tx, name: name, alias: alias, to: target, reason: .rollback)
            }
            throw RegistryError.nothingToRollBack(model: name, alias: alias)
        }
    }

    func pgModels(_ pg: PostgresSession) throws -> [ModelSummary] {
        try pg.transaction(write: false) { tx in
            let rows = try tx.rows("""
                SELECT model.name, model.created_at, MAX(v.version) AS latest, COUNT(v.version) AS n, MAX(v.created_at) AS updated
                FROM model JOIN model_version v ON v.model_name = model.name
                GROUP BY model.name, model.created_at ORDER BY model.name
                """)
            let aliases = try tx.rows("SELECT model_name, alias, version FROM alias")
                .map { (try $0.get("model_name", String.self), try $0.get("alias", String.self), try $0.get("version", Int.self)) }
            return try rows.map { row in
                let name: String = try row.get("name")
                let mine = aliases.filter { $0.0 == name }
                return ModelSummary(name: name, latestVersion: try row.get("latest"), versionCount: try row.get("n"),
                                    aliases: Dictionary(uniqueKeysWithValues: mine.map { ($0.1, $0.2) }),
                                    createdAt: try row.get("created_at"), updatedAt: try row.get("updated"))
            }
        }
    }

    func pgVersions(_ pg: PostgresSession, _ name: String) throws -> [ModelVersion] {
        try pg.transaction(write: false) { tx in
            try pgRequireModel(tx, name)
            return try tx.rows("SELECT \(Registry.versionColumns) FROM model_version WHERE model_name = $1 ORDER BY version",
                               [.text(name)]).map { withPath(try Registry.decodeVersion($0)) }
        }
    }

    func pgAliases(_ pg: PostgresSession, _ name: String) throws -> [Alias] {
        try pg.transaction(write: false) { tx in
            try pgRequireModel(tx, name)
            return try tx.rows("SELECT model_name, alias, version, updated_at FROM alias WHERE model_name = $1 ORDER BY alias",
                               [.text(name)]).map {
                Alias(modelName: try $0.get("model_name"), alias: try $0.get("alias"), version: try $0.get("version"),
                      updatedAt: try $0.get("updated_at"))
            }
        }
    }

    func pgAliasHistory(_ pg: PostgresSession, _ name: String, alias: String?) throws -> [AliasEvent] {
        try pg.transaction(write: false) { tx in
            try pgRequireModel(tx, name)
            if let alias {
                return try tx.rows("SELECT * FROM alias_event WHERE model_name = $1 AND alias = $2 ORDER BY id",
                                   [.text(name), .text(alias)]).map(Registry.decodeAliasEvent)
            }
            return try tx.rows("SELECT * FROM alias_event WHERE model_name = $1 ORDER BY id", [.text(name)]).map(Registry.decodeAliasEvent)
        }
    }

    // MARK: - Helpers

    private func pgRequireModel(_ tx: PGTx, _ name: String) throws {
        try RegistryName.validate(name, kind: "model")
        guard try tx.row("SELECT 1 AS one FROM model WHERE name = $1", [.text(name)]) != nil else { throw RegistryError.unknownModel(name) }
    }

    func pgFetchVersion(_ tx: PGTx, _ reference: ModelReference) throws -> ModelVersion {
        try pgRequireModel(tx, reference.model)
        switch reference {
        case let .latest(name):
            guard let row = try tx.row("SELECT \(Registry.versionColumns) FROM model_version WHERE model_name = $1 ORDER BY version DESC LIMIT 1",
                                       [.text(name)]) else { throw RegistryError.unknownModel(name) }
            return try Registry.decodeVersion(row)
        case let .version(name, number):
            guard let row = try tx.row("SELECT \(Registry.versionColumns) FROM model_version WHERE model_name = $1 AND version = $2",
                                       [.text(name), .int(number)]) else {
                throw RegistryError.unknownVersion(model: name, version: number)
            }
            return try Registry.decodeVersion(row)
        case let .alias(name, alias):
            guard let row = try tx.row("SELECT version FROM alias WHERE model_name = $1 AND alias = $2", [.text(name), .text(alias)]) else {
                throw RegistryError.unknownAlias(model: name, alias: alias)
            }
            return try pgFetchVersion(tx, .version(model: name, version: try row.get("version")))
        }
    }

    @discardableResult
    private func pgMoveAlias(_ tx: PGTx, name: String, alias: String, to version: Int, reason: AliasMoveReason) throws -> AliasEvent {
        let now = Registry.ms(Date())
        let old = try tx.row("SELECT version FROM alias WHERE model_name = $1 AND alias = $2", [.text(name), .text(alias)])?
            .get("version", Int.self)
        try tx.execute("""
            INSERT INTO alias (model_name, alias, version, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (model_name, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
            """, [.text(name), .text(alias), .int(version), .date(now)])
        let id = try tx.row("""
            INSERT INTO alias_event (model_name, alias, old_version, new_version, reason, moved_at)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
            """, [.text(name), .text(alias), .int(old), .int(version), .text(reason.rawValue), .date(now)])!.get("id", Int.self)
        try tx.execute("SELECT pg_notify($1, $2)", [.text(Registry.aliasChannel), .text(name)])
        return AliasEvent(id: Int64(id), modelName: name, alias: alias, oldVersion: old, newVersion: version, reason: reason, movedAt: now)
    }
}
