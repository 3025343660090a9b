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
        subcommands: [Models.self, Versions.self, Runs.self, Show.self, SetAlias.self, Rollback.self, Diff.self, Check.self,
                      MigrateTo.self]
    )
}

/// `--json` and `--registry` for every registry subcommand.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON (snake_case keys, ISO 8601 dates) instead of tables.")
    var json = false
    @Option(help: ArgumentHelp("The registry: postgres://user@host:port/db or a root folder (default $MLW_REGISTRY, else $MLW_HOME, else ./.mlw).",
                               valueName: "url"))
    var registry: String?

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

/// The registry `option` (`--registry`) or `$MLW_REGISTRY` names, else the one at the
/// default root; nil when a SQLite one was not created yet: read-only commands must not
/// create one as a side effect. A PostgreSQL registry is connected to (and its schema set up).
func existingRegistry(_ option: String? = nil) throws -> Registry? {
    let location = try withRegistryErrors { try RegistryLocation.resolve(option) }
    if case let .sqlite(root) = location,
       !FileManager.default.fileExists(atPath: root.appendingPathComponent(Registry.databaseFileName).path) { return nil }
    return try withRegistryErrors { try Registry.open(location) }
}

/// The existing registry, or exit 1 saying where none was found.
func requireRegistry(_ option: String? = nil) throws -> Registry {
    guard let registry = try existingRegistry(option) else {
        let location = try withRegistryErrors { try RegistryLocation.resolve(option) }
        let shown = if case let .sqlite(root) = location { root.path } else { "\(location)" }
        throw fail("no registry at '\(shown)' (mlw run creates it; MLW_HOME or MLW_REGISTRY selects another)", code: 1)
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
            let models = try withRegistryErrors { try existingRegistry(output.registry)?.models() ?? [] }
            try output.emit(models) { RegistryText.models(models) }
        }
    }

    struct Versions: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the versions of a model, oldest first.")
        @Argument(help: "Model name.") var name: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let registry = try requireRegistry(output.registry)
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
            let runs = try withRegistryErrors { try existingRegistry(output.registry)?.runs(filter: filter, limit: limit) ?? [] }
            try output.emit(runs) { RegistryText.runs(runs) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run: fields, parameters, metrics, datasets, artifacts, versions.")
        @Argument(help: ArgumentHelp("Run id or a unique prefix of at least 4 characters.", valueName: "run")) var runID: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let registry = try requireRegistry(output.registry)
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
            let registry = try requireRegistry(output.registry)
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
            let registry = try requireRegistry(output.registry)
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
            let registry = try requireRegistry(output.registry)
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
            let registry = try requireRegistry(output.registry)
            let r = try withRegistryErrors { try registry.health(repair: repair) }
            let report = Report(root: registry.locationDescription, problems: r.problems, killedRuns: r.killedRuns,
                                leftovers: r.leftovers, repaired: r.repaired)
            try output.emit(report) {
                let lines = r.killedRuns + r.problems + r.leftovers + r.repaired
                let tail = r.isHealthy ? "registry ok: \(registry.locationDescription)\n"
                    : r.problems.isEmpty ? "leftovers found (mlw registry check --repair removes them)\n" : ""
                return lines.map { $0 + "\n" }.joined() + tail
            }
            if !r.isHealthy { throw ExitCode(1) }
        }
    }
}

extension RegistryCommand {
    struct MigrateTo: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-to",
            abstract: "Copy this (SQLite) registry into an empty PostgreSQL registry, verified by hashes.")
        @Argument(help: ArgumentHelp("Target: postgres://user@host:port/db (artifacts go to $MLW_ARTIFACTS).", valueName: "url"))
        var target: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let source = try requireRegistry(output.registry)
            guard !source.isPostgres else { throw fail("migrate-to copies a SQLite registry; the source is PostgreSQL", code: 2) }
            let report = try withRegistryErrors { () throws -> CopyReport in
                let location = try PostgresLocation.parse(target)
                return try source.copy(to: try Registry(postgres: location, artifacts: .resolve()))
            }
            try output.emit(report) {
                "copied \(report.runs) runs (\(report.metricPoints) metric points), \(report.versions) versions, "
                    + "\(report.aliasEvents) alias moves, \(report.artifacts) artifacts to \(target)\n"
                    + "verified: content digest \(report.digest) on both sides\n"
            }
        }
    }
}

/// `iris@production -> 2 (was 1, set)`, the line above an alias history.
private func moved(_ e: AliasEvent) -> String {
    "\(e.modelName)@\(e.alias) -> \(e.newVersion) (" + (e.oldVersion.map { "was \($0)" } ?? "new") + ", \(e.reason.rawValue))\n\n"
}
