import Foundation
import Lang
import Registry
import ServeModels
import Train

/// The registry as MLW functions: thin bindings over the `Registry` target. The registry
/// opens on first use (plain scripts never touch SQLite); registry errors become runtime
/// errors carrying the registry's own sentence.
///
/// The examples run in order against a fresh registry (Tests/MLWTests/RegistryLibTests):
/// each may rely on what the ones before it registered.
public let registryLibrary = Library("registry", doc: "Model registry and run tracking: register, resolve, aliases, metrics, runs.", [
    NativeFunction("register", [Param("artifact", .string), Param("name", .string), Param("metrics", .record, .record([])),
                                Param("alias", .optional(.string), .nil)],
                   doc: "Store a file in the registry as the next version of model `name` (linked to the current run), "
                       + "optionally pointing `alias` at it. Returns {name, version, reference, artifact (sha256), path, run, metrics, created}.",
                   example: "write_text(\"/tmp/mlw-notes.txt\", \"weights\"); register(\"/tmp/mlw-notes.txt\", name: \"notes\", metrics: {acc: 0.97}, alias: \"staging\").version",
                   result: "1") { a in
        let path = try a.string("artifact")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw a.invalid("artifact", "no file '\(path)'")
        }
        var metrics: [String: Double] = [:]
        for (key, v) in try a.record("metrics").pairs {
            guard let d = v.asDouble else { throw a.invalid("metrics", "metric '\(key)' must be a number, got \(v.typeName)") }
            metrics[key] = d
        }
        let alias = a.isNil("alias") ? nil : try a.string("alias")
        let kind = try artifactKind(path, a)
        if registryWritesSkipped { return .record([("name", a["name"]), ("version", .nil), ("skipped", .string("not rank 0"))]) }   // Distributed/WorldLib.swift
        return try withRegistry(a) { registry, session in
            let run = try session.currentRun(create: false, interp: a.interpreter)
            let name = try a.string("name")
            if let sandbox = session.sandbox {   // mlw reproduce: an artifact of the run, no version
                return try sandbox.register(file: URL(fileURLWithPath: path), name: name, metrics: metrics, alias: alias,
                                            kind: kind, run: run, registry: registry)
            }
            let v = try registry.register(file: URL(fileURLWithPath: path), name: name,
                                          run: run, metrics: metrics, alias: alias, kind: kind)
            return RegistryValues.version(v)
        }
    },
    NativeFunction("resolve", [Param("reference", .string)],
                   doc: "The model version a reference names: \"iris\" (latest), \"iris:3\" (version 3) or \"iris@production\" (an alias). "
                       + "Same record as register; `path` is the artifact file.",
                   example: "resolve(\"notes@staging\").version", result: "1") { a in
        try withRegistry(a) { registry, session in
            var reference = try ModelReference.parse(try a.string("reference"))
            if let sandbox = session.sandbox {
                if let v = sandbox.resolve(reference) { return v }
                if case let .alias(model, alias) = reference, let v = sandbox.version(model, alias) {
                    reference = .version(model: model, version: v)
                }
            }
            return RegistryValues.version(try registry.resolve(reference))
        }
    },
    NativeFunction("versions", [Param("name", .string)], doc: "Every version of a model, oldest first (records as from resolve).",
                   example: "len(versions(\"notes\"))", result: "1") { a in
        try withRegistry(a) { registry, _ in .list(try registry.versions(try a.string("name")).map(RegistryValues.version)) }
    },
    NativeFunction("models", [], doc: "Every registered model: {name, latest, versions, aliases: {alias: version}, updated}.",
                   example: "filter(models(), |m| m.name == \"notes\")[0].latest", result: "1") { a in
        try withRegistry(a) { registry, _ in .list(try registry.models().map(RegistryValues.model)) }
    },
    NativeFunction("set_alias", [Param("name", .string), Param("alias", .string), Param("version", .int)],
                   doc: "Point name@alias at a version (recorded in the alias history). Returns {name, alias, from, to, reason}.",
                   example: "register(\"/tmp/mlw-notes.txt\", name: \"notes\"); set_alias(\"notes\", \"staging\", 2)",
                   result: "{name: \"notes\", alias: \"staging\", from: 1, to: 2, reason: \"set\"}") { a in
        if registryWritesSkipped { return .nil }
        return try withRegistry(a) { registry, session in
            let name = try a.string("name"), alias = try a.string("alias"), version = try a.int("version")
            if let sandbox = session.sandbox {
                try sandbox.checkExists(name, version, registry: registry)
                return try sandbox.set(name, alias, to: version, registry: registry)
            }
            return RegistryValues.aliasEvent(try registry.setAlias(name, alias: alias, version: version))
        }
    },
    NativeFunction("rollback", [Param("name", .string), Param("alias", .string)],
                   doc: "Undo the latest set_alias of name@alias: the alias goes back to its previous version. Returns the move as set_alias does.",
                   example: "rollback(\"notes\", \"staging\")",
                   result: "{name: \"notes\", alias: \"staging\", from: 2, to: 1, reason: \"rollback\"}") { a in
        if registryWritesSkipped { return .nil }
        return try withRegistry(a) { registry, session in
            let name = try a.string("name"), alias = try a.string("alias")
            if let sandbox = session.sandbox { return try sandbox.rollback(name, alias) }
            return RegistryValues.aliasEvent(try registry.rollback(name, alias: alias))
        }
    },
    NativeFunction("log_metric", [Param("key", .any), Param("value", .any, .nil), Param("step", .optional(.int), .nil)],
                   doc: "Record a metric of the current run (without step: one after the key's last step). "
                       + "An evaluation logs its scalar fields: log_metric(ev), or log_metric(\"test\", ev) as test_accuracy, ... "
                       + "Outside `mlw run` the first call starts a run named <repl>; under `mlw run --no-record` values are dropped.",
                   example: "log_metric(\"loss\", 0.25, step: 1)") { a in
        let pairs = try metricPairs(a)   // Train/TrainLoopLib.swift
        let step = a.isNil("step") ? nil : try a.int("step")
        if let step, step < 0 { throw a.invalid("step", "must be >= 0, got \(step)") }
        if registryWritesSkipped { return .nil }
        return try withRegistry(a) { registry, session in
            guard let run = try session.currentRun(create: true, interp: a.interpreter) else { return .nil }
            for (key, value) in pairs { try registry.logMetric(run: run, key: key, value: value, step: step) }
            return .nil
        }
    },
    NativeFunction("runs", [Param("status", .optional(.string), .nil), Param("script", .optional(.string), .nil), Param("limit", .int, .int(20)),
                            Param("parent", .optional(.string), .nil)],
                   doc: "Recorded runs, newest first, optionally only those with a status (running, finished, failed, killed), script path "
                       + "or parent run (its child runs, e.g. a grid search's trials). "
                       + "Each is {id, script, script_sha256, status, seed, params, git_commit, started, ended, error, reproduces, parent_run}.",
                   example: "runs(status: \"running\", limit: 5)[0].script", result: "\"<repl>\"") { a in
        var filter = RunFilter()
        if !a.isNil("status") {
            let text = try a.string("status")
            guard let status = RunStatus(rawValue: text) else { throw a.invalid("status", "must be running, finished, failed or killed, got '\(text)'") }
            filter.status = status
        }
        if !a.isNil("script") { filter.script = try a.string("script") }
        if !a.isNil("parent") { filter.parent = try a.string("parent") }
        let limit = try a.int("limit")
        guard limit >= 0 else { throw a.invalid("limit", "must be >= 0, got \(limit)") }
        return try withRegistry(a) { registry, _ in .list(try registry.runs(filter: filter, limit: limit).map(RegistryValues.run)) }
    },
    NativeFunction("compare_runs", [Param("a", .oneOf([.string, .record])), Param("b", .oneOf([.string, .record]))],
                   doc: "Differences between two runs (ids, id prefixes or records from runs()): "
                       + "{a, b, identical, fields, params, metrics, text}; print(d.text) shows the table.",
                   example: "let r = runs()[0]; compare_runs(r, r.id).identical", result: "true") { a in
        let ids = try ["a", "b"].map { name -> String in
            if case .record(let r) = a[name] {
                guard case .string(let id)? = r["id"] else { throw a.invalid(name, "a run record needs a string field 'id'") }
                return id
            }
            return try a.string(name)
        }
        return try withRegistry(a) { registry, _ in RegistryValues.diff(try registry.compareRuns(ids[0], ids[1])) }
    },
])

/// A file that says it is a model (an MLW model file, a dense safetensors MLP) must load as one (else registering it is an error
/// naming why); any other file is registered as a plain file, which `mlw serve` refuses.
private func artifactKind(_ path: String, _ a: Args) throws -> ArtifactKind {
    var info = stat()   // a FIFO or device would block the read below
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw a.invalid("artifact", "'\(path)' is not a regular file") }
    do { return try MLWModelLoader.isModel(path) ? .model : .file } catch {
        throw a.invalid("artifact", "'\(path)' is not a loadable model: \(error)")
    }
}

/// Runs `body` with this interpreter's registry (opened on first use); a registry error
/// reaches the script as its own sentence (`unknown model 'iris'`), placed by Lang.
private func withRegistry(_ a: Args, _ body: (Registry, RegistrySession) throws -> Value) throws -> Value {
    let session = a.interpreter.registrySession
    return try body(try session.registry(), session)
}
