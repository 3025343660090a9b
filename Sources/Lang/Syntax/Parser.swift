/// Recursive-descent parser with error recovery: a bad statement is reported and skipped
/// to the next line, so one run lists several syntax errors.
public struct Parser {
    var tokens: [Token]
    var pos = 0
    let file: SourceFile
    /// Inside (), [] and record braces newlines do not end anything.
    var ignoreNewlines = 0
    /// `if`/`while`/`for` heads: a `{` after a call there starts the body, not a trailing block.
    var noTrailingBlock = false
    var depth = 0
    public internal(set) var errors: [MLWError] = []
    static let maxDepth = 200
    static let maxErrors = 20

    public init(file: SourceFile) {
        self.file = file
        var lexer = Lexer(file: file)
        tokens = lexer.tokenize()
        errors = lexer.errors
    }

    init(tokens: [Token], file: SourceFile) {
        self.tokens = tokens
        self.file = file
    }

    /// Parses a whole file; throws one error carrying all syntax errors found.
    public static func parse(_ file: SourceFile) throws -> Program {
        var p = Parser(file: file)
        let lexErrors = p.errors
        let stmts = p.parseProgram()
        // A bad character or string usually derails the parser on its line (or, for an
        // unterminated string, everything after it): report the cause, not the echoes.
        let lexLines = Set(lexErrors.map(\.span.line))
        let cutoff = lexErrors.filter { $0.message.hasPrefix("unterminated") }.map(\.span.line).min() ?? Int.max
        p.errors = lexErrors + p.errors.dropFirst(lexErrors.count).filter { !lexLines.contains($0.span.line) && $0.span.line < cutoff }
        // The documented cap holds for every kind of error, whichever phase found it.
        p.errors = Array(p.errors.prefix(Parser.maxErrors))
        if var first = p.errors.first {
            first.more = Array(p.errors.dropFirst())
            throw first
        }
        return Program(stmts: stmts, file: file)
    }

    // MARK: tokens

    mutating func peekKind() -> TokenKind {
        if ignoreNewlines > 0 { while tokens[pos].kind == .newline { pos += 1 } }
        return tokens[pos].kind
    }

    mutating func current() -> Token {
        _ = peekKind()
        return tokens[pos]
    }

    mutating func advance() -> Token {
        let t = current()
        if t.kind != .eof { pos += 1 }
        return t
    }

    mutating func isOp(_ op: String) -> Bool { peekKind() == .op(op) }
    mutating func isKeyword(_ k: String) -> Bool { peekKind() == .keyword(k) }

    mutating func accept(_ op: String) -> Bool {
        if isOp(op) { pos += 1; return true }
        return false
    }

    mutating func expect(_ op: String, _ what: String) throws -> Token {
        if isOp(op) { return advance() }
        throw unexpected(what)
    }

    /// At the end of input an open bracket is the real problem: point at it.
    mutating func unclosedOr(_ expected: String, _ open: Token? = nil) -> MLWError {
        if peekKind() == .eof, let open { return .syntax("unclosed '\(open.text)' (opened here)", at: open.span) }
        return unexpected(expected)
    }

    mutating func unexpected(_ expected: String) -> MLWError {
        let t = current()
        return .syntax("expected \(expected), found \(t.quoted)", at: t.span)
    }

    /// Records an error found without stopping the statement (duplicate field, bad key),
    /// up to the cap: a record literal with 10,000 duplicate keys reports 20.
    mutating func report(_ e: MLWError) {
        if errors.count < Parser.maxErrors { errors.append(e) }
    }

    mutating func skipNewlines() { while tokens[pos].kind == .newline { pos += 1 } }

    mutating func expectName(_ what: String) throws -> Token {
        let t = current()
        if case .name = t.kind { pos += 1; return t }
        if case .keyword(let k) = t.kind {
            throw MLWError.syntax("'\(k)' is a keyword and cannot be used as \(what)", at: t.span)
        }
        throw unexpected(what)
    }

    mutating func nest() throws {
        depth += 1
        if depth > Parser.maxDepth {
            throw MLWError.syntax("program nested too deeply (more than \(Parser.maxDepth) levels)", at: current().span)
        }
    }

    // MARK: statements

