import Foundation
import Lang
import Registry

/// Records one `mlw run` in the registry: started before the script runs (so a crash still
/// leaves a trace), finished after it with the parameters it actually ran with.
///
///     let recorder = RunRecorder.start(interp, scriptPath: "train.mlw")   // nil: not recorded
///     do { _ = try interp.runFile("train.mlw"); recorder?.finish(nil) } catch { recorder?.finish(error) }
///
/// While the run is open, `log_metric` writes to it and `register` links versions to it.
/// The script's bytes are stored as an artifact (label "script"; its hash is the run's
/// `script_sha256`) and `--set`/`--` arguments as JSON (label "invocation"), so
/// `mlw reproduce` works after the file is edited.
public final class RunRecorder {
    public let registry: Registry
    public let runID: RunID
    let interp: Interpreter

    /// Label of the stored script copy among a run's artifacts.
    public static let scriptLabel = "script"
    /// Label of the stored invocation (`{"set": {...}, "args": [...]}`).
    public static let invocationLabel = "invocation"

    private init(registry: Registry, runID: RunID, interp: Interpreter) {
        self.registry = registry
        self.runID = runID
        self.interp = interp
    }

    /// Starts recording, or returns nil after printing a warning when the registry cannot
    /// be used (the script still runs: recording must not stop work). With `enabled` false
    /// (`--no-record`), nothing is recorded and `log_metric` drops its values.
    public static func start(_ interp: Interpreter, scriptPath: String, enabled: Bool = true,
                             warn: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) -> RunRecorder? {
        guard enabled else {
            interp.registrySession.recordingDisabled = true
            return nil
        }
        // An unreadable script is reported by the interpreter itself (exit 2), unrecorded.
        guard let source = FileManager.default.contents(atPath: scriptPath) else { return nil }
        do {
            return try begin(interp, scriptPath: scriptPath, source: source)
        } catch {
            warn("warning: this run is not recorded: \(error)\n")
            return nil
        }
    }

    /// Starts recording a run of `source` (the script's bytes) under the name `scriptPath`,
    /// with the interpreter's `--set` overrides and script arguments.
    public static func begin(_ interp: Interpreter, scriptPath: String, source: Data) throws -> RunRecorder {
        // git runs while SQLite opens: launching a process costs more than both.
        let git = GitHead.start(near: scriptPath)
        let session = interp.registrySession
        let registry = try session.registry()
        let overrides = interp.paramOverrides
        // Until the script's `param` statements run, the overrides are the best record of
        // its parameters; `finish` replaces them with the full set.
        let id = try registry.startRun(
            script: scriptPath, scriptHash: SHA256.hex(source),
            params: overrides.mapValues(RunRecorder.guessParam), seed: overrides["seed"].flatMap { Int($0) },
            gitCommit: git?.wait(), host: hostName(), mlwVersion: Workbench.version)
        try registry.storeArtifact(bytes: source, run: id, label: scriptLabel)
        if !overrides.isEmpty || !interp.scriptArgs.isEmpty {
            let invocation = Invocation(set: overrides, args: interp.scriptArgs)
            try registry.storeArtifact(bytes: try RegistryJSON.encoder(pretty: false).encode(invocation),
                                       run: id, label: invocationLabel)
        }
        session.runID = id
        return RunRecorder(registry: registry, runID: id, interp: interp)
    }

    /// Marks the run finished (error nil) or failed with the rendered error, and stores the
    /// parameters the script ran with. Failures to write are reported, not thrown: the
    /// script's own outcome decides the exit code.
    public func finish(_ error: Error?, warn: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        let params = interp.paramValues
        let message = error.map(RunRecorder.render)
        do {
            // Every dataset the script read, by lineage hash, so `reproduce` can say when data changed.
            for d in interp.datasetsRead {
                let schema = try Value.record([("columns", .strings(d.columns))]).json()  // names escaped
                try registry.recordDataset(run: runID, hash: d.hash, source: d.path, rows: d.rows, schemaJSON: schema)
            }
            try registry.finishRun(runID, status: error == nil ? .finished : .failed, error: message,
                                   params: RunParams.paramValues(params), seed: RunParams.seed(params))
        } catch {
            warn("warning: could not record the end of run \(runID): \(error)\n")
        }
    }

    static func render(_ error: Error) -> String {
        let text = (error as? MLWError)?.render() ?? "error: \(error)"
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `--set` text as the most specific JSON scalar it spells.
    static func guessParam(_ text: String) -> ParamValue {
        if let i = Int(text) { return .int(i) }
        if let d = Double(text), d.isFinite { return .double(d) }
        if text == "true" || text == "false" { return .bool(text == "true") }
        return .string(text)
    }

    /// The host name from the kernel (Foundation's `hostName` may wait on DNS).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(cString: buffer)
    }
}

/// How a run was invoked beyond its script: `--set` overrides and arguments after `--`.
public struct Invocation: Codable, Equatable {
    public var set: [String: String]
    public var args: [String]

    public init(set: [String: String], args: [String]) {
        self.set = set
        self.args = args
    }
}

/// `git rev-parse HEAD` in the script's folder, started early and read when needed; nil
/// when the script is not in a git work tree or git is missing.
///
///     let git = GitHead.start(near: "train.mlw"); ...; let commit = git?.wait()
final class GitHead {
    private let process: Process
    private let output: Pipe

    private init(process: Process, output: Pipe) {
        self.process = process
        self.output = output
    }

    /// A cheap look for `.git` first keeps runs outside git from paying for a process launch.
    static func start(near scriptPath: String) -> GitHead? {
        let dir = URL(fileURLWithPath: scriptPath).standardizedFileURL.deletingLastPathComponent()
        var probe = dir
        while !FileManager.default.fileExists(atPath: probe.appendingPathComponent(".git").path) {
            let parent = probe.deletingLastPathComponent()
            if parent.path == probe.path { return nil }
            probe = parent
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "HEAD"]
        process.currentDirectoryURL = dir
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        return GitHead(process: process, output: out)
    }

    /// The commit hash, or nil when git failed (no commits yet, git missing, ...).
    func wait() -> String? {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let hash = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return hash.count == 40 || hash.count == 64 ? hash : nil
    }
}
