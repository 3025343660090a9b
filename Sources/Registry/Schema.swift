import Foundation
import GRDB

/// The registry's schema: append-only migrations plus the file marks that tell our
/// databases apart from every other SQLite file.
///
/// Policy: a released migration is never edited or removed; changes come as a new
/// migration appended to `migrator`. `user_version` counts the applied migrations.
public enum RegistrySchema {
    /// `PRAGMA application_id` of every registry database: the ASCII bytes "MLWR".
    public static let applicationID: Int32 = 0x4D4C_5752

    /// Identifiers of the migrations this build knows, in order.
    public static var migrationIdentifiers: [String] { ["v1-initial", "v2-run-process", "v3-version-kind", "v4-run-reproduces", "v5-run-parent"] }

    /// The migrator that creates and upgrades the schema.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial") { db in
            try db.execute(sql: v1)
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        // Runs record the process (pid and its start time) that runs them, so a later
        // process can mark runs whose process is gone as `killed`. SQLite cannot change a
        // CHECK in place: the table is rebuilt (foreign keys are off during a migration;
        // GRDB checks them before committing).
        migrator.registerMigration("v2-run-process") { db in
            try db.execute(sql: v2)
            try db.execute(sql: "PRAGMA user_version = 2")
        }
        // What a version's artifact is, checked when it was registered: 'model' (a model
        // file that loads), 'file' (any other file; `mlw serve` refuses it at once), or
        // NULL (registered before v3, or through the Swift API without a kind).
        migrator.registerMigration("v3-version-kind") { db in
            try db.execute(sql: "ALTER TABLE model_version ADD COLUMN kind TEXT CHECK (kind IN ('model', 'file'))")
            try db.execute(sql: "PRAGMA user_version = 3")
        }
        // A run made by `mlw reproduce` names the run it reproduces (NULL for every other
        // run), so listings can show the link and the original can list its reproductions.
        migrator.registerMigration("v4-run-reproduces") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN reproduces TEXT REFERENCES run(id)")
            try db.execute(sql: "CREATE INDEX run_reproduces ON run(reproduces) WHERE reproduces IS NOT NULL")
            try db.execute(sql: "PRAGMA user_version = 4")
        }
        // A child run names its parent (a grid search's trials name the search's run); NULL
        // for a top-level run. A run cannot be its own parent.
        migrator.registerMigration("v5-run-parent") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN parent_run TEXT REFERENCES run(id) CHECK (parent_run <> id)")
            try db.execute(sql: "CREATE INDEX run_parent ON run(parent_run) WHERE parent_run IS NOT NULL")
            try db.execute(sql: "PRAGMA user_version = 5")
        }
        return migrator
    }

    // The naming rule as a CHECK: starts with a letter, at most 64 characters, only
    // letters, digits, '_', '.', '-'. GLOB is case sensitive and binds nothing at runtime.
    private static func nameCheck(_ column: String) -> String {
        "CHECK (length(\(column)) BETWEEN 1 AND 64 AND \(column) GLOB '[A-Za-z]*' AND \(column) NOT GLOB '*[^A-Za-z0-9_.-]*')"
    }

    private static func hashCheck(_ column: String) -> String {
        "CHECK (length(\(column)) = 64 AND \(column) NOT GLOB '*[^0-9a-f]*')"
    }

    private static let v2 = """
        CREATE TABLE run_v2 (
          id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 12 AND id NOT GLOB '*[^0-9a-f]*'),
          script TEXT NOT NULL,
          script_sha256 TEXT NOT NULL \(hashCheck("script_sha256")),
          git_commit TEXT,
          params TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params) AND json_type(params) = 'object'),
          seed INTEGER,
          started_at DATETIME NOT NULL,
          ended_at DATETIME,
          status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'killed')),
          error TEXT,
          host TEXT NOT NULL,
          mlw_version TEXT NOT NULL,
          pid INTEGER CHECK (pid > 0),
          process_start INTEGER,
          CHECK ((status = 'running') = (ended_at IS NULL))
        );
        INSERT INTO run_v2 (id, script, script_sha256, git_commit, params, seed, started_at, ended_at, status, error, host, mlw_version)
          SELECT id, script, script_sha256, git_commit, params, seed, started_at, ended_at, status, error, host, mlw_version FROM run;
        DROP TABLE run;
        ALTER TABLE run_v2 RENAME TO run;
        CREATE INDEX run_started ON run(started_at);
        CREATE INDEX run_running ON run(host) WHERE status = 'running';
        """

    private static let v1 = """
        CREATE TABLE run (
          id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 12 AND id NOT GLOB '*[^0-9a-f]*'),
          script TEXT NOT NULL,
          script_sha256 TEXT NOT NULL \(hashCheck("script_sha256")),
          git_commit TEXT,
          params TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params) AND json_type(params) = 'object'),
          seed INTEGER,
          started_at DATETIME NOT NULL,
          ended_at DATETIME,
          status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
          error TEXT,
          host TEXT NOT NULL,
          mlw_version TEXT NOT NULL,
          CHECK ((status = 'running') = (ended_at IS NULL))
        );
        CREATE INDEX run_started ON run(started_at);

        CREATE TABLE metric (
          run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
          key TEXT NOT NULL \(nameCheck("key")),
          step INTEGER NOT NULL CHECK (step >= 0),
          value REAL NOT NULL,
          logged_at DATETIME NOT NULL,
          PRIMARY KEY (run_id, key, step)
        ) WITHOUT ROWID;

        CREATE TABLE dataset (
          hash TEXT PRIMARY KEY NOT NULL CHECK (length(hash) BETWEEN 1 AND 128),
          source TEXT NOT NULL,
          rows INTEGER NOT NULL CHECK (rows >= 0),
          schema_json TEXT NOT NULL CHECK (json_valid(schema_json)),
          first_seen_at DATETIME NOT NULL
        );

        CREATE TABLE run_dataset (
          run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
          dataset_hash TEXT NOT NULL REFERENCES dataset(hash),
          PRIMARY KEY (run_id, dataset_hash)
        ) WITHOUT ROWID;
        CREATE INDEX run_dataset_by_hash ON run_dataset(dataset_hash);

        CREATE TABLE artifact (
          sha256 TEXT PRIMARY KEY NOT NULL \(hashCheck("sha256")),
          size INTEGER NOT NULL CHECK (size >= 0),
          stored_at DATETIME NOT NULL
        );

        CREATE TABLE run_artifact (
          run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
          artifact_sha256 TEXT NOT NULL REFERENCES artifact(sha256),
          label TEXT NOT NULL DEFAULT '',
          PRIMARY KEY (run_id, artifact_sha256, label)
        ) WITHOUT ROWID;

        CREATE TABLE model (
          name TEXT PRIMARY KEY NOT NULL \(nameCheck("name")),
          created_at DATETIME NOT NULL
        );

        CREATE TABLE model_version (
          model_name TEXT NOT NULL REFERENCES model(name),
          version INTEGER NOT NULL CHECK (version >= 1),
          run_id TEXT REFERENCES run(id),
          artifact_sha256 TEXT NOT NULL REFERENCES artifact(sha256),
          metrics TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metrics) AND json_type(metrics) = 'object'),
          created_at DATETIME NOT NULL,
          PRIMARY KEY (model_name, version)
        );
        CREATE INDEX model_version_by_run ON model_version(run_id);

        CREATE TABLE alias (
          model_name TEXT NOT NULL,
          alias TEXT NOT NULL \(nameCheck("alias")),
          version INTEGER NOT NULL,
          updated_at DATETIME NOT NULL,
          PRIMARY KEY (model_name, alias),
          FOREIGN KEY (model_name, version) REFERENCES model_version(model_name, version)
        ) WITHOUT ROWID;

        CREATE TABLE alias_event (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          model_name TEXT NOT NULL REFERENCES model(name),
          alias TEXT NOT NULL \(nameCheck("alias")),
          old_version INTEGER,
          new_version INTEGER NOT NULL,
          reason TEXT NOT NULL CHECK (reason IN ('set', 'rollback')),
          moved_at DATETIME NOT NULL,
          FOREIGN KEY (model_name, new_version) REFERENCES model_version(model_name, version),
          FOREIGN KEY (model_name, old_version) REFERENCES model_version(model_name, version)
        );
        CREATE INDEX alias_event_by_alias ON alias_event(model_name, alias, id);
        """
}
