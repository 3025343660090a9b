import Foundation

/// Human-readable renderings of registry data; the CLI prints these as they are.
///
///     print(RegistryText.models(try registry.models()))
public enum RegistryText {
    /// `name  latest  versions  aliases  updated`
    public static func models(_ models: [ModelSummary]) -> String {
        if models.isEmpty { return "no models registered\n" }
        return TextTable(["name", "latest", "versions", "aliases", "updated"], models.map { m in
            [m.name, String(m.latestVersion), String(m.versionCount),
             m.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
             TextTable.format(m.updatedAt)]
        }).render()
    }

    /// `version  aliases  run  artifact  created  metrics`; aliases come from `aliases`.
    public static func versions(_ versions: [ModelVersion], aliases: [Alias] = []) -> String {
        if versions.isEmpty { return "no versions\n" }
        return TextTable(["version", "aliases", "run", "artifact", "created", "metrics"], versions.map { v in
            [String(v.version),
             aliases.filter { $0.version == v.version }.map(\.alias).sorted().joined(separator: ","),
             v.runId ?? "-", String(v.artifactSha256.prefix(12)), TextTable.format(v.createdAt), metricsText(v.metrics)]
        }).render()
    }

    /// `run  status  script  seed  started  duration  params`, plus a `reproduces` column
    /// (the original run's id) when any listed run was made by `mlw reproduce`, and a
    /// `parent` column when any listed run is a child run.
    public static func runs(_ runs: [Run]) -> String {
        if runs.isEmpty { return "no runs\n" }
        let linked = runs.contains { $0.reproduces != nil }
        let children = runs.contains { $0.parentRun != nil }
        var headers = ["run", "status", "script", "seed", "started", "duration"]
        if linked { headers.append("reproduces") }
        if children { headers.append("parent") }
        return TextTable(headers + ["params"], runs.map { r in
            var row = [r.id, r.status.rawValue, r.script, r.seed.map(String.init) ?? "-", TextTable.format(r.startedAt), duration(r)]
            if linked { row.append(r.reproduces ?? "-") }
            if children { row.append(r.parentRun ?? "-") }
            return row + [paramsText(r.params)]
        }).render()
    }

    /// A run's fields, parameters, final metrics, datasets, artifacts and model versions.
    public static func runDetails(_ d: RunDetails) -> String {
        let r = d.run
        var fields: [[String]] = [
            ["run", r.id], ["status", r.status.rawValue], ["script", r.script], ["script_sha256", r.scriptSha256],
            ["git_commit", r.gitCommit ?? "-"], ["seed", r.seed.map(String.init) ?? "-"],
            ["started", TextTable.format(r.startedAt)], ["ended", r.endedAt.map(TextTable.format) ?? "-"],
            ["duration", duration(r)], ["host", r.host], ["mlw_version", r.mlwVersion],
        ]
        if let error = r.error { fields.append(["error", error]) }
        if let original = r.reproduces { fields.append(["reproduces", original]) }
        if !d.reproducedBy.isEmpty { fields.append(["reproduced_by", d.reproducedBy.joined(separator: ",")]) }
        if let parent = r.parentRun { fields.append(["parent_run", parent]) }
        if !d.children.isEmpty { fields.append(["children", String(d.children.count)]) }
        var out = TextTable(["field", "value"], fields).render()
        if !r.params.isEmpty {
            out += "\n" + TextTable(["param", "value"], r.params.sorted { $0.key < $1.key }.map { [$0.key, $0.value.description] }).render()
        }
        if !d.finalMetrics.isEmpty {
            out += "\n" + TextTable(["metric", "final", "points"], d.finalMetrics.sorted { $0.key < $1.key }.map {
                [$0.key, TextTable.format($0.value), String(d.metricPointCounts[$0.key] ?? 0)]
            }).render()
        }
        if !d.datasets.isEmpty {
            out += "\n" + TextTable(["dataset", "source", "rows"], d.datasets.map { [String($0.hash.prefix(12)), $0.source, String($0.rows)] }).render()
        }
        if !d.artifacts.isEmpty {
            out += "\n" + TextTable(["artifact", "size"], d.artifacts.map { [String($0.sha256.prefix(12)), String($0.size)] }).render()
        }
        if !d.modelVersions.isEmpty {
            out += "\n" + TextTable(["model", "version"], d.modelVersions.map { [$0.modelName, String($0.version)] }).render()
        }
        // A reproduce run registers no versions: its register calls are these links.
        let calls = d.links.compactMap { l in ReproduceLabel.parse(l.label).map { ($0, l.artifactSha256) } }
            .sorted { ($0.0.model, $0.0.index) < ($1.0.model, $1.0.index) }
        if !calls.isEmpty {
            out += "\n" + TextTable(["register (not versioned)", "call", "artifact"], calls.map {
                [$0.0.model, String($0.0.index), String($0.1.prefix(12))]
            }).render()
        }
        return out
    }

