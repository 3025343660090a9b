import Foundation
import GRDB

// One Codable record per table. Column names are the snake_case forms of the property
// names (see `SnakeCaseRecord`); the same Codable conformance produces the `--json` output.

/// Maps camelCase properties to the schema's snake_case columns.
public protocol SnakeCaseRecord: FetchableRecord, PersistableRecord {}

extension SnakeCaseRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

/// The lifecycle state of a run. `killed`: its process died without ending it (kill -9,
/// power loss); set by the next process that opens the registry, or `check`.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running, finished, failed, killed
}

/// One parameter value of a run, kept as a JSON scalar so `--json` output stays typed.
///
///     let p: [String: ParamValue] = ["epochs": 20, "lr": 0.001, "opt": "adam"]
public enum ParamValue: Codable, Sendable, Hashable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    case int(Int), double(Double), string(String), bool(Bool)

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Bool before numbers: some JSON decoders accept 1/0 for Bool only when asked first.
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .int(v): try c.encode(v)
        case let .double(v): try c.encode(v)
        case let .string(v): try c.encode(v)
        case let .bool(v): try c.encode(v)
        }
    }

    /// The value as users type it: `20`, `0.001`, `adam`, `true`.
    public var description: String {
        switch self {
        case let .int(v): return String(v)
        case let .double(v): return String(v)
        case let .string(v): return v
        case let .bool(v): return String(v)
        }
    }
}

/// A row of `run`: one execution of a script.
public struct Run: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "run"
    /// 12 lowercase hex characters, random.
    public var id: String
    /// Script path as given to `mlw run` (relative to the project when possible).
    public var script: String
    /// SHA-256 of the script's bytes, so `mlw reproduce` can tell if it changed.
    public var scriptSha256: String
    /// `git rev-parse HEAD` of the project when it is a git checkout.
    public var gitCommit: String?
    /// Script parameters after `--set` overrides.
    public var params: [String: ParamValue]
    /// The run's root random seed, when the script has one.
    public var seed: Int?
    public var startedAt: Date
    /// nil while running.
    public var endedAt: Date?
    public var status: RunStatus
    /// Why a failed run failed.
    public var error: String?
    public var host: String
    public var mlwVersion: String
    /// The process that ran it (on `host`), and that process's start time in clock ticks
    /// since boot (Linux; tells a reused pid apart). Nil for runs recorded before v2.
    public var pid: Int?
    public var processStart: Int64?
    /// The run this one re-ran (`mlw reproduce`); nil for every other run (and before v4).
    public var reproduces: String? = nil
    /// The run this one is a child of (a grid search trial names the search's run); nil
    /// for a top-level run (and before v5).
    public var parentRun: String? = nil
}

/// A row of `metric`: one value of one key at one step of a run.
public struct MetricPoint: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "metric"
    public var runId: String
    /// Metric name, following the naming rule (`val_loss`, `test.accuracy`).
    public var key: String
    /// 0, 1, 2, ... per key (epoch, batch or any counter the script chooses).
    public var step: Int
    public var value: Double
    public var loggedAt: Date
}

/// A row of `dataset`: data identified by its lineage hash.
public struct Dataset: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "dataset"
    public var hash: String
    public var source: String
    public var rows: Int
    /// The schema as JSON text, as the Frames module describes it.
    public var schemaJson: String
    public var firstSeenAt: Date
}

/// A row of `run_dataset`: run X read dataset Y.
public struct RunDataset: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "run_dataset"
    public var runId: String
    public var datasetHash: String
}

/// A row of `artifact`: a content-addressed file under `<root>/artifacts/<sha256>`.
public struct Artifact: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "artifact"
    public var sha256: String
    public var size: Int64
    public var storedAt: Date
    /// Absolute path of the stored file; filled by the registry, not a column.
    public var path: String?

    public init(sha256: String, size: Int64, storedAt: Date, path: String? = nil) {
        self.sha256 = sha256; self.size = size; self.storedAt = storedAt; self.path = path
    }

    public init(row: Row) throws {
        sha256 = row["sha256"]; size = row["size"]; storedAt = row["stored_at"]; path = nil
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["sha256"] = sha256; container["size"] = size; container["stored_at"] = storedAt
    }
}

/// A row of `run_artifact`: run X produced artifact Y (under an optional label).
public struct RunArtifact: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "run_artifact"
    public var runId: String
    public var artifactSha256: String
    public var label: String
}

/// A row of `model`: a registered model name.
public struct Model: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "model"
    public var name: String
    public var createdAt: Date
}

/// A row of `model_version`: version N of a model, pointing at one artifact.
public struct ModelVersion: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "model_version"
    public var modelName: String
    /// 1, 2, 3, ... per model name.
    public var version: Int
    /// The run that produced it, if registered from a run.
    public var runId: String?
    /// The model file (or bundle) in the artifact store.
    public var artifactSha256: String
    /// Evaluation results recorded with the version (`acc`, `latency_ms`, ...).
    public var metrics: [String: Double]
    public var createdAt: Date
    /// Absolute path of the artifact file; filled by the registry, not a column.
    public var artifactPath: String?
    /// What the artifact is, as checked when it was registered (see `ArtifactKind`); nil
    /// when nobody said.
    public var kind: ArtifactKind?

    /// `name:version`, the exact reference to this version.
    public var reference: String { "\(modelName):\(version)" }

    public init(modelName: String, version: Int, runId: String?, artifactSha256: String,
                metrics: [String: Double], createdAt: Date, artifactPath: String? = nil, kind: ArtifactKind? = nil) {
        self.modelName = modelName; self.version = version; self.runId = runId
        self.artifactSha256 = artifactSha256; self.metrics = metrics; self.createdAt = createdAt
        self.artifactPath = artifactPath; self.kind = kind
    }

    public init(row: Row) throws {
        modelName = row["model_name"]; version = row["version"]; runId = row["run_id"]
        artifactSha256 = row["artifact_sha256"]; createdAt = row["created_at"]; artifactPath = nil
        kind = (row["kind"] as String?).flatMap(ArtifactKind.init(rawValue:))
        let json: String = row["metrics"]
        metrics = try JSONDecoder().decode([String: Double].self, from: Data(json.utf8))
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["model_name"] = modelName; container["version"] = version; container["run_id"] = runId
        container["artifact_sha256"] = artifactSha256; container["created_at"] = createdAt
        container["kind"] = kind?.rawValue
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        container["metrics"] = String(decoding: try encoder.encode(metrics), as: UTF8.self)
    }
}

/// What a registered artifact is: a model file that loaded when it was registered, or any
/// other file (kept and resolvable, but not servable).
public enum ArtifactKind: String, Codable, Sendable {
    case model, file
}

/// A row of `alias`: `model@alias` currently points to `version`.
public struct Alias: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "alias"
    public var modelName: String
    public var alias: String
    public var version: Int
    public var updatedAt: Date
}

/// Why an alias moved.
public enum AliasMoveReason: String, Codable, Sendable {
    case set, rollback
}

/// A row of `alias_event`: the audit trail of every alias move.
public struct AliasEvent: Codable, Sendable, Equatable, SnakeCaseRecord {
    public static let databaseTableName = "alias_event"
    /// Increasing with time; orders the history.
    public var id: Int64?
    public var modelName: String
    public var alias: String
    /// nil when the alias was created by this move.
    public var oldVersion: Int?
    public var newVersion: Int
    public var reason: AliasMoveReason
    public var movedAt: Date
}
