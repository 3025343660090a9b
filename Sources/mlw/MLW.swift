import ArgumentParser
import Foundation
import Lang
import Workbench

/// Exit codes (Docs/repl.md): 0 ok, 1 runtime error, 2 usage error, 65 syntax error.
@main
struct MLW: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlw",
        abstract: "A scriptable machine-learning workbench.",
        discussion: "Without a subcommand, mlw opens the REPL.",
        version: Workbench.version,
        subcommands: [Run.self, Check.self, Repl.self, RegistryCommand.self, Reproduce.self, ServeCommand.self, UICommand.self, DeployCommand.self],
        defaultSubcommand: Repl.self
    )

    /// ArgumentParser exits 64 on usage errors; MLW documents 2, like most Unix tools.
    static func main() {
        // `mlw run FILE ...` skips ArgumentParser: building its command tree costs a few ms of
        // runtime type lookups, a large share of an empty script's run (Docs/registry.md).
        if let fast = Run.fastArguments(Array(CommandLine.arguments.dropFirst())) {
            do { try fast.execute() } catch let code as ExitCode { Foundation.exit(code.rawValue) } catch {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(1)
            }
            Foundation.exit(0)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// Prints an error in the one MLW format and returns its exit code.
func report(_ error: Error) -> Int32 {
    if let e = error as? MLWError {
        FileHandle.standardError.write(Data(e.render().utf8))
        return e.exitCode
    }
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return 1
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a script.")

    @Argument(help: "The .mlw script to run.")
    var file: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a script parameter (repeatable).", valueName: "name=value"))
    var overrides: [String] = []

    @Flag(name: .customLong("no-record"), help: "Do not record this run in the registry.")
    var noRecord = false

    @Flag(help: "Run every stage(...) block again instead of loading its cached value.")
    var force = false

    @Argument(parsing: .postTerminator, help: "Arguments for the script, after --; read with args().")
    var scriptArgs: [String] = []

    func run() throws {
        var sets: [String: String] = [:]
        for s in overrides {
            guard let eq = s.firstIndex(of: "="), eq != s.startIndex else {
                throw ValidationError("--set expects name=value, got '\(s)'")
            }
            sets[String(s[..<eq])] = String(s[s.index(after: eq)...])
        }
        try RunArguments(file: file, sets: sets, noRecord: noRecord, force: force, scriptArgs: scriptArgs).execute()
    }

    /// The arguments of `mlw run` when they are plain enough to read without ArgumentParser
    /// (a file, `--set name=value`, `--no-record`, `--force`, `-- args`); nil sends anything
    /// else (help, unknown options, a malformed `--set`) through ArgumentParser, which
    /// reports it as before.
    static func fastArguments(_ argv: [String]) -> RunArguments? {
        guard argv.first == "run" else { return nil }
        var file: String?, sets: [String: String] = [:], noRecord = false, force = false
        var i = 1
        while i < argv.count {
            let arg = argv[i]
            switch arg {
            case "--": return file.map { RunArguments(file: $0, sets: sets, noRecord: noRecord, force: force, scriptArgs: Array(argv[(i + 1)...])) }
            case "--no-record": noRecord = true
            case "--force": force = true
            case "--set":
                guard i + 1 < argv.count, let (k, v) = setting(argv[i + 1]) else { return nil }
                sets[k] = v
                i += 1
            default:
                if arg.hasPrefix("--set="), let (k, v) = setting(String(arg.dropFirst(6))) {
                    sets[k] = v
                } else if arg.hasPrefix("-") || file != nil {
                    return nil
                } else {
                    file = arg
                }
            }
            i += 1
        }
        return file.map { RunArguments(file: $0, sets: sets, noRecord: noRecord, force: force, scriptArgs: []) }
    }

    private static func setting(_ s: String) -> (String, String)? {
        guard let eq = s.firstIndex(of: "="), eq != s.startIndex else { return nil }
        return (String(s[..<eq]), String(s[s.index(after: eq)...]))
    }
}

/// What `mlw run` runs, however its arguments were read.
struct RunArguments {
    var file: String
    var sets: [String: String]
    var noRecord: Bool
    var force: Bool
    var scriptArgs: [String]

    func execute() throws {
        let (file, sets, noRecord, force, scriptArgs) = (self.file, self.sets, self.noRecord, self.force, self.scriptArgs)
        let code: Int32 = Workbench.onLargeStack {
            do {
                let interp = try Workbench.makeInterpreter()
                // Left alive to the process exit on purpose: tearing it down frees every value
                // and closes SQLite, whose last connection then checkpoints and fsyncs the
                // registry, which costs more than the whole empty run. Exiting with the
                // connection open is safe (what SQLite sees after a crash; everything is committed).
                _ = Unmanaged.passRetained(interp)
                interp.paramOverrides = sets
                interp.scriptArgs = scriptArgs
                interp.forceStages = force
                installInterruptHandler()
                // Recorded in the registry (Sources/Workbench/Runs/RunRecorder.swift) unless --no-record.
                // Under mpirun only rank 0 records (Docs/distributed.md).
                let recorder = RunRecorder.start(interp, scriptPath: file, enabled: !noRecord && !Workbench.isSecondaryRank)
                do { var last = try interp.runFile(file); Value.release(&last) } catch { recorder?.finish(error); throw error }
                recorder?.finish(nil)
                Workbench.finishDistributed()
                return 0
            } catch {
                return report(error)
            }
        }
        if code != 0 { throw ExitCode(code) }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Parse and resolve scripts without running them.")

    @Argument(help: "Scripts to check.")
    var files: [String]

    func run() throws {
        let code: Int32 = Workbench.onLargeStack {
            var worst: Int32 = 0
            do {
                let interp = try Workbench.makeInterpreter()
                for f in files {
                    do { try interp.check(f) } catch { worst = max(worst, report(error)) }
                }
            } catch { return report(error) }
            return worst
        }
        if code != 0 { throw ExitCode(code) }
    }
}

struct Repl: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the interactive REPL (the default).")

    func run() throws {
        let code: Int32 = Workbench.onLargeStack {
            do {
                let session = ReplSession(interpreter: try Workbench.makeInterpreter())
                defer { session.interpreter.registrySession.finishLazyRun() }
                return isatty(0) != 0 ? runInteractive(session) : runPiped(session)
            } catch {
                return report(error)
            }
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// Ctrl-C stops the running program at its next check (or abandons the typed line).
func installInterruptHandler() {
    signal(SIGINT) { _ in mlwInterruptRequested = 1 }
}
