import ArgumentParser
import Foundation
import Lang
import Registry
import Workbench

/// `mlw reproduce RUN`: runs a recorded run's script again (the stored copy when the file
/// changed) with its recorded parameters, as a new recorded run, then compares what it
/// registered with what the original registered, hash by hash. Exit 0 only when every
/// registered artifact is identical.
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
                interp.registrySession.sandboxAliases()
                installInterruptHandler()
                let recorder = try RunRecorder.begin(interp, scriptPath: recorded.script, source: script)
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

        let differences = artifactDifferences(old.modelVersions, new.modelVersions)
        let count = old.modelVersions.count
        if differences.isEmpty {
            say(count == 0
                ? "reproduced: the run registers no artifacts, so there is nothing to compare bit for bit (run \(b.id))"
                : "reproduced bit for bit: \(count) registered artifact\(count == 1 ? "" : "s") identical (run \(b.id))")
            return true
        }
        differences.forEach { say($0) }
        say("not reproduced: \(differences.count) difference\(differences.count == 1 ? "" : "s") in registered artifacts (run \(b.id))")
        return false
    }

    /// Versions are matched per model name in registration order.
    func artifactDifferences(_ old: [ModelVersion], _ new: [ModelVersion]) -> [String] {
        var out: [String] = []
        for name in Set(old.map(\.modelName)).union(new.map(\.modelName)).sorted() {
            let a = old.filter { $0.modelName == name }, b = new.filter { $0.modelName == name }
            for (x, y) in zip(a, b) where x.artifactSha256 != y.artifactSha256 {
                out.append("\(x.reference) (sha256 \(short(x.artifactSha256))) differs from \(y.reference) (sha256 \(short(y.artifactSha256)))")
            }
            if a.count != b.count {
                out.append("model '\(name)': the original registered \(a.count) version\(a.count == 1 ? "" : "s"), this run \(b.count)")
            }
        }
        return out
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

/// Reproduce's own lines go to stdout between the script's output, so they read in order.
private func say(_ line: String) {
    print(line)
    fflush(stdout)
}
