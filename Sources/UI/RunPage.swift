import Foundation
import Registry
import Workbench

// `/runs/{id}`: one run with its curves, lineage, script, environment, artifacts, models and
// reproduction status.

extension UIApp {
    /// Longest script shown (bytes); longer ones are cut with a note.
    static let maxScriptBytes = 1 << 20

    func runPage(_ id: String) throws -> Page {
        let d = try registry.runDetails(id)
        let run = d.run
        let points = try registry.metrics(run: run.id)
        let charts = runCharts(points)
        let sizes = Dictionary(d.artifacts.map { ($0.sha256, $0.size) }, uniquingKeysWith: { a, _ in a })

        let script = d.links.first { $0.label == "script" }.map { readArtifactText($0.artifactSha256) }
        let invocation = d.links.first { $0.label == "invocation" }.map { readArtifactText($0.artifactSha256) }
        // Threads, CPU features and stage outcomes, recorded when the run finished (older
        // runs have none).
        let env = d.links.first { $0.label == RunRecorder.environmentLabel }.flatMap { l in
            try? RegistryJSON.decoder().decode(RunEnvironment.self, from: Data(readArtifactText(l.artifactSha256).utf8))
        }
        let models: [(version: ModelVersion, info: ModelInfo?)] = d.modelVersions.map { v in
            guard v.kind != .file, let art = d.artifacts.first(where: { $0.sha256 == v.artifactSha256 }) else { return (v, nil) }
            return (v, modelCache.info(for: art, registry: registry))
        }
        var reproductions: [[String: Any]] = []
        if let original = run.reproduces, let o = try? registry.runDetails(original) {
            reproductions.append(reproduceReport(original: o, reproduction: d))
        }
        for r in d.reproducedBy.prefix(20) {
            if let rd = try? registry.runDetails(r) { reproductions.append(reproduceReport(original: d, reproduction: rd)) }
        }
        let finals = d.finalMetrics.keys.sorted()
        let duration = runDuration(run)

        let json: [String: Any] = [
            "id": run.id, "script": run.script, "script_sha256": run.scriptSha256, "status": run.status.rawValue,
            "error": orNull(run.error), "started": Format.iso(run.startedAt), "ended": Format.iso(run.endedAt),
            "duration_seconds": Format.json(duration), "seed": orNull(run.seed),
            "params": run.params.mapValues { paramJSON($0) },
            "final_metrics": d.finalMetrics.mapValues { Format.json($0) },
            "metrics": Dictionary(grouping: points, by: \.key).mapValues { $0.map { ["step": $0.step, "value": Format.json($0.value)] } },
            "environment": ["mlw_version": run.mlwVersion, "host": run.host, "git_commit": orNull(run.gitCommit),
                            "pid": orNull(run.pid), "invocation": orNull(invocation),
                            "threads": orNull(env?.threads), "cpu_features": orNull(env?.cpuFeatures), "system": orNull(env?.system)] as [String: Any],
            "stages": (env?.stages ?? []).map { ["name": $0.name, "key": $0.key, "outcome": $0.outcome] },
            "datasets": d.datasets.map { ["hash": $0.hash, "source": $0.source, "rows": $0.rows, "first_seen": Format.iso($0.firstSeenAt)] },
            "artifacts": d.links.map { ["label": $0.label, "sha256": $0.artifactSha256, "size": orNull(sizes[$0.artifactSha256].map { Int($0) }),
                                        "url": "/artifacts/\($0.artifactSha256)"] as [String: Any] },
            "model_versions": models.map { m -> [String: Any] in
                ["reference": m.version.reference, "artifact_sha256": m.version.artifactSha256,
                 "summary": orNull(m.info?.summary), "dot": orNull(m.info?.dot)]
            },
            "reproduces": orNull(run.reproduces), "reproduced_by": d.reproducedBy, "reproductions": reproductions,
        ]

        var view: [String: Any] = [
            "id": run.id, "script_path": run.script, "script_sha256": run.scriptSha256, "status": run.status.rawValue,
            "started": Format.time(run.startedAt), "ended": Format.time(run.endedAt), "duration": Format.duration(duration),
            "params": run.params.keys.sorted().map { ["key": $0, "value": run.params[$0]!.description] },
            "has_params": !run.params.isEmpty,
            "metrics": finals.map { ["key": $0, "value": Format.number(d.finalMetrics[$0]), "points": d.metricPointCounts[$0] ?? 0] },
            "has_metrics": !finals.isEmpty,
            "charts": charts.map { ["title": $0.title, "svg": $0.svg] }, "has_charts": !charts.isEmpty,
            "environment": [["key": "mlw version", "value": run.mlwVersion], ["key": "host", "value": run.host],
                            ["key": "git commit", "value": run.gitCommit ?? "-"], ["key": "seed", "value": run.seed.map(String.init) ?? "-"],
                            ["key": "pid", "value": run.pid.map(String.init) ?? "-"],
                            ["key": "threads", "value": env.map { String($0.threads) } ?? "-"],
                            ["key": "CPU features", "value": env.map { $0.cpuFeatures.isEmpty ? "none of the kernels' (portable C)" : $0.cpuFeatures.joined(separator: " ") } ?? "-"],
                            ["key": "system", "value": env?.system ?? "-"]],
            "stages": (env?.stages ?? []).map { ["name": $0.name, "key": $0.key, "outcome": $0.outcome, "hit": $0.outcome == "cache hit"] },
            "has_stages": !(env?.stages ?? []).isEmpty,
            "datasets": d.datasets.map { ["hash": $0.hash, "short": String($0.hash.prefix(12)), "source": $0.source, "rows": $0.rows, "first_seen": Format.time($0.firstSeenAt)] },
            "has_datasets": !d.datasets.isEmpty,
            "artifacts": d.links.map { ["label": $0.label.isEmpty ? "-" : $0.label, "sha256": $0.artifactSha256, "short": String($0.artifactSha256.prefix(12)),
                                        "size": sizes[$0.artifactSha256].map(Format.bytes) ?? ""] },
            "has_artifacts": !d.links.isEmpty,
            "models": models.map { m -> [String: Any] in
                var e: [String: Any] = ["reference": m.version.reference, "name": m.version.modelName, "version": m.version.version]
                if let info = m.info {
                    if let err = info.error { e["model_error"] = err } else { e["summary"] = info.summary; e["dot"] = info.dot }
                    if let svg = info.graphSVG { e["graph_svg"] = svg }
                }
                return e
            },
            "has_models": !models.isEmpty,
            "reproductions": reproductions.map(reproduceView),
            "has_reproductions": !reproductions.isEmpty,
            "reproduced_by": d.reproducedBy,
        ]
        if let e = run.error { view["error"] = e }
        if let o = run.reproduces { view["reproduces"] = o }
        if let invocation { view["invocation"] = invocation }
        if let script {
            view["script_html"] = highlightMLW(script)
        }
        return Page(title: "Run \(run.id)", template: "run", json: json, view: view)
    }

