import ArgumentParser
import Foundation
import Registry

/// `mlw registry ...`: read and change the registry from the shell. Text output is the
/// tables `RegistryText` renders; `--json` prints `RegistryJSON` for machines. Errors:
/// `error: ...` on stderr, exit 1 for things not found, 2 for bad input.
struct RegistryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Inspect and change the model registry ($MLW_HOME, else ./.mlw).",
        subcommands: [Models.self, Versions.self, Runs.self, Show.self, SetAlias.self, Rollback.self, Diff.self, Check.self]
    )
}

/// `--json` for every registry subcommand.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON (snake_case keys, ISO 8601 dates) instead of tables.")
    var json = false

    /// Prints the table, or the JSON of `value`.
    func emit<T: Encodable>(_ value: T, text: () -> String) throws {
        if json { print(try RegistryJSON.string(value)) } else { print(text(), terminator: "") }
    }
}

/// Exits with `error: message` on stderr.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(code)
}

/// The registry at the default root, or nil when none was created yet; read-only commands
/// must not create one as a side effect.
func existingRegistry() throws -> Registry? {
    let root = Registry.defaultRoot()
    guard FileManager.default.fileExists(atPath: root.appendingPathComponent(Registry.databaseFileName).path) else { return nil }
    return try withRegistryErrors { try Registry.open(root: root) }
}

/// The existing registry, or exit 1 saying where none was found.
func requireRegistry() throws -> Registry {
    guard let registry = try existingRegistry() else {
        throw fail("no registry at '\(Registry.defaultRoot().path)' (mlw run creates it; MLW_HOME selects another)", code: 1)
    }
    return registry
}

/// Turns registry errors into `error: ...` with exit 2 (bad input) or 1 (not found, storage).
func withRegistryErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as RegistryError {
        switch e {
        case .invalidName, .invalidReference, .invalidValue: throw fail(e.description, code: 2)
        default: throw fail(e.description, code: 1)
        }
    }
}

extension RegistryCommand {
    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered models with their latest version and aliases.")
        @OptionGroup var output: OutputOptions

        func run() throws {
            let models = try withRegistryErrors { try existingRegistry()?.models() ?? [] }
            try output.emit(models) { RegistryText.models(models) }
        }
    }

    struct Versions: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the versions of a model, oldest first.")
        @Argument(help: "Model name.") var name: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let registry = try requireRegistry()
            let (versions, aliases) = try withRegistryErrors { (try registry.versions(name), try registry.aliases(name)) }
            try output.emit(versions) { RegistryText.versions(versions, aliases: aliases) }
        }
    }

    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recorded runs, newest first.")
        @Option(help: "Only runs with this status: running, finished, failed or killed.") var status: String?
        @Option(help: "Only runs of this script path, as recorded.") var script: String?
        @Option(help: ArgumentHelp("Only child runs of this run (id or unique prefix), e.g. a grid search's trials.",
                                   valueName: "run")) var parent: String?
        @Option(help: "At most this many runs.") var limit = 20
        @OptionGroup var output: OutputOptions

        func run() throws {
            var filter = RunFilter(script: script, parent: parent)
            if let status {
                guard let s = RunStatus(rawValue: status) else {
                    throw fail("unknown status '\(status)' (expected running, finished, failed or killed)", code: 2)
                }
                filter.status = s
            }
            guard limit >= 0 else { throw fail("--limit must be >= 0, got \(limit)", code: 2) }
            let runs = try withRegistryErrors { try existingRegistry()?.runs(filter: filter, limit: limit) ?? [] }
            try output.emit(runs) { RegistryText.runs(runs) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run: fields, parameters, metrics, datasets, artifacts, versions.")
        @Argument(help: ArgumentHelp("Run id or a unique prefix of at least 4 characters.", valueName: "run")) var runID: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let registry = try requireRegistry()
            let details = try withRegistryErrors { try registry.runDetails(runID) }
            try output.emit(details) { RegistryText.runDetails(details) }
        }
    }

    struct SetAlias: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "alias", abstract: "Point NAME@ALIAS at VERSION.")
        @Argument(help: "Model name.") var name: String
        @Argument(help: "Alias, e.g. production.") var alias: String
        @Argument(help: "Version number.") var version: Int
        @OptionGroup var output: OutputOptions

        func run() throws {
            let registry = try requireRegistry()
            let (event, history) = try withRegistryErrors {
                (try registry.setAlias(name, alias: alias, version: version), try registry.aliasHistory(name, alias: alias))
            }
            try output.emit(event) { moved(event) + RegistryText.aliasHistory(history) }
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move NAME@ALIAS back to the version it pointed to before its last move.")
        @Argument(help: "Model name.") var name: String
        @Argument(help: "Alias, e.g. production.") var alias: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let registry = try requireRegistry()
            let (event, history) = try withRegistryErrors {
                (try registry.rollback(name, alias: alias), try registry.aliasHistory(name, alias: alias))
            }
            try output.emit(event) { moved(event) + RegistryText.aliasHistory(history) }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compare two runs: script, seed, parameters, final metrics.")
        @Argument(help: "First run id (or prefix).") var a: String
        @Argument(help: "Second run id (or prefix).") var b: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let registry = try requireRegistry()
            let diff = try withRegistryErrors { try registry.compareRuns(a, b) }
            try output.emit(diff) { RegistryText.runDiff(diff) }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the database (integrity, foreign keys), every artifact's hash, runs whose process is gone "
                + "(marked killed) and leftovers of crashes; exit 1 on problems or leftovers.")
        @Flag(help: "Remove the leftovers: temporary files of writers that are gone, artifact files no row references.")
        var repair = false
        @OptionGroup var output: OutputOptions

        struct Report: Encodable {
            var root: String
            var problems: [String]
            var killedRuns: [String]
            var leftovers: [String]
            var repaired: [String]
        }

        func run() throws {
            let registry = try requireRegistry()
            let r = try withRegistryErrors { try registry.health(repair: repair) }
            let report = Report(root: registry.root.path, problems: r.problems, killedRuns: r.killedRuns,
                                leftovers: r.leftovers, repaired: r.repaired)
            try output.emit(report) {
                let lines = r.killedRuns + r.problems + r.leftovers + r.repaired
                let tail = r.isHealthy ? "registry ok: \(registry.root.path)\n"
                    : r.problems.isEmpty ? "leftovers found (mlw registry check --repair removes them)\n" : ""
                return lines.map { $0 + "\n" }.joined() + tail
            }
            if !r.isHealthy { throw ExitCode(1) }
        }
    }
}

/// `iris@production -> 2 (was 1, set)`, the line above an alias history.
private func moved(_ e: AliasEvent) -> String {
    "\(e.modelName)@\(e.alias) -> \(e.newVersion) (" + (e.oldVersion.map { "was \($0)" } ?? "new") + ", \(e.reason.rawValue))\n\n"
}
