import Foundation
import Lang
import Registry

/// Registry records as MLW values: plain records with snake_case fields, dates as ISO 8601
/// text, hashes in full. One function per record type so every binding shows the same shape.
enum RegistryValues {
    static func date(_ d: Date) -> Value {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .string(f.string(from: d))
    }

    static func optional(_ s: String?) -> Value { s.map { .string($0) } ?? .nil }
    static func optional(_ i: Int?) -> Value { i.map { .int($0) } ?? .nil }

    static func metrics(_ m: [String: Double]) -> Value {
        .record(m.sorted { $0.key < $1.key }.map { ($0.key, .float($0.value)) })
    }

    static func param(_ p: ParamValue) -> Value {
        switch p {
        case .int(let x): return .int(x)
        case .double(let x): return .float(x)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        }
    }

    /// `{name, version, reference, artifact, path, run, metrics, created}`
    static func version(_ v: ModelVersion) -> Value {
        versionRecord(name: v.modelName, version: v.version, artifact: v.artifactSha256, path: v.artifactPath,
                      run: v.runId, metrics: v.metrics, created: v.createdAt)
    }

    /// The same record for a version that exists only in a reproduce run's sandbox.
    static func versionRecord(name: String, version: Int, artifact: String, path: String?, run: String?,
                              metrics: [String: Double], created: Date) -> Value {
        .record([
            ("name", .string(name)), ("version", .int(version)), ("reference", .string("\(name):\(version)")),
            ("artifact", .string(artifact)), ("path", optional(path)), ("run", optional(run)),
            ("metrics", self.metrics(metrics)), ("created", date(created)),
        ])
    }

    /// `{name, alias, from, to, reason}`; `from` is nil when the move created the alias.
    static func aliasEvent(_ e: AliasEvent) -> Value {
        aliasMove(e.modelName, e.alias, from: e.oldVersion, to: e.newVersion, reason: e.reason)
    }

    static func aliasMove(_ model: String, _ alias: String, from: Int?, to: Int, reason: AliasMoveReason) -> Value {
        .record([("name", .string(model)), ("alias", .string(alias)), ("from", optional(from)), ("to", .int(to)),
                 ("reason", .string(reason.rawValue))])
    }

    /// `{id, script, script_sha256, status, seed, params, git_commit, started, ended, error, reproduces, parent_run}`
    static func run(_ r: Run) -> Value {
        .record([
            ("id", .string(r.id)), ("script", .string(r.script)), ("script_sha256", .string(r.scriptSha256)),
            ("status", .string(r.status.rawValue)), ("seed", optional(r.seed)),
            ("params", .record(r.params.sorted { $0.key < $1.key }.map { ($0.key, param($0.value)) })),
            ("git_commit", optional(r.gitCommit)), ("started", date(r.startedAt)),
            ("ended", r.endedAt.map(date) ?? .nil), ("error", optional(r.error)), ("reproduces", optional(r.reproduces)),
            ("parent_run", optional(r.parentRun)),
        ])
    }

    /// `{name, latest, versions, aliases: {alias: version}, updated}`
    static func model(_ m: ModelSummary) -> Value {
        .record([
            ("name", .string(m.name)), ("latest", .int(m.latestVersion)), ("versions", .int(m.versionCount)),
            ("aliases", .record(m.aliases.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("updated", date(m.updatedAt)),
        ])
    }

    /// `{a, b, identical, fields, params, metrics, text}`: each entry `{key, a, b, changed}`
    /// (metrics: `{key, a, b, delta}`); `text` is the table `mlw registry diff` prints.
    static func diff(_ d: RunDiff) -> Value {
        func entries(_ es: [RunDiff.Entry]) -> Value {
            .list(es.map { e in
                .record([("key", .string(e.key)), ("a", optional(e.a)), ("b", optional(e.b)), ("changed", .bool(e.changed))])
            })
        }
        let metrics: Value = .list(d.metrics.map { m in
            .record([("key", .string(m.key)), ("a", m.a.map { .float($0) } ?? .nil), ("b", m.b.map { .float($0) } ?? .nil),
                     ("delta", m.delta.map { .float($0) } ?? .nil)])
        })
        return .record([
            ("a", .string(d.runA)), ("b", .string(d.runB)), ("identical", .bool(d.isIdentical)),
            ("fields", entries(d.fields)), ("params", entries(d.params)), ("metrics", metrics),
            ("text", .string(RegistryText.runDiff(d))),
        ])
    }
}