    /// A stored text artifact, at most `maxScriptBytes` (the rest cut with a note).
    func readArtifactText(_ sha256: String) -> String {
        guard let h = try? FileHandle(forReadingFrom: registry.artifactURL(sha256: sha256)) else { return "(the stored copy \(sha256.prefix(12)) is missing)" }
        defer { try? h.close() }
        let data = (try? h.read(upToCount: Self.maxScriptBytes + 1)) ?? Data()
        let text = String(decoding: data.prefix(Self.maxScriptBytes), as: UTF8.self)
        return data.count > Self.maxScriptBytes ? text + "\n# ... (cut at \(Self.maxScriptBytes) bytes)" : text
    }

    /// What `mlw reproduce` compared: the original's K-th registration of each model against
    /// the reproduction's `reproduce:NAME:K` artifact.
    func reproduceReport(original: RunDetails, reproduction: RunDetails) -> [String: Any] {
        var expected: [String: String] = [:]
        var counts: [String: Int] = [:]
        for v in original.modelVersions.sorted(by: { ($0.modelName, $0.version) < ($1.modelName, $1.version) }) {
            counts[v.modelName, default: 0] += 1
            expected["\(v.modelName):\(counts[v.modelName]!)"] = v.artifactSha256
        }
        // A reproduction of a reproduction compares with what that one stored.
        for l in original.links { if let r = ReproduceLabel.parse(l.label) { expected["\(r.model):\(r.index)"] = l.artifactSha256 } }
        var got: [String: String] = [:]
        for l in reproduction.links { if let r = ReproduceLabel.parse(l.label) { got["\(r.model):\(r.index)"] = l.artifactSha256 } }
        let keys = Set(expected.keys).union(got.keys).sorted()
        let lines = keys.map { k -> [String: Any] in
            let a = expected[k], b = got[k]
            return ["model": k, "same": a != nil && a == b, "original": a.map { String($0.prefix(12)) } ?? "-",
                    "reproduced": b.map { String($0.prefix(12)) } ?? "-"]
        }
        let same = lines.filter { $0["same"] as! Bool }.count
        let verdict: String
        if reproduction.run.status != .finished { verdict = "reproduction \(reproduction.run.status.rawValue)" }
        else if keys.isEmpty { verdict = "no registered artifacts to compare" }
        else if same == keys.count { verdict = "reproduced bit for bit: \(same) registered artifacts identical" }
        else { verdict = "not reproduced: \(keys.count - same) differences in registered artifacts" }
        return ["original": original.run.id, "reproduction": reproduction.run.id, "status": reproduction.run.status.rawValue,
                "identical": !keys.isEmpty && same == keys.count && reproduction.run.status == .finished,
                "verdict": verdict, "artifacts": lines]
    }

    private func reproduceView(_ r: [String: Any]) -> [String: Any] {
        var v = r
        v["ok"] = r["identical"] as? Bool ?? false
        return v
    }
}
