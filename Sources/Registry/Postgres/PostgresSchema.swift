import Foundation

/// The PostgreSQL registry's schema: versioned, append-only migrations recorded in
/// `mlw_migration`, with the same tables, columns and constraints as the SQLite schema
/// (`RegistrySchema`, up to `v5-run-parent`). A released migration is never edited; changes
/// come as a new one appended to `migrations`.
public enum PostgresSchema {
    /// Every migration this build knows, in order: (identifier, SQL).
    static let migrations: [(id: String, sql: String)] = [("pg1-initial", v1), ("pg2-artifact-chunks", v2)]

    public static var migrationIdentifiers: [String] { migrations.map(\.id) }

    /// Key of the advisory lock that serializes migrations between processes ("MLWR").
    static let lockKey = 0x4D4C_5752

    /// Applies the missing migrations; throws `newerSchema` when the database has ones this
    /// build does not know.
    static func migrate(_ session: PostgresSession) throws {
        try session.transaction(write: true) { tx in
            // Serializes concurrent openers of a fresh database; released at commit.
            try tx.execute("SELECT pg_advisory_xact_lock($1)", [.int(lockKey)])
            try tx.execute("CREATE TABLE IF NOT EXISTS mlw_migration (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let applied = Set(try tx.rows("SELECT id FROM mlw_migration").map { try $0.get("id", String.self) })
            let unknown = applied.subtracting(migrationIdentifiers)
            if !unknown.isEmpty {
                throw RegistryError.newerSchema(path: session.location.description, unknownMigrations: unknown.sorted())
            }
            for migration in migrations where !applied.contains(migration.id) {
                try tx.script(migration.sql)
                try tx.execute("INSERT INTO mlw_migration (id) VALUES ($1)", [.text(migration.id)])
            }
        }
    }

    private static func name(_ column: String) -> String { "CHECK (\(column) ~ '^[A-Za-z][A-Za-z0-9_.-]{0,63}$')" }
    private static func hash(_ column: String) -> String { "CHECK (\(column) ~ '^[0-9a-f]{64}$')" }

    private static let v1 = """
        CREATE TABLE run (
          id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{12}$'),
          script text NOT NULL,
          script_sha256 text NOT NULL \(hash("script_sha256")),
          git_commit text,
          params text NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params::jsonb) = 'object'),
          seed bigint,
          started_at timestamptz NOT NULL,
          ended_at timestamptz,
          status text NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'killed')),
          error text,
          host text NOT NULL,
          mlw_version text NOT NULL,
          pid bigint CHECK (pid > 0),
          process_start bigint,
          reproduces text REFERENCES run(id),
          parent_run text REFERENCES run(id) CHECK (parent_run <> id),
          CHECK ((status = 'running') = (ended_at IS NULL))
        );
        CREATE INDEX run_started ON run(started_at);
        CREATE INDEX run_running ON run(host) WHERE status = 'running';
        CREATE INDEX run_reproduces ON run(reproduces) WHERE reproduces IS NOT NULL;
        CREATE INDEX run_parent ON run(parent_run) WHERE parent_run IS NOT NULL;

        CREATE TABLE metric (
          run_id text NOT NULL REFERENCES run(id) ON DELETE CASCADE,
          key text NOT NULL \(name("key")),
          step bigint NOT NULL CHECK (step >= 0),
          value double precision NOT NULL CHECK (value <> 'NaN'),
          logged_at timestamptz NOT NULL,
          PRIMARY KEY (run_id, key, step)
        );

        CREATE TABLE dataset (
          hash text PRIMARY KEY CHECK (length(hash) BETWEEN 1 AND 128),
          source text NOT NULL,
          rows bigint NOT NULL CHECK (rows >= 0),
          schema_json text NOT NULL CHECK (schema_json::jsonb IS NOT NULL),
          first_seen_at timestamptz NOT NULL
        );

        CREATE TABLE run_dataset (
          run_id text NOT NULL REFERENCES run(id) ON DELETE CASCADE,
          dataset_hash text NOT NULL REFERENCES dataset(hash),
          PRIMARY KEY (run_id, dataset_hash)
        );
        CREATE INDEX run_dataset_by_hash ON run_dataset(dataset_hash);

        CREATE TABLE artifact (
          sha256 text PRIMARY KEY \(hash("sha256")),
          size bigint NOT NULL CHECK (size >= 0),
          stored_at timestamptz NOT NULL
        );

        CREATE TABLE run_artifact (
          run_id text NOT NULL REFERENCES run(id) ON DELETE CASCADE,
          artifact_sha256 text NOT NULL REFERENCES artifact(sha256),
          label text NOT NULL DEFAULT '',
          PRIMARY KEY (run_id, artifact_sha256, label)
        );

        CREATE TABLE model (
          name text PRIMARY KEY \(name("name")),
          created_at timestamptz NOT NULL
        );

        CREATE TABLE model_version (
          model_name text NOT NULL REFERENCES model(name),
          version bigint NOT NULL CHECK (version >= 1),
          run_id text REFERENCES run(id),
          artifact_sha256 text NOT NULL REFERENCES artifact(sha256),
          metrics text NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics::jsonb) = 'object'),
          created_at timestamptz NOT NULL,
          kind text CHECK (kind IN ('model', 'file')),
          PRIMARY KEY (model_name, version)
        );
        CREATE INDEX model_version_by_run ON model_version(run_id);

        CREATE TABLE alias (
          model_name text NOT NULL,
          alias text NOT NULL \(name("alias")),
          version bigint NOT NULL,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (model_name, alias),
          FOREIGN KEY (model_name, version) REFERENCES model_version(model_name, version)
        );

        CREATE TABLE alias_event (
          id bigserial PRIMARY KEY,
          model_name text NOT NULL REFERENCES model(name),
          alias text NOT NULL \(name("alias")),
          old_version bigint,
          new_version bigint NOT NULL,
          reason text NOT NULL CHECK (reason IN ('set', 'rollback')),
          moved_at timestamptz NOT NULL,
          FOREIGN KEY (model_name, new_version) REFERENCES model_version(model_name, version),
          FOREIGN KEY (model_name, old_version) REFERENCES model_version(model_name, version)
        );
        CREATE INDEX alias_event_by_alias ON alias_event(model_name, alias, id);
        """

    // Artifacts kept in the database itself (MLW_ARTIFACTS=postgres): the bytes in chunks of
    // at most 1 MiB, numbered from 0. The artifact row is inserted in the same transaction
    // as its last chunk, so a version never points at a partial artifact.
    private static let v2 = """
        CREATE TABLE artifact_chunk (
          sha256 text NOT NULL \(hash("sha256")),
          seq integer NOT NULL CHECK (seq >= 0),
          data bytea NOT NULL CHECK (length(data) BETWEEN 1 AND 1048576),
          PRIMARY KEY (sha256, seq)
        );
        """
}