    mutating func parseProgram() -> [Stmt] {
        var stmts: [Stmt] = []
        skipSeparators()
        while peekKind() != .eof {
            if errors.count >= Parser.maxErrors { break }
            let start = pos
            do {
                stmts.append(try parseStatement())
                try endOfStatement()
            } catch let e as MLWError {
                errors.append(e)
                if e.message.hasPrefix("program nested too deeply") { break }
                synchronize()
                if pos == start { pos += 1 }
            } catch { break }
            skipSeparators()
        }
        return stmts
    }

    mutating func skipSeparators() {
        while case let k = tokens[pos].kind, k == .newline || k == .op(";") { pos += 1 }
    }

    mutating func endOfStatement() throws {
        let k = tokens[pos].kind
        if k == .newline || k == .op(";") || k == .eof || k == .op("}") { return }
        throw MLWError.syntax("expected end of statement, found \(tokens[pos].quoted)", at: tokens[pos].span)
    }

    /// Skip to the start of the next statement at this nesting level.
    mutating func synchronize() {
        ignoreNewlines = 0
        noTrailingBlock = false
        depth = 0
        var nesting = 0
        while true {
            let k = tokens[pos].kind
            if k == .eof { return }
            if nesting == 0 && (k == .newline || k == .op(";")) { return }
            if nesting == 0 && k == .op("}") { return }
            if k == .op("(") || k == .op("[") || k == .op("{") { nesting += 1 }
            if k == .op(")") || k == .op("]") || k == .op("}") { nesting = max(0, nesting - 1) }
            pos += 1
        }
    }

    mutating func parseStatement() throws -> Stmt {
        let t = current()
        switch t.kind {
        case .keyword("let"), .keyword("var"), .keyword("param"):
            pos += 1
            let kind: NameDecl.Kind = t.kind == .keyword("let") ? .let : t.kind == .keyword("var") ? .var : .param
            let n = try expectName("a name")
            _ = try expect("=", "'=' after the name in '\(t.text)'")
            skipNewlines()
            let value = try parseExpr()
            return Stmt(kind: .binding(NameDecl(name: n.text, span: n.span, kind: kind), value), span: t.span.through(n.span))
        case .keyword("fn"):
            pos += 1
            let n = try expectName("a function name")
            let fn = try parseFunctionRest(name: n.text, start: t.span)
            return Stmt(kind: .fn(NameDecl(name: n.text, span: n.span, kind: .fn), fn), span: t.span.through(n.span))
        case .keyword("return"):
            pos += 1
            let k = tokens[pos].kind
            if k == .newline || k == .op(";") || k == .op("}") || k == .eof {
                return Stmt(kind: .ret(nil), span: t.span)
            }
            return Stmt(kind: .ret(try parseExpr()), span: t.span)
        case .keyword("break"):
            pos += 1
            return Stmt(kind: .brk, span: t.span)
        case .keyword("continue"):
            pos += 1
            return Stmt(kind: .cont, span: t.span)
        case .keyword("for"):
            pos += 1
            let n = try expectName("a loop variable")
            guard isKeyword("in") else { throw unexpected("'in'") }
            pos += 1
            let iter = try parseHead()
            let body = try parseBlock("the loop body")
            return Stmt(kind: .forIn(NameDecl(name: n.text, span: n.span, kind: .loop), iter, body), span: t.span)
        case .keyword("while"):
            pos += 1
            let cond = try parseHead()
            let body = try parseBlock("the loop body")
            return Stmt(kind: .whileLoop(cond, body), span: t.span)
        case .keyword("import"):
            return try parseImport()
        default:
            let e = try parseExpr()
            if case .op(let op) = tokens[pos].kind, ["=", "+=", "-=", "*=", "/="].contains(op) {
                let opTok = tokens[pos]
                pos += 1
                skipNewlines()
                let value = try parseExpr()
                let target: AssignTarget
                switch e.kind {
                case .name(let r): target = .name(r)
                case .index(let base, let items):
                    guard case .name(let r) = base.kind else { throw badTarget(e, opTok) }
                    target = .index(r, items)
                case .field(let base, let f):
                    guard case .name(let r) = base.kind else { throw badTarget(e, opTok) }
                    target = .field(r, f)
                default: throw badTarget(e, opTok)
                }
                return Stmt(kind: .assign(target, op, value), span: e.span)
            }
            return Stmt(kind: .expr(e), span: e.span)
        }
    }

