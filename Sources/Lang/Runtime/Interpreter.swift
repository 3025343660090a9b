import Foundation

/// The driver: scan, parse, resolve, compile, run (each phase that reports errors stops
/// the ones after it). Owns the builtins, the module cache, script parameters and the
/// REPL's persistent top level.
public final class Interpreter {
    public let libraries: [Library]
    var builtins: [String: Value] = [:]
    let ctx: Ctx
    /// Where `print` writes. The REPL and tests redirect it.
    public var output: (String) -> Void = { s in FileHandle.standardOutput.write(s.data(using: .utf8)!) }
    /// `--set name=value` overrides, as text; converted to the default's type when the
    /// `param` statement runs.
    public var paramOverrides: [String: String] = [:]
    /// Parameters as the script ran with them, in declaration order.
    public private(set) var paramValues: [(String, Value)] = []
    public var scriptArgs: [String] = []
    public let stdlibDirectory: String?
    var moduleCache: [String: Value] = [:]
    var loading: [String] = []
    /// Where the main script lives; relative paths in `read_text` etc. stay relative to the
    /// working directory like every command-line tool.
    public private(set) var mainPath: String?
    var replScope: ModuleScope?
    let replGlobals = Globals()
    var replCount = 0
    /// Extension state for libraries above the language (e.g. the registry run recorder).
    public var extensions: [String: AnyObject] = [:]

    /// `stackSlots`: room for every live frame's variables (each call takes its frame size).
    public init(libraries: [Library], stdlibDirectory: String? = nil, maxDepth: Int = 4000, stackSlots: Int = 1 << 18) {
        self.libraries = libraries
        self.stdlibDirectory = stdlibDirectory
        self.ctx = Ctx(capacity: stackSlots, maxDepth: maxDepth)
        ctx.interpreter = self
        var byName: [String: [NativeFunction]] = [:]
        var order: [String] = []
        for lib in libraries {
            for f in lib.functions {
                if byName[f.name] == nil { order.append(f.name) }
                byName[f.name, default: []].append(f)
            }
        }
        for name in order {
            let fs = byName[name]!
            builtins[name] = .function(Function(native: fs[0], overloads: Array(fs.dropFirst())))
        }
    }

    /// Step budget for untrusted programs (fuzzing); nil means unlimited.
    public var stepBudget: Int? {
        get { ctx.budget }
        set { ctx.budget = newValue }
    }

    /// Loads `std/prelude.mlw`, whose top-level names become builtins.
    public func loadPrelude() throws {
        guard let dir = stdlibDirectory else { return }
        let path = (dir as NSString).appendingPathComponent("prelude.mlw")
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard case .record(let r) = try loadModule(path: path, name: "prelude", span: .none) else { return }
        for (k, v) in zip(r.keys, r.values) { builtins[k] = v }
    }

    public func builtin(_ name: String) -> Value? { builtins[name] }
    public var builtinNames: [String] { builtins.keys.sorted() }

    // MARK: running

