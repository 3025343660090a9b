/// Literals, names, brackets, `if`, lambdas and string interpolation.
extension Parser {
    mutating func parsePrimary() throws -> Expr {
        let t = current()
        switch t.kind {
        case .int(let v): pos += 1; return Expr(.literal(.int(v)), t.span)
        case .float(let v): pos += 1; return Expr(.literal(.float(v)), t.span)
        case .keyword("true"): pos += 1; return Expr(.literal(.bool(true)), t.span)
        case .keyword("false"): pos += 1; return Expr(.literal(.bool(false)), t.span)
        case .keyword("nil"): pos += 1; return Expr(.literal(.nil), t.span)
        case .string: pos += 1; return try stringExpr(t)
        case .name(let n): pos += 1; return Expr(.name(NameRef(name: n, span: t.span)), t.span)
        case .keyword("if"): return try parseIf()
        case .op("("):
            pos += 1
            ignoreNewlines += 1
            let savedTrailing = noTrailingBlock
            noTrailingBlock = false
            let e = try parseExpr()
            noTrailingBlock = savedTrailing
            guard isOp(")") else { ignoreNewlines -= 1; throw unclosedOr("')'", t) }
            ignoreNewlines -= 1
            pos += 1
            return e
        case .op("["): return try parseList()
        case .op("{"):
            if looksLikeRecord() { return try parseRecord() }
            let b = try parseBlock("a block")
            return Expr(.block(b), b.span)
        case .op("|"): return try parseLambda()
        case .keyword("fn"):
            pos += 1
            return Expr(.function(try parseFunctionRest(name: "<fn>", start: t.span)), t.span)
        case .keyword(let k):
            if ["let", "var", "param", "return", "break", "continue", "for", "while", "import"].contains(k) {
                throw MLWError.syntax("'\(k)' is a statement and cannot be used as a value here", at: t.span)
            }
            throw unexpected("an expression")
        default:
            throw unexpected("an expression")
        }
    }

    /// `{}` and `{name: ...}`, `{"key": ...}`, `{...r}` are records; anything else is a block.
    func looksLikeRecord() -> Bool {
        var i = pos + 1
        while tokens[i].kind == .newline { i += 1 }
        switch tokens[i].kind {
        case .op("}"), .op("..."): return true
        case .name, .string: return tokens[i + 1].kind == .op(":")
        default: return false
        }
    }

    mutating func parseRecord() throws -> Expr {
        let open = advance()
        ignoreNewlines += 1
        defer { ignoreNewlines -= 1 }
        var items: [RecordItem] = []
        var seen: [String: Span] = [:]
        while !isOp("}") {
            if accept("...") {
                items.append(.spread(try parseExpr()))
            } else {
                let k = current()
                let key: String
                switch k.kind {
                case .name(let n): key = n
                case .string:
                    if k.parts.count <= 1, case .text(let s)? = k.parts.first ?? .text("") { key = s } else {
                        report(.syntax("record keys must be plain strings", at: k.span))
                        key = "<interpolated>"
                    }
                default: throw unclosedOr("a field name or '...' in the record", open)
                }
                pos += 1
                _ = try expect(":", "':' after the field name")
                if seen[key] != nil { report(.syntax("duplicate field '\(key)' in record", at: k.span)) }
                seen[key] = k.span
                items.append(.field(key, try parseExpr(), k.span))
            }
            if !accept(",") { break }
        }
        guard isOp("}") else { throw unclosedOr("',' or '}' in the record", open) }
        pos += 1
        return Expr(.record(items), open.span)
    }

    mutating func parseList() throws -> Expr {
        let open = advance()
        ignoreNewlines += 1
        defer { ignoreNewlines -= 1 }
        var items: [ListItem] = []
        while !isOp("]") {
            if accept("...") { items.append(.spread(try parseExpr())) } else { items.append(.item(try parseExpr())) }
            if !accept(",") { break }
        }
        guard isOp("]") else { throw unclosedOr("',' or ']' in the list", open) }
        pos += 1
        return Expr(.list(items), open.span)
    }

    mutating func parseIf() throws -> Expr {
        let t = advance()
        let cond = try parseHead()
        let then = try parseBlock("the 'if' body")
        var look = pos
        while tokens[look].kind == .newline { look += 1 }
        guard tokens[look].kind == .keyword("else") else { return Expr(.ifElse(cond, then, nil), t.span) }
        pos = look + 1
        if isKeyword("if") {
            return Expr(.ifElse(cond, then, try parseIf()), t.span)
        }
        let other = try parseBlock("the 'else' body")
        return Expr(.ifElse(cond, then, Expr(.block(other), other.span)), t.span)
    }

    /// `|x, y: 2| expr` or `|| { ... }`.
    mutating func parseLambda() throws -> Expr {
        let open = advance()
        var params: [ParamDecl] = []
        while !isOp("|") {
            params.append(try parseParam())
            if !accept(",") { break }
        }
        _ = try expect("|", "'|' to close the parameter list")
        skipNewlines()
        let body = try parseExpr()
        return Expr(.function(FnDecl(name: "<lambda>", params: params, body: body, span: open.span)), open.span)
    }

    mutating func stringExpr(_ t: Token) throws -> Expr {
        var parts: [InterpPart] = []
        for p in t.parts {
            switch p {
            case .text(let s): parts.append(.text(s))
            case .code(let toks, let span):
                var sub = Parser(tokens: toks, file: file)
                sub.depth = depth
                sub.ignoreNewlines = 1
                guard sub.tokens.count > 1 else { continue }
                let e = try sub.parseExpr()
                if sub.peekKind() != .eof {
                    throw MLWError.syntax("unexpected \(sub.current().quoted) in string interpolation", at: sub.current().span)
                }
                errors += sub.errors
                _ = span
                parts.append(.expr(e))
            }
        }
        if parts.isEmpty { return Expr(.literal(.string("")), t.span) }
        if parts.count == 1, case .text(let s) = parts[0] { return Expr(.literal(.string(s)), t.span) }
        return Expr(.interpolated(parts), t.span)
    }
}
