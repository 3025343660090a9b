/// Binds every name to where its value lives (frame slot, closure capture, module
/// global, builtin) before anything runs, and reports misuse: unknown names, assigning
/// to `let`, `return` outside a function, `param` below the top level.

/// The persistent top-level scope of one module. The REPL keeps one across inputs.
public final class ModuleScope {
    public let name: String
    var visible: [String: NameDecl] = [:]
    public internal(set) var globalCount = 0
    /// Top-level `param` declarations, in order.
    public internal(set) var params: [NameDecl] = []
    /// REPL inputs may define a name again; scripts may not.
    let allowRedefinition: Bool

    public init(name: String, allowRedefinition: Bool = false) {
        self.name = name
        self.allowRedefinition = allowRedefinition
    }

    /// Names defined at the top level (for completion, `:env`, module exports).
    public var names: [NameDecl] {
        visible.values.sorted { ($0.span.line, $0.span.col, $0.slot) < ($1.span.line, $1.span.col, $1.slot) }
    }
}

final class FunctionScope {
    let parent: FunctionScope?
    var blocks: [[String: NameDecl]] = [[:]]
    var frameSize = 0
    var captures: [CaptureSource] = []
    var captureIndex: [ObjectIdentifier: Int] = [:]
    var loopDepth = 0
    init(parent: FunctionScope?) { self.parent = parent }
    var isModule: Bool { parent == nil }
}

public struct Resolver {
    let module: ModuleScope
    let builtin: (String) -> Value?
    /// Every builtin's name, asked for only to suggest one for an unknown name.
    let builtinNames: () -> [String]
    /// Every top-level declaration, visible inside function bodies wherever it stands.
    var hoisted: [String: NameDecl] = [:]
    var scope: FunctionScope
    public private(set) var errors: [MLWError] = []

    public init(module: ModuleScope, builtin: @escaping (String) -> Value?, builtinNames: @escaping () -> [String] = { [] }) {
        self.module = module
        self.builtin = builtin
        self.builtinNames = builtinNames
        self.scope = FunctionScope(parent: nil)
        scope.blocks = [module.visible]
    }

    /// Resolves a program; on error throws the first with the rest attached.
    public static func resolve(_ program: Program, module: ModuleScope, builtin: @escaping (String) -> Value?,
                               builtinNames: @escaping () -> [String] = { [] }) throws {
        var r = Resolver(module: module, builtin: builtin, builtinNames: builtinNames)
        r.resolveProgram(program.stmts)
        if var first = r.errors.first {
            first.more = Array(r.errors.dropFirst())
            throw first
        }
    }

    mutating func error(_ msg: String, _ span: Span) {
        if errors.count < Parser.maxErrors { errors.append(.syntax(msg, at: span)) }
    }

    mutating func resolveProgram(_ stmts: [Stmt]) {
        // Hoist: top-level functions are callable from anywhere in the module, and function
        // bodies may read top-level values declared later (checked when read).
        for s in stmts {
            switch s.kind {
            case .fn(let d, _):
                declare(d)
                hoisted[d.name] = d
            case .binding(let d, _):
                hoisted[d.name] = d
            case .importModule(let imp):
                hoisted[imp.decl.name] = imp.decl
            default: break
            }
        }
        for s in stmts { resolveStmt(s, topLevel: true) }
        module.visible = scope.blocks[0]
    }

    // MARK: declarations

    mutating func declare(_ d: NameDecl) {
        if let prev = scope.blocks[scope.blocks.count - 1][d.name], prev !== d {
            let redefinable = scope.isModule && module.allowRedefinition && scope.blocks.count == 1
            if !redefinable {
                error("'\(d.name)' is already defined in this scope (line \(prev.span.line)); use another name or 'var' and assignment", d.span)
                return
            }
        }
        if d.slot < 0 {
            if scope.isModule {
                d.isGlobal = true
                d.slot = module.globalCount
                module.globalCount += 1
            } else {
                d.slot = scope.frameSize
                scope.frameSize += 1
            }
        }
        scope.blocks[scope.blocks.count - 1][d.name] = d
    }

    // MARK: lookup

    /// Finds `name` in `fs` or its enclosing functions, threading captures through.
    mutating func find(_ name: String, in fs: FunctionScope) -> (Resolution, NameDecl)? {
        for block in fs.blocks.reversed() {
            if let d = block[name] {
                return (fs.isModule ? .global(d, checked: module.allowRedefinition) : .local(d), d)
            }
        }
        guard let parent = fs.parent, let (res, d) = find(name, in: parent) else { return nil }
        switch res {
        case .local:
            d.captured = true
            return (.capture(capture(d, from: .local(d), in: fs)), d)
        case .capture(let i):
            return (.capture(capture(d, from: .capture(i), in: fs)), d)
        default:
            return (res, d)
        }
    }

    func capture(_ d: NameDecl, from source: CaptureSource, in fs: FunctionScope) -> Int {
        if let i = fs.captureIndex[ObjectIdentifier(d)] { return i }
        fs.captures.append(source)
        fs.captureIndex[ObjectIdentifier(d)] = fs.captures.count - 1
        return fs.captures.count - 1
    }

    mutating func lookup(_ ref: NameRef) {
        if let (res, _) = find(ref.name, in: scope) {
            ref.resolution = res
            return
        }
        if let d = hoisted[ref.name] ?? module.visible[ref.name] {
            if !scope.isModule || d.kind == .fn {
                ref.resolution = .global(d, checked: d.kind != .fn)
                return
            }
            error("'\(ref.name)' is used before its definition on line \(d.span.line)", ref.span)
            return
        }
        if let v = builtin(ref.name) {
            ref.resolution = .builtin(v)
            return
        }
        error("unknown name '\(ref.name)'" + suggestion(for: ref.name), ref.span)
    }

    /// ` (did you mean 'epochs'?)` when a visible name, or else a builtin, is a likely typo
    /// (`closestName`'s rule).
    func suggestion(for name: String) -> String {
        var candidates = Set(hoisted.keys).union(module.visible.keys)
        var fs: FunctionScope? = scope
        while let f = fs {
            for b in f.blocks { candidates.formUnion(b.keys) }
            fs = f.parent
        }
        guard let best = closestName(to: name, among: candidates.sorted())
            ?? closestName(to: name, among: builtinNames()) else { return "" }
        return " (did you mean '\(best)'?)"
    }
}