    public static func readSource(_ path: String, name: String? = nil) throws -> SourceFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MLWError.usage("cannot read '\(path)': no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MLWError.usage("'\(path)' is not valid UTF-8 text")
        }
        return SourceFile(name: name ?? path, text: text, path: path)
    }

    /// Runs a script file as the main program.
    public func runFile(_ path: String) throws -> Value {
        let file = try Interpreter.readSource(path)
        mainPath = path
        return try runMain(file)
    }

    /// Parses, resolves, checks `--set` names against the script's `param`s, then runs.
    public func runMain(_ file: SourceFile) throws -> Value {
        let program = try Parser.parse(file)
        let scope = ModuleScope(name: file.name)
        try Resolver.resolve(program, module: scope, builtin: builtin, builtinNames: { self.builtinNames })
        let declared = scope.params.map(\.name)
        for key in paramOverrides.keys.sorted() where !declared.contains(key) {
            let known = declared.isEmpty ? "the script declares no parameters" : "parameters: \(declared.joined(separator: ", "))"
            throw MLWError.usage("unknown parameter '\(key)' in --set (\(known))")
        }
        if let p = file.path { loading.append(canonical(p)) }
        defer { if file.path != nil { loading.removeLast() } }
        let globals = Globals(capacity: max(16, scope.globalCount + 1))
        let body = Compiler(interp: self, globals: globals, file: file).program(program.stmts, module: scope)
        return try execute(body)
    }

    /// Parses and resolves a file and everything it imports, without running anything.
    public func check(_ path: String) throws {
        try checkFile(path, chain: [])
    }

    func checkFile(_ path: String, chain: [String]) throws {
        let file = try Interpreter.readSource(path)
        let program = try Parser.parse(file)
        try Resolver.resolve(program, module: ModuleScope(name: path), builtin: builtin, builtinNames: { self.builtinNames })
        for s in program.stmts {
            guard case .importModule(let imp) = s.kind else { continue }
            let target = try importPath(imp, from: file)
            let key = canonical(target)
            if chain.contains(key) || key == canonical(path) {
                throw MLWError.runtime("import cycle: " + (chain + [canonical(path), key]).map(shortName).joined(separator: " -> "), at: imp.span)
            }
            try checkFile(target, chain: chain + [canonical(path)])
        }
    }

    /// One REPL input: names persist between inputs and may be redefined.
    public func evalREPL(_ text: String) throws -> Value {
        replCount += 1
        let file = SourceFile(name: "<repl>", text: text)
        let scope = replScope ?? ModuleScope(name: "<repl>", allowRedefinition: true)
        replScope = scope
        let program = try Parser.parse(file)
        let saved = scope.visible, savedParams = scope.params
        do {
            try Resolver.resolve(program, module: scope, builtin: builtin, builtinNames: { self.builtinNames })
        } catch {
            scope.visible = saved
            scope.params = savedParams
            throw error
        }
        let body = Compiler(interp: self, globals: replGlobals, file: file).program(program.stmts, module: scope)
        return try execute(body)
    }

    /// Names defined in the REPL so far, with their values, in the order they were defined
    /// (each input numbers its lines from 1, so slots, not places, give the order).
    public var replNames: [(String, Value)] {
        guard let scope = replScope else { return [] }
        return scope.visible.values.sorted { $0.slot < $1.slot }.compactMap { d in
            let v = replGlobals.slots[d.slot]
            return isUndefined(v) ? nil : (d.name, v)
        }
    }

    func execute(_ body: Eval) throws -> Value {
        let savedTop = ctx.top, savedBase = ctx.base, savedDepth = ctx.depth
        do {
            let v = try body(ctx)
            return v
        } catch {
            ctx.unwind(to: savedTop)
            ctx.base = savedBase
            ctx.depth = savedDepth
            ctx.ctl = Control.none
            ctx.closure = nil
            if let e = error as? NativeError { throw MLWError.runtime(e.message) }
            throw error
        }
    }

    /// Calls an MLW function from Swift (natives like `map` use this).
    public func call(_ f: Value, _ args: [Value], named: [(String, Value)] = []) throws -> Value {
        if case .function(let fn) = f, fn.proto == nil {
            return try callNative(fn, args, named)
        }
        if case .native(let n) = f, let nf = n.callable {
            return try callNative(Function(native: nf), [f] + args, named)
        }
        let argBase = ctx.top
        do {
            for a in args { try ctx.push(a, Span.none) }
            for (_, v) in named { try ctx.push(v, Span.none) }
            return try invoke(f, ctx, argBase: argBase, argc: args.count, names: named.map(\.0), span: .none)
        } catch {
            throw unwound(error, ctx, argBase, .none)
        }
    }

    // MARK: parameters

    func paramValue(_ name: String, default dflt: Value, at span: Span) throws -> Value {
        var value = dflt
        if let text = paramOverrides[name] {
            value = try Interpreter.convertParam(name, text, like: dflt)
        }
        paramValues.removeAll { $0.0 == name }
        paramValues.append((name, value))
        return value
    }

    /// `--set epochs=20`: the text must parse as the default's type.
    static func convertParam(_ name: String, _ text: String, like dflt: Value) throws -> Value {
        func fail(_ what: String) -> MLWError {
            MLWError.usage("--set \(name)=\(text): expected \(what) (the default is \(dflt.repr))")
        }
        switch dflt {
        case .int:
            guard let v = Int(text) else { throw fail("an integer") }
            return .int(v)
        case .float:
            guard let v = Double(text), !v.isNaN else { throw fail("a number") }
            return .float(v)
        case .bool:
            guard text == "true" || text == "false" else { throw fail("true or false") }
            return .bool(text == "true")
        case .string:
            return .string(text)
        case .nil:
            if let v = Int(text) { return .int(v) }
            if let v = Double(text) { return .float(v) }
            return .string(text)
        default:
            guard let v = try? Value.parseJSON(text) else { throw fail("JSON for a \(dflt.typeName)") }
            guard v.typeName == dflt.typeName else { throw fail("a \(dflt.typeName)") }
            return v
        }
    }
}

func canonical(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
}

func shortName(_ path: String) -> String { (path as NSString).lastPathComponent }