    func badTarget(_ e: Expr, _ op: Token) -> MLWError {
        .syntax("cannot assign to this expression; the left of '\(op.text)' must be a name, name[index] or name.field", at: e.span)
    }

    mutating func parseImport() throws -> Stmt {
        let t = advance()
        let next = current()
        if next.kind == .string {
            pos += 1
            guard next.parts.count <= 1, case .text(let path)? = next.parts.first ?? .text("") else {
                throw MLWError.syntax("import path must be a plain string", at: next.span)
            }
            guard isKeyword("as") else { throw unexpected("'as' and a module name after the import path") }
            pos += 1
            let n = try expectName("a module name")
            let d = NameDecl(name: n.text, span: n.span, kind: .import)
            return Stmt(kind: .importModule(ImportDecl(path: path, stdName: nil, decl: d, span: t.span.through(n.span))), span: t.span)
        }
        let first = try expectName("a module path like std.metrics or a quoted file path")
        guard first.text == "std" else {
            throw MLWError.syntax("unknown module root '\(first.text)': use import std.NAME or import \"path.mlw\" as NAME", at: first.span)
        }
        _ = try expect(".", "'.' after 'std'")
        let n = try expectName("a standard module name")
        var bind = n
        if isKeyword("as") { pos += 1; bind = try expectName("a module name") }
        let d = NameDecl(name: bind.text, span: bind.span, kind: .import)
        return Stmt(kind: .importModule(ImportDecl(path: nil, stdName: n.text, decl: d, span: t.span.through(n.span))), span: t.span)
    }

    /// `(a, b: 2) = expr` or `(a) { ... }` after `fn name`.
    mutating func parseFunctionRest(name: String, start: Span) throws -> FnDecl {
        _ = try expect("(", "'(' after the function name")
        ignoreNewlines += 1
        var params: [ParamDecl] = []
        while !isOp(")") {
            params.append(try parseParam())
            if !accept(",") { break }
        }
        _ = try expect(")", "')' or ',' in the parameter list")
        ignoreNewlines -= 1
        if accept("=") {
            skipNewlines()
            return FnDecl(name: name, params: params, body: try parseExpr(), span: start)
        }
        guard isOp("{") else { throw unexpected("'=' or '{' to start the function body") }
        let body = try parseBlock("the function body")
        return FnDecl(name: name, params: params, body: Expr(.block(body), body.span), span: start)
    }

    mutating func parseParam() throws -> ParamDecl {
        let n = try expectName("a parameter name")
        var def: Expr?
        if accept(":") { def = try parseExpr() }
        return ParamDecl(decl: NameDecl(name: n.text, span: n.span, kind: .parameter), defaultValue: def)
    }

    /// A block `{ stmt; stmt }`: newlines inside separate statements again.
    mutating func parseBlock(_ what: String) throws -> Block {
        try nest()
        defer { depth -= 1 }
        guard isOp("{") else { throw unexpected("'{' to start \(what)") }
        let open = advance()
        let saved = (ignoreNewlines, noTrailingBlock)
        ignoreNewlines = 0
        noTrailingBlock = false
        defer { (ignoreNewlines, noTrailingBlock) = saved }
        var stmts: [Stmt] = []
        skipSeparators()
        while tokens[pos].kind != .op("}") {
            if tokens[pos].kind == .eof {
                throw MLWError.syntax("unclosed '{' (opened here)", at: open.span)
            }
            let start = pos
            do {
                stmts.append(try parseStatement())
                try endOfStatement()
            } catch let e as MLWError {
                if e.message.hasPrefix("program nested too deeply") || e.message.hasPrefix("unclosed") { throw e }
                errors.append(e)
                if errors.count >= Parser.maxErrors { throw e }
                synchronize()
                if pos == start { pos += 1 }
            }
            skipSeparators()
        }
        let close = tokens[pos]
        pos += 1
        return Block(stmts: stmts, span: open.span, end: close.span)
    }

    /// Condition of `if`/`while` or iterable of `for`: no trailing blocks, no records.
    mutating func parseHead() throws -> Expr {
        let saved = noTrailingBlock
        noTrailingBlock = true
        defer { noTrailingBlock = saved }
        return try parseExpr()
    }
}
