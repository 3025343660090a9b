import Foundation
import JSON
import Lang
import Registry
import Tensor

/// Records one `mlw run` in the registry, lazily: starting costs nothing (no SQLite, no git
/// process), and the run is written on the script's first registry use (`log_metric`,
/// `register`, `runs`, ...) or, for scripts that never touch the registry, once at the end,
/// with the start time taken before the script ran.
///
///     let recorder = RunRecorder.start(interp, scriptPath: "train.mlw")   // nil: --no-record
///     do { _ = try interp.runFile("train.mlw"); recorder?.finish(nil) } catch { recorder?.finish(error) }
///
/// While the run is open, `log_metric` writes to it and `register` links versions to it.
/// The script's bytes are stored as an artifact (label "script"; its hash is the run's
/// `script_sha256`) and `--set`/`--` arguments as JSON (label "invocation"), so
/// `mlw reproduce` works after the file is edited. A process killed before its first
/// registry use leaves no run behind (one killed later leaves a run that the next open marks
/// `killed`).
public final class RunRecorder {
    let interp: Interpreter
    let scriptPath: String
    let source: Data
    let startedAt: Date
    /// The run `mlw reproduce` re-runs, recorded in the new run's `reproduces` column.
    let reproduces: RunID?
    let warn: (String) -> Void
    /// The run's id once it is written; nil before, and when it could not be written.
    public private(set) var runID: RunID?
    /// True once writing failed: the warning is printed once and the run stays unrecorded.
    private var failed = false

    /// Label of the stored script copy among a run's artifacts.
    public static let scriptLabel = "script"
    /// Label of the stored invocation (`{"set": {...}, "args": [...]}`).
    public static let invocationLabel = "invocation"
    /// Label of the stored environment (`RunEnvironment`: kernel threads, CPU features, the
    /// stages and whether each was a cache hit), written when the run finishes.
    public static let environmentLabel = "environment"

    private init(_ interp: Interpreter, scriptPath: String, source: Data, reproduces: RunID?, warn: @escaping (String) -> Void) {
        self.interp = interp
        self.scriptPath = scriptPath
        self.source = source
        self.reproduces = reproduces
        self.warn = warn
        self.startedAt = Date()
    }

    /// Prepares recording (nothing is written yet). With `enabled` false (`--no-record`),
    /// returns nil, nothing is recorded and `log_metric` drops its values. A registry that
    /// cannot be used is reported when the run is written (`warning: this run is not
    /// recorded: ...`); the script runs anyway: recording must not stop work.
    public static func start(_ interp: Interpreter, scriptPath: String, enabled: Bool = true,
                             warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) -> RunRecorder? {
        guard enabled else {
            interp.registrySession.recordingDisabled = true
            return nil
        }
        // An unreadable script is reported by the interpreter itself (exit 2), unrecorded.
        guard let source = FileManager.default.contents(atPath: scriptPath) else { return nil }
        return start(interp, scriptPath: scriptPath, source: source, warn: warn)
    }

    /// Prepares recording a run of `source` (the script's bytes) under the name `scriptPath`,
    /// with the interpreter's `--set` overrides and script arguments; `reproduces` links the
    /// run to the one `mlw reproduce` re-runs.
    public static func start(_ interp: Interpreter, scriptPath: String, source: Data, reproduces: RunID? = nil,
                             warn: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) -> RunRecorder {
        let recorder = RunRecorder(interp, scriptPath: scriptPath, source: source, reproduces: reproduces, warn: warn)
        interp.registrySession.pending = recorder
        return recorder
    }

    /// Writes the run now if it was not written yet; nil when the registry cannot be used
    /// (warned once).
    @discardableResult
    public func write() -> RunID? {
        if let runID { return runID }
        if failed { return nil }
        do {
            runID = try begin()
        } catch {
            failed = true
            interp.registrySession.recordingDisabled = true   // metrics are dropped, not sent to a <repl> run
            warn("warning: this run is not recorded: \(error)\n")
        }
        return runID
    }

