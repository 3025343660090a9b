import Frames
import Foundation
import Lang

/// `stage("prepare", inputs: [a, b]) { ... }`: runs the block once and caches its value
/// under `.mlw/cache` (or `$MLW_HOME/cache`), keyed by the stage name, the hashes of the
/// inputs, the block's source text and the parameters the block reads (`StageDeps`: a
/// parameter used only by training is not in the data stage's key); a re-run with nothing
/// changed loads the cached value instead (like `dvc repro`). `--force` re-runs.
let stageLibrary = Library("stage", doc: "Cached pipeline stages.", [
    NativeFunction("stage", [Param("name", .string), Param("body", .function), Param("inputs", .list, .list([])),
                             Param("force", .bool, .bool(false))],
                   doc: "Run body once and cache its value, keyed by name, inputs, code and the params the body reads; later runs with the same key load it.",
                   example: "stage(\"square\", inputs: [3]) { 3 * 3 }", result: "9") { a in
        let name = try a.string("name")
        guard case .function(let body) = a["body"] else { throw a.bad("body", "function", a["body"]) }
        let inputHashes = try a.list("inputs").map(contentHash)
        let used = StageDeps.params(body, a.interpreter)   // nil: every parameter
        let params = Dictionary(a.interpreter.paramValues.filter { used?.contains($0.0) ?? true }.map { ($0.0, $0.1.repr) },
                                uniquingKeysWith: { $1 })
        let cache = StageCache(root: cacheRoot())
        let key = cache.key(name: name, inputHashes: inputHashes, codeHash: SHA256.hex(body.sourceText), params: params)
        let force = try a.bool("force") || a.interpreter.forceStages
        let log = a.interpreter.stageLog
        if !force, let data = try cache.load(key: key) {
            if let v = try? decodeStageValue(data) {
                note("stage '\(name)': up to date, loaded from cache \(key.prefix(12))")
                log.entries.append(StageOutcome(name: name, key: String(key.prefix(12)), outcome: "cache hit"))
                return v
            }
            // An unreadable entry (older format, damaged file) is recomputed, never trusted.
        }
        let value = try a.call(a["body"], [])
        let ran = force ? "ran (forced)" : "ran"
        do {
            try cache.store(key: key, data: try encodeStageValue(value))
            note("stage '\(name)': ran, cached as \(key.prefix(12))")
            log.entries.append(StageOutcome(name: name, key: String(key.prefix(12)), outcome: ran))
        } catch {
            note("stage '\(name)': ran; result not cached (\(error))")
            log.entries.append(StageOutcome(name: name, key: String(key.prefix(12)), outcome: ran + ", not cached"))
        }
        return value
    },
])

func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// `$MLW_HOME/cache`, else `.mlw/cache` under the working directory.
func cacheRoot() -> String {
    if let home = ProcessInfo.processInfo.environment["MLW_HOME"], !home.isEmpty {
        return (home as NSString).appendingPathComponent("cache")
    }
    return ".mlw/cache"
}

/// One `stage(...)` call of a run: whether it loaded its cached value or ran (the run
/// record keeps these, so `mlw ui` can show what a run recomputed).
public struct StageOutcome: Codable, Equatable {
    public var name: String
    public var key: String
    public var outcome: String

    public init(name: String, key: String, outcome: String) {
        self.name = name; self.key = key; self.outcome = outcome
    }
}

final class StageLog {
    var entries: [StageOutcome] = []
}

extension Interpreter {
    /// The stages this interpreter has run, in call order.
    var stageLog: StageLog {
        if let l = extensions["stage.log"] as? StageLog { return l }
        let l = StageLog()
        extensions["stage.log"] = l
        return l
    }

    public var stageOutcomes: [StageOutcome] { (extensions["stage.log"] as? StageLog)?.entries ?? [] }

    /// `mlw run --force`: stages ignore their caches.
    public var forceStages: Bool {
        get { (extensions["stage.force"] as? Flag)?.on ?? false }
        set { extensions["stage.force"] = Flag(newValue) }
    }
}

final class Flag {
    let on: Bool
    init(_ on: Bool) { self.on = on }
}

/// A stable hash of any value: datasets and transform chains by their lineage, functions
/// by their code, plain values by their JSON text.
func contentHash(_ v: Value) throws -> String {
    switch v {
    case .native(let n as DatasetValue): return n.ds.lineage.hash
    case .native(let n as PipelineValue): return n.pipeline.hash
    case .native(let n as TransformValue): return SHA256.hex(n.text)
    case .native(let n): return SHA256.hex("\(n.typeName):\(n.description)")
    case .function(let f): return SHA256.hex(f.sourceText)
    case .list(let xs): return SHA256.hex(try xs.map(contentHash).joined(separator: ","))
    case .record(let r):
        let parts = try zip(r.keys, r.values).map { "\($0)=\(try contentHash($1))" }
        return SHA256.hex(parts.joined(separator: ","))
    default: return SHA256.hex(try v.json())
    }
}
