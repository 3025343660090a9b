import Foundation
import GRDB

/// One line of `models()`: a model name with its latest version and aliases.
public struct ModelSummary: Codable, Sendable, Equatable {
    public var name: String
    public var latestVersion: Int
    public var versionCount: Int
    /// alias -> version
    public var aliases: [String: Int]
    public var createdAt: Date
    public var updatedAt: Date
}

extension Registry {
    // MARK: - Artifacts

    /// Copies a file into the artifact store (crash-safe, deduplicated by hash) and records
    /// it, linked to `run` when given.
    ///
    ///     let a = try registry.storeArtifact(file: URL(fileURLWithPath: "model.safetensors"), run: id)
    @discardableResult
    public func storeArtifact(file: URL, run: RunID? = nil, label: String = "") throws -> Artifact {
        var (sha, size) = try store.put(file: file)
        if let a = try recordArtifact(sha: sha, size: size, run: run, label: label) { return a }
        (sha, size) = try store.put(file: file)   // `check --repair` removed it meanwhile: once more
        guard let a = try recordArtifact(sha: sha, size: size, run: run, label: label) else { throw vanished(sha) }
        return a
    }

    /// Stores bytes as an artifact; see `storeArtifact(file:run:label:)`.
    @discardableResult
    public func storeArtifact(bytes: Data, run: RunID? = nil, label: String = "") throws -> Artifact {
        var (sha, size) = try store.put(bytes: bytes)
        if let a = try recordArtifact(sha: sha, size: size, run: run, label: label) { return a }
        (sha, size) = try store.put(bytes: bytes)
        guard let a = try recordArtifact(sha: sha, size: size, run: run, label: label) else { throw vanished(sha) }
        return a
    }

    private func vanished(_ sha: String) -> RegistryError {
        .storage("artifact file \(store.url(for: sha).path) vanished twice while being recorded")
    }

    /// The stored artifact with this SHA-256.
    public func artifact(sha256: String) throws -> Artifact {
        if let postgres { return try pgArtifact(postgres, sha256: sha256) }
        return try read { db in
            guard let a = try Artifact.fetchOne(db, key: sha256.lowercased()) else { throw RegistryError.unknownArtifact(sha256) }
            return withPath(a)
        }
    }

    /// Where the artifact with this hash lives (whether or not it is stored).
    public func artifactURL(sha256: String) -> URL { store.url(for: sha256) }

    // The row goes in only now that the file sits complete under its hash name. The file is
    // checked again inside the transaction: `check --repair` deletes unreferenced files
    // inside one too, so either it saw this row or this sees the file gone (nil: put again).
    private func recordArtifact(sha: String, size: Int64, run: RunID?, label: String) throws -> Artifact? {
        if let postgres {
            // In-database artifacts: the bytes of the cached file, in chunks, in the row's transaction.
            let url = store.url(for: sha)
            var chunks: (() throws -> [[UInt8]])?
            if artifactsInDatabase {
                chunks = {
                    let bytes = [UInt8](try Data(contentsOf: url))
                    return stride(from: 0, to: bytes.count, by: 1 << 20).map { Array(bytes[$0..<min($0 + (1 << 20), bytes.count)]) }
                }
            }
            return try pgRecordArtifact(postgres, sha: sha, size: size, run: run, label: label, chunks: chunks)
        }
        // Plain SQL (columns as in `Artifact`, `RunArtifact`): every `mlw run` stores its script.
        return try write { db in
            let exists = try Int.fetchOne(db, sql: "SELECT 1 FROM artifact WHERE sha256 = ?", arguments: [sha]) != nil
            guard exists || store.fileSize(store.url(for: sha)) == size else { return nil }
            try db.execute(sql: "INSERT OR IGNORE INTO artifact (sha256, size, stored_at) VALUES (?, ?, ?)",
                           arguments: [sha, size, Registry.timestamp(Date())])
            if let run {
                try db.execute(sql: "INSERT OR IGNORE INTO run_artifact (run_id, artifact_sha256, label) VALUES (?, ?, ?)",
                               arguments: [try resolveRunID(db, run), sha, label])
            }
            let row = try Row.fetchOne(db, sql: "SELECT size, stored_at FROM artifact WHERE sha256 = ?", arguments: [sha])!
            let stored: String = row[1]
            return withPath(Artifact(sha256: sha, size: row[0], storedAt: Registry.date(timestamp: stored) ?? row[1]))
        }
    }

