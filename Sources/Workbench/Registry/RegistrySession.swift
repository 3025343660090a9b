import Foundation
import Lang
import Registry

/// The registry state of one interpreter, kept in `interp.extensions` (never in globals, so
/// several interpreters, e.g. parallel tests, can use different registries): where the
/// registry lives, the registry itself (opened on first use), and the run that metrics and
/// registrations belong to.
///
///     interp.useRegistry(root: tmp)          // tests and tools: an explicit root
///     let registry = try interp.registrySession.registry()
public final class RegistrySession {
    static let extensionKey = "registry"

    /// The folder holding `registry.sqlite`: `$MLW_HOME`, else `.mlw` in the working directory.
    public let root: URL
    private var opened: Registry?
    /// The run that `log_metric` and `register` attach to: the one `mlw run` records, or one
    /// created lazily (script `<repl>`) on the first `log_metric` outside `mlw run`.
    public internal(set) var runID: RunID?
    /// True when `runID` was created lazily and must be finished by `finishLazyRun`.
    private var runIsLazy = false
    /// `mlw run --no-record`: metrics are dropped and registrations have no run.
    public internal(set) var recordingDisabled = false
    /// `mlw reproduce`: registrations and alias moves stay in memory (see `ReproduceSandbox`).
    var sandbox: ReproduceSandbox?

    /// From now on this interpreter's `register` calls store artifacts without creating
    /// versions and its alias moves stay in memory: `mlw reproduce` compares what the
    /// re-run would register with `original` (the versions the reproduced run registered)
    /// but must not add versions or move `production`.
    public func startReproducing(original: [ModelVersion]) { sandbox = ReproduceSandbox(original: original) }

    /// Where `open` connects: the SQLite `root`, or the PostgreSQL server `MLW_REGISTRY` names.
    let location: Result<RegistryLocation, RegistryError>

    init(root: URL) {
        self.root = root
        location = .success(.sqlite(root: root))
    }

    /// `$MLW_REGISTRY` (a postgres:// URL or a root folder), else `$MLW_HOME`, else ./.mlw.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        root = Registry.defaultRoot(environment: environment)
        do { location = .success(try RegistryLocation.resolve(environment: environment)) } catch let e as RegistryError {
            location = .failure(e)
        } catch { location = .failure(.invalidValue("\(error)")) }
    }

    /// The `mlw run` recorder whose run is not written yet: the first registry use writes it,
    /// so metrics and registrations attach to it (weak: the front end owns the recorder).
    weak var pending: RunRecorder?

    /// The registry, opened (and created) the first time it is needed. A run that `mlw run`
    /// has not written yet is written first.
    public func registry() throws -> Registry {
        let r = try open()
        if let p = pending {
            pending = nil
            p.write()
        }
        return r
    }

    /// The registry without writing a pending run (the recorder itself uses this).
    func open() throws -> Registry {
        if let opened { return opened }
        do {
            let r = try Registry.open(try location.get())
            opened = r
            return r
        } catch let e as RegistryError {
            let shown = if case let .success(.postgres(pg)) = location { pg.description } else { root.path }
            throw NativeError("cannot open the registry at '\(shown)': \(e.description)")
        }
    }

    /// Whether the registry was opened already (tests check that plain scripts stay lazy).
    public var isOpen: Bool { opened != nil }

    /// The current run, creating a `<repl>` run when there is none and `create` is set.
    func currentRun(create: Bool, interp: Interpreter) throws -> RunID? {
        if let runID { return runID }
        guard create, !recordingDisabled else { return nil }
        let id = try registry().startRun(script: "<repl>", scriptHash: SHA256.hex(Data()),
                                         params: RunParams.paramValues(interp.paramValues),
                                         host: RunRecorder.hostName(), mlwVersion: Workbench.version)
        runID = id
        runIsLazy = true
        return id
    }

    /// Marks the lazily created `<repl>` run finished (the REPL calls this when it exits).
    public func finishLazyRun() {
        guard runIsLazy, let id = runID, let opened else { return }
        try? opened.finishRun(id, status: .finished)
        runIsLazy = false
    }
}

extension Interpreter {
    /// This interpreter's registry state, created on first access with the default root.
    public var registrySession: RegistrySession {
        if let s = extensions[RegistrySession.extensionKey] as? RegistrySession { return s }
        let s = RegistrySession()
        extensions[RegistrySession.extensionKey] = s
        return s
    }

    /// Points this interpreter's registry at `root` (before its first use): the explicit
    /// hook tests and tools use instead of changing `MLW_HOME` for the whole process.
    @discardableResult
    public func useRegistry(root: URL) -> RegistrySession {
        let s = RegistrySession(root: root)
        extensions[RegistrySession.extensionKey] = s
        return s
    }
}

/// Script parameters as the registry stores them (JSON scalars).
enum RunParams {
    /// Lists and records become their JSON text, which `--set` parses back for a list or
    /// record default; nil parameters are left out (the default reproduces them).
    static func paramValues(_ params: [(String, Value)]) -> [String: ParamValue] {
        var out: [String: ParamValue] = [:]
        for (name, v) in params {
            switch v {
            case .int(let x): out[name] = .int(x)
            case .float(let x): out[name] = x.isFinite ? .double(x) : .string(String(x))
            case .bool(let b): out[name] = .bool(b)
            case .string(let s): out[name] = .string(s)
            case .nil: continue
            default: out[name] = .string((try? v.json(pretty: false)) ?? v.repr)
            }
        }
        return out
    }

    /// The run's root seed: the value of a parameter named `seed`, when it is an integer.
    static func seed(_ params: [(String, Value)]) -> Int? {
        guard let v = params.first(where: { $0.0 == "seed" })?.1 else { return nil }
        if case .int(let x) = v { return x }
        if case .float(let d) = v, d.rounded() == d, d.magnitude < 9e18 { return Int(d) }
        return nil
    }
}
