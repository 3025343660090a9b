import Foundation
import Lang

/// Which script parameters a stage reads, so its cache key holds only those: changing
/// `epochs`, used only by training, must not re-run data preparation.
///
/// The rule (Docs/frames.md, "Stage cache"): start from the names in the stage's block,
/// then follow the script's top-level declarations by name, transitively: a `let`/`param`
/// brings the names of its statement, a `fn` the names of its body, an assignment the names
/// of its statement, and a `var` the names of every top-level statement that mentions it
/// (a loop or function may change it). The parameters reached are the ones in the key.
/// Anything the file cannot show falls back to every parameter (the safe old rule): a
/// block written inside a function (its locals may carry any parameter), a name bound by
/// an `import`, the `params()` function, a name the block reads that is neither declared in
/// the block, at the top level nor a builtin (a loop variable, a lambda's parameter), or a
/// block whose file is unknown.
///
///     stageParams(body, interp)   // ["seed"]: the block uses `seed` (or a function that does)
enum StageDeps {
    /// Names of the parameters the block reads; nil means "all of them" (see above).
    static func params(_ body: Function, _ interp: Interpreter) -> Set<String>? {
        guard let span = body.sourceSpan, let file = span.file else { return nil }
        let map = dependencyMap(file, interp)
        guard let offset = map.offset(line: span.line, col: span.col), !map.insideFunction(offset) else { return nil }
        var lexer = Lexer(file: SourceFile(name: "<stage>", text: body.sourceText))
        let tokens = lexer.tokenize()
        let read = names(tokens)
        let free = read.subtracting(declared(tokens)).filter { map.defined[$0] == nil && interp.builtin($0) == nil }
        guard free.isEmpty else { return nil }
        var seen = Set<String>(), work = Array(read)
        while let name = work.popLast() {
            guard seen.insert(name).inserted else { continue }
            if name == "params" && map.defined[name] == nil { return nil }   // the params() builtin reads them all
            if map.imports.contains(name) { return nil }
            work.append(contentsOf: map.deps[name] ?? [])
        }
        return seen.intersection(map.params)
    }

    /// One parse per file and interpreter (a script calls `stage` a few times).
    private static func dependencyMap(_ file: SourceFile, _ interp: Interpreter) -> DependencyMap {
        let key = "stage.deps." + (file.path ?? file.name) + "#\(file.text.count)"
        if let m = interp.extensions[key] as? DependencyMap, m.file === file { return m }
        let m = DependencyMap(file)
        interp.extensions[key] = m
        return m
    }

    /// Identifier tokens (inside string interpolations too), except field names after a dot
    /// and labels before a colon (record keys, named arguments).
    static func names(_ tokens: [Token]) -> Set<String> {
        var out = Set<String>()
        for (i, t) in tokens.enumerated() {
            switch t.kind {
            case .name(let n):
                let afterDot = i > 0 && tokens[i - 1].kind == .op(".")
                let label = i + 1 < tokens.count && tokens[i + 1].kind == .op(":")
                if !afterDot && !label { out.insert(n) }
            case .string:
                for case .code(let inner, _) in t.parts { out.formUnion(names(inner)) }
            default: break
            }
        }
        return out
    }

    /// Names a block declares itself: after `let`, `var`, `for`, `fn`, a `fn`'s parameters
    /// and a lambda's `|a, b|` header (over-approximated: any name between the bars).
    static func declared(_ tokens: [Token]) -> Set<String> {
        var out = Set<String>()
        var i = 0
        func name(_ j: Int) -> String? {
            if j < tokens.count, case .name(let n) = tokens[j].kind { return n }
            return nil
        }
        while i < tokens.count {
            switch tokens[i].kind {
            case .keyword("let"), .keyword("var"), .keyword("for"):
                if let n = name(i + 1) { out.insert(n) }
            case .keyword("fn"):
                var j = i + 1
                if let n = name(j) { out.insert(n); j += 1 }
                if j < tokens.count, tokens[j].kind == .op("(") {
                    var depth = 0
                    while j < tokens.count {
                        if tokens[j].kind == .op("(") { depth += 1 }
                        if tokens[j].kind == .op(")") { depth -= 1; if depth == 0 { break } }
                        if depth == 1, let n = name(j + 1), tokens[j].kind == .op("(") || tokens[j].kind == .op(",") { out.insert(n) }
                        j += 1
                    }
                }
            case .op("|"):
                var j = i + 1
                while j < tokens.count, tokens[j].kind != .op("|"), tokens[j].kind != .newline {
                    if let n = name(j) { out.insert(n) }
                    j += 1
                }
                i = j
            default: break
            }
            i += 1
        }
        return out
    }
}

/// A file's top-level declarations: what each name depends on, which names are
/// parameters, variables and imports, and where the top-level functions lie.
final class DependencyMap {
    let file: SourceFile
    private(set) var deps: [String: Set<String>] = [:]
    private(set) var defined: [String: NameDecl.Kind] = [:]
    private(set) var params = Set<String>()
    private(set) var imports = Set<String>()
    /// Byte ranges of top-level `fn` statements.
    private var functions: [Range<Int>] = []
    /// Set when the file does not parse or lex cleanly: every question falls back.
    private var broken = false

    init(_ file: SourceFile) {
        self.file = file
        guard let program = try? Parser.parse(file) else { broken = true; return }
        var lexer = Lexer(file: file)
        let tokens = lexer.tokenize()
        if !lexer.errors.isEmpty { broken = true; return }
        let starts = program.stmts.map { offset(line: $0.span.line, col: $0.span.col) ?? 0 }
        // Each statement's names: the tokens from its start to the next statement's start.
        var stmtNames = Array(repeating: [Token](), count: starts.count)
        for t in tokens {
            guard let at = offset(line: t.span.line, col: t.span.col),
                  let i = starts.lastIndex(where: { $0 <= at }) else { continue }
            stmtNames[i].append(t)
        }
        let sets = stmtNames.map { StageDeps.names($0) }
        var vars = Set<String>()
        for (i, stmt) in program.stmts.enumerated() {
            switch stmt.kind {
            case .binding(let decl, _):
                define(decl, sets[i])
                if decl.kind == .var { vars.insert(decl.name) }
            case .fn(let decl, _):
                define(decl, sets[i])
                functions.append(starts[i]..<(i + 1 < starts.count ? starts[i + 1] : file.text.count))
            case .assign(let target, _, _):
                let name: String
                switch target {
                case .name(let r), .index(let r, _), .field(let r, _): name = r.name
                }
                deps[name, default: []].formUnion(sets[i])
            case .importModule(let imp):
                imports.insert(imp.decl.name)
                defined[imp.decl.name] = .import
            default: break
            }
        }
        // A variable may be changed by any statement that mentions it.
        for names in sets {
            for v in vars where names.contains(v) { deps[v, default: []].formUnion(names) }
        }
    }

    private func define(_ decl: NameDecl, _ names: Set<String>) {
        defined[decl.name] = decl.kind
        deps[decl.name, default: []].formUnion(names)
        if decl.kind == .param { params.insert(decl.name) }
    }

    func offset(line: Int, col: Int) -> Int? {
        guard !broken, line >= 1, line <= file.lineStarts.count, col >= 1 else { return nil }
        return file.lineStarts[line - 1] + col - 1
    }

    /// Whether a byte offset lies inside a top-level function (a block there may read the
    /// function's parameters and locals, which the map cannot follow). A top-level function
    /// passed as the stage's body starts where its statement starts: that is not inside.
    func insideFunction(_ at: Int) -> Bool {
        functions.contains { $0.contains(at) && $0.lowerBound != at }
    }
}
