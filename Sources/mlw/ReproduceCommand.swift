import ArgumentParser
import Foundation
import Lang
import Registry
import Workbench

/// `mlw reproduce RUN`: runs a recorded run's script again (the stored copy when the file
/// changed) with its recorded parameters, as a new recorded run linked to the original
/// (`reproduces`), then compares what it would register with what the original registered,
/// hash by hash. The re-run's `register` calls store their artifacts as links of the new run
/// (`reproduce:NAME:K`) and create no versions; its alias moves stay in memory. Exit 0
/// only when every registered artifact is identical.
struct Reproduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run a recorded run and check that it registers the same artifacts, bit for bit.")

    @Argument(help: ArgumentHelp("Run id or a unique prefix of at least 4 characters.", valueName: "run"))
    var runID: String

    func run() throws {
        let registry = try requireRegistry()
        let old = try withRegistryErrors { try registry.runDetails(runID) }
        let recorded = old.run
        guard recorded.script != "<repl>" else {
            throw fail("run \(recorded.id) was typed in the REPL; only runs of script files can be reproduced", code: 1)
        }
        let invocation = try withRegistryErrors { try recordedInvocation(recorded.id, registry) }
        // Every recorded parameter becomes an override, so changed defaults cannot matter.
        let overrides = recorded.params.mapValues(\.description)
        say("reproducing run \(recorded.id): \(recorded.script)" + (overrides.isEmpty ? "" : " with "
            + overrides.sorted { $0.key < $1.key }.map { "--set \($0.key)=\($0.value)" }.joined(separator: " ")))
        let script = try loadScript(old, registry)

        let outcome: (id: RunID?, code: Int32) = Workbench.onLargeStack {
            do {
                let interp = try Workbench.makeInterpreter()
                interp.paramOverrides = overrides
                interp.scriptArgs = invocation?.args ?? []
                interp.registrySession.startReproducing(original: old.modelVersions)
                installInterruptHandler()
                var warning = ""
                let recorder = RunRecorder.start(interp, scriptPath: recorded.script, source: script,
                                                 reproduces: recorded.id, warn: { warning += $0 })
                // Written before the script runs: without a run there is nothing to compare.
                guard recorder.write() != nil else { return (nil, report(ReproduceError(warning))) }
                do {
                    let text = String(decoding: script, as: UTF8.self)
                    _ = try interp.runMain(SourceFile(name: recorded.script, text: text, path: recorded.script))
                } catch {
                    recorder.finish(error)
                    return (recorder.runID, report(error))
                }
                recorder.finish(nil)
                return (recorder.runID, 0)
            } catch {
                return (nil, report(error))
            }
        }
        guard let newID = outcome.id, outcome.code == 0 else {
            say("not reproduced: the script stopped with an error" + (outcome.id.map { " (run \($0))" } ?? ""))
            throw ExitCode(1)
        }
        let new = try withRegistryErrors { try registry.runDetails(newID) }
        let identical = compare(old, new, registry)
        if !identical { throw ExitCode(1) }
    }

    /// The script to run: the file when it still has the recorded hash, else the copy the
    /// registry stored at record time.
    func loadScript(_ details: RunDetails, _ registry: Registry) throws -> Data {
        let run = details.run
        let current = FileManager.default.contents(atPath: run.script)
        if let current, SHA256.hex(current) == run.scriptSha256 { return current }
        let storedURL = registry.artifactURL(sha256: run.scriptSha256)
        guard let stored = FileManager.default.contents(atPath: storedURL.path), SHA256.hex(stored) == run.scriptSha256 else {
            throw fail("\(run.script) " + (current == nil ? "is missing" : "changed since run \(run.id)")
                       + " and the registry has no copy of the recorded script", code: 1)
        }
        if let current {
            say("\(run.script) changed since run \(run.id) (sha256 \(short(run.scriptSha256)) -> \(short(SHA256.hex(current)))); running the recorded copy")
        } else {
            say("\(run.script) is missing; running the recorded copy (sha256 \(short(run.scriptSha256)))")
        }
        return stored
    }

    func recordedInvocation(_ id: RunID, _ registry: Registry) throws -> Invocation? {
        guard let link = try registry.artifactLinks(run: id).first(where: { $0.label == RunRecorder.invocationLabel }),
              let data = FileManager.default.contents(atPath: registry.artifactURL(sha256: link.artifactSha256).path)
        else { return nil }
        return try? RegistryJSON.decoder().decode(Invocation.self, from: data)
    }

    /// Prints what differs (script, data, environment, metrics) and the verdict on the
    /// registered artifacts; true when they are identical.
    func compare(_ old: RunDetails, _ new: RunDetails, _ registry: Registry) -> Bool {
        let a = old.run, b = new.run
        if a.scriptSha256 != b.scriptSha256 {
            say("script changed: sha256 \(short(a.scriptSha256)) -> \(short(b.scriptSha256))")
        }
        if a.gitCommit != b.gitCommit { say("note: git commit \(a.gitCommit ?? "-") -> \(b.gitCommit ?? "-")") }
        if a.mlwVersion != b.mlwVersion { say("note: mlw version \(a.mlwVersion) -> \(b.mlwVersion)") }
        let dataChanges = datasetChanges(old.datasets, new.datasets)
        dataChanges.forEach { say($0) }
        if dataChanges.isEmpty && !old.datasets.isEmpty { say("datasets: \(old.datasets.count) unchanged") }
        for key in Set(old.finalMetrics.keys).union(new.finalMetrics.keys).sorted() where old.finalMetrics[key] != new.finalMetrics[key] {
            say("note: metric \(key): \(old.finalMetrics[key].map(TextTable.format) ?? "-") -> \(new.finalMetrics[key].map(TextTable.format) ?? "-")")
        }

        let (lines, differences) = artifactComparison(registrations(old), registrations(new))
        lines.forEach { say($0) }
        let count = lines.count
        if differences == 0 {
            say(count == 0
                ? "reproduced: the run registers no artifacts, so there is nothing to compare bit for bit (run \(b.id))"
                : "reproduced bit for bit: \(count) registered artifact\(count == 1 ? "" : "s") identical (run \(b.id))")
            return true
        }
        say("not reproduced: \(differences) difference\(differences == 1 ? "" : "s") in registered artifacts (run \(b.id))")
        return false
    }

    /// One registration: the K-th `register` of a model in a run, and the artifact's hash.
    struct Registration { let model: String, index: Int, sha256: String, reference: String }

    /// What a run registered, per model in call order: its versions (an ordinary run) or the
    /// artifacts its `register` calls stored (a reproduce run, which creates no versions).
    func registrations(_ d: RunDetails) -> [Registration] {
        var out: [Registration] = []
        var counts: [String: Int] = [:]
        for v in d.modelVersions.sorted(by: { ($0.modelName, $0.version) < ($1.modelName, $1.version) }) {
            counts[v.modelName, default: 0] += 1
            out.append(Registration(model: v.modelName, index: counts[v.modelName]!, sha256: v.artifactSha256, reference: v.reference))
        }
        for link in d.links {
            guard let l = ReproduceLabel.parse(link.label) else { continue }
            out.append(Registration(model: l.model, index: l.index, sha256: link.artifactSha256, reference: "\(l.model) #\(l.index)"))
        }
        return out.sorted { ($0.model, $0.index) < ($1.model, $1.index) }
    }

    /// One line per artifact (`same` or `different`, matched per model in registration
    /// order) and the number of differences.
    func artifactComparison(_ old: [Registration], _ new: [Registration]) -> (lines: [String], differences: Int) {
        var lines: [String] = [], differences = 0
        for name in Set(old.map(\.model)).union(new.map(\.model)).sorted() {
            let a = old.filter { $0.model == name }, b = new.filter { $0.model == name }
            for (x, y) in zip(a, b) {
                if x.sha256 == y.sha256 {
                    lines.append("\(x.reference): same (sha256 \(short(x.sha256)))")
                } else {
                    lines.append("\(x.reference): different (sha256 \(short(x.sha256)) -> \(short(y.sha256)))")
                    differences += 1
                }
            }
            if a.count != b.count {
                lines.append("model '\(name)': the original registered \(a.count) artifact\(a.count == 1 ? "" : "s"), this run \(b.count)")
                differences += 1
            }
        }
        return (lines, differences)
    }

    func datasetChanges(_ old: [Dataset], _ new: [Dataset]) -> [String] {
        let a = Dictionary(old.map { ($0.source, $0.hash) }, uniquingKeysWith: { x, _ in x })
        let b = Dictionary(new.map { ($0.source, $0.hash) }, uniquingKeysWith: { x, _ in x })
        var out: [String] = []
        for source in Set(a.keys).union(b.keys).sorted() {
            switch (a[source], b[source]) {
            case let (x?, y?) where x != y: out.append("dataset \(source) changed: \(short(x)) -> \(short(y))")
            case (_?, nil): out.append("dataset \(source) was not read this time")
            case (nil, _?): out.append("dataset \(source) is new in this run")
            default: break
            }
        }
        return out
    }
}

private func short(_ hash: String) -> String { String(hash.prefix(12)) }

/// A reproduce run that cannot be recorded (the comparison needs its record).
struct ReproduceError: Error, CustomStringConvertible {
    let description: String
    init(_ warning: String) {
        description = "cannot record the reproduce run: " + warning.replacingOccurrences(of: "warning: this run is not recorded: ", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Reproduce's own lines go to stdout between the script's output, so they read in order.
private func say(_ line: String) {
    print(line)
    fflush(stdout)
}