    private func begin() throws -> RunID {
        let session = interp.registrySession
        session.pending = nil
        let registry = try session.open()
        let overrides = interp.paramOverrides
        // Until the script's `param` statements run, the overrides are the best record of
        // its parameters; `finish` replaces them with the full set.
        let id = try registry.startRun(
            script: scriptPath, scriptHash: SHA256.hex(source),
            params: overrides.mapValues(RunRecorder.guessParam), seed: overrides["seed"].flatMap { Int($0) },
            gitCommit: GitHead.commit(near: scriptPath), host: RunRecorder.hostName(), mlwVersion: Workbench.version,
            startedAt: startedAt, reproduces: reproduces)
        try registry.storeArtifact(bytes: source, run: id, label: RunRecorder.scriptLabel)
        if !overrides.isEmpty || !interp.scriptArgs.isEmpty {
            let invocation = Invocation(set: overrides, args: interp.scriptArgs)
            try registry.storeArtifact(bytes: invocation.jsonData,
                                       run: id, label: RunRecorder.invocationLabel)
        }
        session.runID = id
        return id
    }

    /// Writes the run if the script never used the registry, then marks it finished (error
    /// nil) or failed with the rendered error, and stores the parameters the script ran
    /// with. Failures to write are reported, not thrown: the script's own outcome decides
    /// the exit code.
    public func finish(_ error: Error?) {
        guard let runID = write() else { return }
        let params = interp.paramValues
        let message = error.map(RunRecorder.render)
        do {
            let registry = try interp.registrySession.open()
            // Every dataset the script read, by lineage hash, so `reproduce` can say when data changed.
            for d in interp.datasetsRead {
                let schema = try Value.record([("columns", .strings(d.columns))]).json()  // names escaped
                try registry.recordDataset(run: runID, hash: d.hash, source: d.path, rows: d.rows, schemaJSON: schema)
            }
            let environment = RunEnvironment.current(stages: interp.stageOutcomes)
            try registry.storeArtifact(bytes: environment.jsonData,
                                       run: runID, label: RunRecorder.environmentLabel)
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

    /// The artifact's bytes, as JSONEncoder would write them (read back with JSONDecoder),
    /// through the JSON target's writer: Codable's generic encoding cost an empty recorded
    /// run more than its own work (protocol-conformance scans at first use).
    var jsonData: Data {
        var w = JSONWriter()
        w.value(.object([("set", .object(set.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                         ("args", .array(args.map { .string($0) }))]))
        return Data(w.bytes)
    }

    public init(set: [String: String], args: [String]) {
        self.set = set
        self.args = args
    }
}

/// What a run ran on besides the host and version the run row keeps: the kernel threads
/// (`MLW_THREADS`), the CPU features the kernels dispatch on, the system, and the outcome of
/// each `stage(...)` (so a run's record says which data it recomputed).
public struct RunEnvironment: Codable, Equatable {
    public var threads: Int
    public var cpuFeatures: [String]
    public var system: String
    public var stages: [StageOutcome]

    public init(threads: Int, cpuFeatures: [String], system: String, stages: [StageOutcome]) {
        self.threads = threads; self.cpuFeatures = cpuFeatures; self.system = system; self.stages = stages
    }

    /// The artifact's bytes (see `Invocation.jsonData`).
    var jsonData: Data {
        var w = JSONWriter()
        w.value(.object([
            ("threads", .int(threads)), ("cpuFeatures", .array(cpuFeatures.map { .string($0) })), ("system", .string(system)),
            ("stages", .array(stages.map { .object([("name", .string($0.name)), ("key", .string($0.key)), ("outcome", .string($0.outcome))]) })),
        ]))
        return Data(w.bytes)
    }

    /// The features the kernels choose between, as /proc/cpuinfo names them.
    public static let kernelFeatures = ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "sha_ni"]

    static func current(stages: [StageOutcome]) -> RunEnvironment {
        var uts = utsname()
        var system = "unknown"
        if uname(&uts) == 0 {
            func text<T>(_ field: T) -> String {
                withUnsafeBytes(of: field) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            }
            system = "\(text(uts.sysname)) \(text(uts.release)) \(text(uts.machine))"
        }
        return RunEnvironment(threads: Tensor.threads, cpuFeatures: cpuFeatures(), system: system, stages: stages)
    }

    /// The kernel-relevant flags of the first CPU in /proc/cpuinfo (read at most 64 KB);
    /// empty where the file does not exist.
    static func cpuFeatures() -> [String] {
        guard let h = FileHandle(forReadingAtPath: "/proc/cpuinfo") else { return [] }
        defer { try? h.close() }
        let text = String(decoding: (try? h.read(upToCount: 64 << 10)) ?? Data(), as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        let flags = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        return kernelFeatures.filter(flags.contains)
    }
}