    /// Side-by-side fields, parameters and final metrics of two runs; changed rows are
    /// marked with `*`.
    public static func runDiff(_ diff: RunDiff) -> String {
        // Hashes are cut to 12 characters like everywhere in text output; JSON keeps them whole.
        func short(_ e: RunDiff.Entry, _ v: String?) -> String {
            guard let v else { return "-" }
            return e.key == "script_sha256" ? String(v.prefix(12)) : v
        }
        func rows(_ entries: [RunDiff.Entry]) -> [[String]] {
            entries.map { [$0.changed ? "*" : "", $0.key, short($0, $0.a), short($0, $0.b)] }
        }
        var out = TextTable(["", "field", diff.runA, diff.runB], rows(diff.fields)).render()
        if !diff.params.isEmpty {
            out += "\n" + TextTable(["", "param", diff.runA, diff.runB], rows(diff.params)).render()
        }
        if !diff.metrics.isEmpty {
            out += "\n" + TextTable(["", "metric", diff.runA, diff.runB, "delta"], diff.metrics.map { m in
                [m.a == m.b ? "" : "*", m.key, m.a.map(TextTable.format) ?? "-", m.b.map(TextTable.format) ?? "-",
                 m.delta.map(TextTable.format) ?? "-"]
            }).render()
        }
        return out
    }

    /// `when  alias  from  to  reason`, oldest first.
    public static func aliasHistory(_ events: [AliasEvent]) -> String {
        if events.isEmpty { return "no alias history\n" }
        return TextTable(["when", "alias", "from", "to", "reason"], events.map { e in
            [TextTable.format(e.movedAt), e.alias, e.oldVersion.map(String.init) ?? "-", String(e.newVersion), e.reason.rawValue]
        }).render()
    }

    /// `name=value` pairs sorted by name.
    static func metricsText(_ metrics: [String: Double]) -> String {
        metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(TextTable.format($0.value))" }.joined(separator: " ")
    }

    static func paramsText(_ params: [String: ParamValue]) -> String {
        params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    static func duration(_ run: Run) -> String {
        guard let end = run.endedAt else { return "-" }
        let seconds = end.timeIntervalSince(run.startedAt)
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        if seconds < 3600 { return String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60) }
        return String(format: "%dh%02dm", Int(seconds) / 3600, Int(seconds) % 3600 / 60)
    }
}

/// JSON encodings for `--json`: snake_case keys, sorted, ISO 8601 UTC dates.
///
///     print(try RegistryJSON.string(try registry.runs()))
public enum RegistryJSON {
    /// The encoder used for every `--json` output.
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The matching decoder, for tools that read the output back.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// `value` as JSON text.
    public static func string<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }
}

/// The label of an artifact a reproduce run's `register` call stored instead of creating a
/// version: `reproduce:NAME:K`, the K-th registration of model NAME in that run (from 1).
///
///     ReproduceLabel(model: "iris", index: 1).label     // "reproduce:iris:1"
public struct ReproduceLabel: Equatable, Sendable {
    public var model: String
    public var index: Int

    public init(model: String, index: Int) {
        self.model = model
        self.index = index
    }

    public var label: String { "reproduce:\(model):\(index)" }

    /// The parts of a `reproduce:NAME:K` label; nil for any other label.
    public static func parse(_ label: String) -> ReproduceLabel? {
        let parts = label.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "reproduce", !parts[1].isEmpty, let k = Int(parts[2]), k >= 1 else { return nil }
        return ReproduceLabel(model: String(parts[1]), index: k)
    }
}