    // MARK: - Registering and resolving

    /// Registers `artifact` as the next version of model `name` (1 for a new name), and
    /// points `alias` at it when given — all in one transaction.
    ///
    ///     let v = try registry.register(artifact, name: "digits", run: id, metrics: ["acc": 0.97], alias: "staging")
    public func register(_ artifact: Artifact, name: String, run: RunID? = nil,
                         metrics: [String: Double] = [:], alias: String? = nil, kind: ArtifactKind? = nil) throws -> ModelVersion {
        try RegistryName.validate(name, kind: "model")
        if let alias { try RegistryName.validate(alias, kind: "alias") }
        if let bad = metrics.first(where: { !$0.value.isFinite }) {
            throw RegistryError.invalidValue("metric '\(bad.key)' is \(bad.value); only finite values can be registered")
        }
        if let postgres {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return try pgRegister(postgres, artifact, name: name, run: run, metricsJSON: String(decoding: try encoder.encode(metrics), as: UTF8.self),
                                  metrics: metrics, alias: alias, kind: kind)
        }
        return try write { db in
            guard try Artifact.exists(db, key: artifact.sha256) else { throw RegistryError.unknownArtifact(artifact.sha256) }
            let runID = try run.map { try resolveRunID(db, $0) }
            let now = Date()
            try Model(name: name, createdAt: now).insert(db, onConflict: .ignore)
            let next = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) + 1 FROM model_version WHERE model_name = ?",
                                        arguments: [name]) ?? 1
            let version = ModelVersion(modelName: name, version: next, runId: runID, artifactSha256: artifact.sha256,
                                       metrics: metrics, createdAt: now, kind: kind)
            try version.insert(db)
            if let alias { try moveAlias(db, name: name, alias: alias, to: next, reason: .set) }
            return withPath(version)
        }
    }

    /// Stores `file` as an artifact of `run` (label "model") and registers it: the one
    /// call behind MLW's `register(model, name: ...)`.
    ///
    ///     let v = try registry.register(file: weightsURL, name: "digits", run: id, alias: "staging")
    public func register(file: URL, name: String, run: RunID? = nil,
                         metrics: [String: Double] = [:], alias: String? = nil, kind: ArtifactKind? = nil) throws -> ModelVersion {
        try RegistryName.validate(name, kind: "model")
        let artifact = try storeArtifact(file: file, run: run, label: "model")
        return try register(artifact, name: name, run: run, metrics: metrics, alias: alias, kind: kind)
    }

    /// Resolves `name`, `name:VERSION` or `name@ALIAS` to a version, with its artifact path.
    ///
    ///     let v = try registry.resolve("iris@production"); print(v.artifactPath!)
    public func resolve(_ reference: String) throws -> ModelVersion {
        try resolve(try ModelReference.parse(reference))
    }

    /// Resolves a parsed reference.
    public func resolve(_ reference: ModelReference) throws -> ModelVersion {
        if let postgres { return try pgResolve(postgres, reference) }
        return try read { db in withPath(try fetchVersion(db, reference)) }
    }

    /// Points `name@alias` at `version` and records the move in the audit trail.
    ///
    ///     try registry.setAlias("iris", alias: "production", version: 3)
    @discardableResult
    public func setAlias(_ name: String, alias: String, version: Int) throws -> AliasEvent {
        try RegistryName.validate(alias, kind: "alias")
        if let postgres { return try pgSetAlias(postgres, name, alias: alias, version: version) }
        return try write { db in
            _ = try fetchVersion(db, .version(model: name, version: version))
            return try moveAlias(db, name: name, alias: alias, to: version, reason: .set)
        }
    }

    /// Undoes the latest `set` of `name@alias` not yet undone: the alias goes back to the
    /// version it pointed to before. Repeated rollbacks walk further back; throws
    /// `nothingToRollBack` when the alias has no earlier version.
    ///
    ///     try registry.rollback("iris", alias: "production")
    @discardableResult
    public func rollback(_ name: String, alias: String) throws -> AliasEvent {
        if let postgres { return try pgRollback(postgres, name, alias: alias) }
        return try write { db in
            _ = try fetchVersion(db, .alias(model: name, alias: alias))
            let events = try AliasEvent.filter(Column("model_name") == name && Column("alias") == alias)
                .order(Column("id").desc).fetchAll(db)
            // Each rollback event cancels the newest set event not already cancelled.
            var pendingUndos = 0
            for event in events {
                if event.reason == .rollback { pendingUndos += 1; continue }
                if pendingUndos > 0 { pendingUndos -= 1; continue }
                guard let target = event.oldVersion else { break }
                return try moveAlias(db, name: name, alias: alias, to: target, reason: .rollback)
            }
            throw RegistryError.nothingToRollBack(model: name, alias: alias)
        }
    }

    // MARK: - Listing

    /// All models, by name.
    public func models() throws -> [ModelSummary] {
        if let postgres { return try pgModels(postgres) }
        return try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT model.name, model.created_at, MAX(v.version) AS latest, COUNT(v.version) AS n, MAX(v.created_at) AS updated
                FROM model JOIN model_version v ON v.model_name = model.name
                GROUP BY model.name ORDER BY model.name
                """)
            let aliases = try Alias.fetchAll(db)
            return rows.map { row in
                let name: String = row["name"]
                let mine = aliases.filter { $0.modelName == name }
                return ModelSummary(name: name, latestVersion: row["latest"], versionCount: row["n"],
                                    aliases: Dictionary(uniqueKeysWithValues: mine.map { ($0.alias, $0.version) }),
                                    createdAt: row["created_at"], updatedAt: row["updated"])
            }
        }
    }

    /// Every version of a model, oldest first.
    public func versions(_ name: String) throws -> [ModelVersion] {
        if let postgres { return try pgVersions(postgres, name) }
        return try read { db in
            try requireModel(db, name)
            return try ModelVersion.filter(Column("model_name") == name).order(Column("version")).fetchAll(db).map(withPath)
        }
    }

    /// Current aliases of a model, by alias name.
    public func aliases(_ name: String) throws -> [Alias] {
        if let postgres { return try pgAliases(postgres, name) }
        return try read { db in
            try requireModel(db, name)
            return try Alias.filter(Column("model_name") == name).order(Column("alias")).fetchAll(db)
        }
    }

    /// The audit trail of a model's aliases (or of one alias), oldest first.
    public func aliasHistory(_ name: String, alias: String? = nil) throws -> [AliasEvent] {
        if let postgres { return try pgAliasHistory(postgres, name, alias: alias) }
        return try read { db in
            try requireModel(db, name)
            var request = AliasEvent.filter(Column("model_name") == name)
            if let alias { request = request.filter(Column("alias") == alias) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    // MARK: - Helpers

    func withPath(_ artifact: Artifact) -> Artifact {
        var a = artifact
        a.path = store.url(for: a.sha256).path
        return a
    }

    func withPath(_ version: ModelVersion) -> ModelVersion {
        var v = version
        v.artifactPath = store.url(for: v.artifactSha256).path
        return v
    }

    private func requireModel(_ db: Database, _ name: String) throws {
        try RegistryName.validate(name, kind: "model")
        guard try Model.exists(db, key: name) else { throw RegistryError.unknownModel(name) }
    }

    func fetchVersion(_ db: Database, _ reference: ModelReference) throws -> ModelVersion {
        try requireModel(db, reference.model)
        switch reference {
        case let .latest(name):
            guard let v = try ModelVersion.filter(Column("model_name") == name).order(Column("version").desc).fetchOne(db) else {
                throw RegistryError.unknownModel(name)
            }
            return v
        case let .version(name, number):
            guard let v = try ModelVersion.fetchOne(db, key: ["model_name": name, "version": number]) else {
                throw RegistryError.unknownVersion(model: name, version: number)
            }
            return v
        case let .alias(name, alias):
            guard let a = try Alias.fetchOne(db, key: ["model_name": name, "alias": alias]) else {
                throw RegistryError.unknownAlias(model: name, alias: alias)
            }
            return try fetchVersion(db, .version(model: name, version: a.version))
        }
    }

    @discardableResult
    private func moveAlias(_ db: Database, name: String, alias: String, to version: Int, reason: AliasMoveReason) throws -> AliasEvent {
        let now = Date()
        let old = try Alias.fetchOne(db, key: ["model_name": name, "alias": alias])?.version
        try Alias(modelName: name, alias: alias, version: version, updatedAt: now).insert(db, onConflict: .replace)
        var event = AliasEvent(id: nil, modelName: name, alias: alias, oldVersion: old, newVersion: version,
                               reason: reason, movedAt: now)
        try event.insert(db)
        event.id = db.lastInsertedRowID
        return event
    }
}
