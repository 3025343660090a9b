import Foundation
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Where a registry lives: a SQLite root folder (the default) or a PostgreSQL server.
public enum RegistryLocation: Sendable, Equatable {
    case sqlite(root: URL)
    case postgres(PostgresLocation)

    /// `--registry VALUE` or `$MLW_REGISTRY`: a `postgres://` URL, else a root folder; with
    /// neither, `Registry.defaultRoot()` ($MLW_HOME, else ./.mlw).
    public static func resolve(_ option: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RegistryLocation {
        let text = option ?? environment["MLW_REGISTRY"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text else { return .sqlite(root: Registry.defaultRoot(environment: environment)) }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { return .postgres(try PostgresLocation.parse(text)) }
        if text.contains("://") { throw RegistryError.invalidValue("registry '\(text)': only postgres:// URLs or folders are registries") }
        return .sqlite(root: URL(fileURLWithPath: text, isDirectory: true))
    }
}

/// Where a PostgreSQL registry keeps artifact bytes: `$MLW_ARTIFACTS` = a shared folder
/// (NFS, a Kubernetes volume), or `postgres` for `bytea` chunks in the database (a local
/// folder then caches the ones read). Default: `<default root>/artifacts`.
public enum ArtifactPlacement: Sendable, Equatable {
    case folder(URL)
    case database(cache: URL)

    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) -> ArtifactPlacement {
        let root = Registry.defaultRoot(environment: environment)
        switch environment["MLW_ARTIFACTS"] {
        case "postgres"?: return .database(cache: root.appendingPathComponent("artifact-cache", isDirectory: true))
        case let dir? where !dir.isEmpty: return .folder(URL(fileURLWithPath: dir, isDirectory: true))
        default: return .folder(root.appendingPathComponent("artifacts", isDirectory: true))
        }
    }
}

extension Registry {
    /// Opens the registry at `location`, creating or migrating its schema.
    ///
    ///     let registry = try Registry.open(try RegistryLocation.resolve())   // MLW_REGISTRY / MLW_HOME
    public static func open(_ location: RegistryLocation, artifacts: ArtifactPlacement = .resolve()) throws -> Registry {
        switch location {
        case let .sqlite(root): return try Registry.open(root: root)
        case let .postgres(pg): return try Registry(postgres: pg, artifacts: artifacts)
        }
    }

    /// Whether this registry is a PostgreSQL one.
    public var isPostgres: Bool { postgres != nil }

    /// Where the registry is, for messages: the SQLite root folder or the server URL (no password).
    public var locationDescription: String { postgres.map { $0.location.description } ?? root.path }

    /// Opens (creating or migrating) the PostgreSQL registry at `location`.
    public convenience init(postgres location: PostgresLocation, artifacts: ArtifactPlacement, lockWait: TimeInterval? = nil) throws {
        let session = PostgresSession(location)
        try PostgresSchema.migrate(session)
        let directory: URL, inDatabase: Bool
        switch artifacts {
        case let .folder(url): (directory, inDatabase) = (url, false)
        case let .database(cache): (directory, inDatabase) = (cache, true)
        }
        try self.init(session: session, artifacts: directory, inDatabase: inDatabase, lockWait: lockWait)
    }

    // MARK: - Health

    /// `health(repair:)` for PostgreSQL: marks this host's runs whose process is gone, checks
    /// every artifact (its file in the shared folder, or its chunks' total size), and lists
    /// leftovers in the folder.
    func pgHealth(_ pg: PostgresSession, verifyHashes: Bool, repair: Bool) throws -> HealthReport {
        var report = HealthReport()
        let host = Processes.hostName
        let killed: [Run] = try pg.transaction(write: true) { tx in
            var marked: [Run] = []
            for row in try tx.rows("SELECT \(Registry.runColumns) FROM run WHERE status = 'running' AND host = $1 AND pid IS NOT NULL FOR UPDATE",
                                   [.text(host)]) {
                var run = try Registry.decodeRun(row)
                guard let pid = run.pid.flatMap({ Int32(exactly: $0) }), Processes.isGone(pid: pid, startTime: run.processStart) else { continue }
                run.status = .killed
                run.endedAt = Registry.ms(Date())
                run.error = "its process \(pid) on \(host) ended without finishing the run (killed or crashed); found by process \(getpid())"
                try tx.execute("UPDATE run SET status = 'killed', ended_at = $1, error = $2 WHERE id = $3",
                               [.date(run.endedAt), .text(run.error), .text(run.id)])
                marked.append(run)
            }
            return marked
        }
        report.killedRuns = killed.map(Registry.describeKilled)
        let (artifacts, chunkSizes) = try pg.transaction(write: false) { tx in
            (try tx.rows("SELECT sha256, size, stored_at FROM artifact ORDER BY sha256").map(Registry.decodeArtifact),
             Dictionary(uniqueKeysWithValues: try tx.rows("SELECT sha256, SUM(length(data))::bigint AS n FROM artifact_chunk GROUP BY sha256")
                .map { (try $0.get("sha256", String.self), try $0.get("n", Int.self)) }))
        }
        for artifact in artifacts {
            if artifactsInDatabase {
                if chunkSizes[artifact.sha256].map(Int64.init) != artifact.size {
                    report.problems.append("artifact \(artifact.sha256): chunks hold \(chunkSizes[artifact.sha256] ?? 0) bytes, \(artifact.size) recorded")
                }
                continue
            }
            checkArtifactFile(artifact, verifyHashes: verifyHashes, into: &report)
        }
        checkTemporaryFiles(repair: repair, into: &report)
        return report
    }
}
