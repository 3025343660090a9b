/// Expressions, lowest precedence first:
/// `|>`, `or`, `and`, `not`, comparisons, `+ -`, `* / // % @`, unary `-`, `**`, postfix.
extension Parser {
    public mutating func parseExpr() throws -> Expr {
        try nest()
        defer { depth -= 1 }
        var left = try parseOr()
        while true {
            // A pipe may start the next line: `data\n  |> f()`.
            var look = pos
            while tokens[look].kind == .newline { look += 1 }
            guard tokens[look].kind == .op("|>") else { break }
            pos = look + 1
            skipNewlines()
            let rhs = try parsePostfix()
            left = desugarPipe(left, rhs)
        }
        return left
    }

    /// `a |> f(b, c: 1)` is `f(a, b, c: 1)`; `a |> f` is `f(a)`.
    func desugarPipe(_ left: Expr, _ rhs: Expr) -> Expr {
        let span = rhs.span
        switch rhs.kind {
        case .call(let callee, let args):
            return Expr(.call(callee, [Arg(name: nil, value: left)] + args), span)
        case .method(let recv, let name, let args, _):
            return Expr(.call(Expr(.field(recv, name), span), [Arg(name: nil, value: left)] + args), span)
        default:
            return Expr(.call(rhs, [Arg(name: nil, value: left)]), span)
        }
    }

    mutating func binaryLoop(_ ops: [String], keyword: Bool = false, _ next: (inout Parser) throws -> Expr,
                             build: (String, Expr, Expr, Span) -> Expr) throws -> Expr {
        var left = try next(&self)
        while true {
            let t = current()
            let text: String
            switch t.kind {
            case .op(let o) where !keyword && ops.contains(o): text = o
            case .keyword(let k) where keyword && ops.contains(k): text = k
            default: return left
            }
            pos += 1
            skipNewlines()
            let right = try next(&self)
            left = build(text, left, right, t.span)
        }
    }

    mutating func parseOr() throws -> Expr {
        try binaryLoop(["or"], keyword: true, { try $0.parseAnd() }) { _, l, r, s in Expr(.or(l, r), s) }
    }

    mutating func parseAnd() throws -> Expr {
        try binaryLoop(["and"], keyword: true, { try $0.parseNot() }) { _, l, r, s in Expr(.and(l, r), s) }
    }

    mutating func parseNot() throws -> Expr {
        if isKeyword("not") {
            let t = advance()
            try nest()
            defer { depth -= 1 }
            return Expr(.unary("not", try parseNot()), t.span)
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws -> Expr {
        let left = try parseAdditive()
        let t = current()
        guard case .op(let op) = t.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) else { return left }
        pos += 1
        skipNewlines()
        let right = try parseAdditive()
        if case .op(let op2) = current().kind, ["==", "!=", "<", "<=", ">", ">="].contains(op2) {
            throw MLWError.syntax("comparisons cannot be chained; write 'a < b and b < c'", at: current().span)
        }
        return Expr(.binary(op, left, right), t.span)
    }

    mutating func parseAdditive() throws -> Expr {
        try binaryLoop(["+", "-"], { try $0.parseMultiplicative() }) { op, l, r, s in Expr(.binary(op, l, r), s) }
    }

    mutating func parseMultiplicative() throws -> Expr {
        try binaryLoop(["*", "/", "//", "%", "@"], { try $0.parseUnary() }) { op, l, r, s in Expr(.binary(op, l, r), s) }
    }

    mutating func parseUnary() throws -> Expr {
        if isOp("-") {
            let t = advance()
            try nest()
            defer { depth -= 1 }
            let operand = try parseUnary()
            // Fold literal negation so `-9223372036854775808` and `-1` are plain constants.
            if case .literal(.int(let v)) = operand.kind {
                return Expr(.literal(.int(v == .min ? v : -v)), t.span.through(operand.span))
            }
            if case .literal(.float(let v)) = operand.kind { return Expr(.literal(.float(-v)), t.span.through(operand.span)) }
            return Expr(.unary("-", operand), t.span)
        }
        if isOp("!") {
            throw MLWError.syntax("use 'not' for logical negation", at: current().span)
        }
        return try parsePower()
    }

    mutating func parsePower() throws -> Expr {
        let base = try parsePostfix()
        if isOp("**") {
            let t = advance()
            skipNewlines()
            try nest()
            defer { depth -= 1 }
            return Expr(.binary("**", base, try parseUnary()), t.span)
        }
        return base
    }

    /// Calls, fields and indexing. Outside brackets a newline token stops the chain, so a
    /// `(` or `[` on the next line starts a new statement.
    mutating func parsePostfix() throws -> Expr {
        var e = try parsePrimary()
        while true {
            let t = current()
            if t.kind == .op("(") {
                pos += 1
                let args = try parseArgs(close: ")", open: t)
                e = Expr(.call(e, args + (try trailingBlock())), e.span.through(t.span))
            } else if t.kind == .op(".") {
                pos += 1
                let n = try expectName("a field or method name after '.'")
                if tokens[pos].kind == .op("(") {
                    let open = tokens[pos]
                    pos += 1
                    let args = try parseArgs(close: ")", open: open)
                    e = Expr(.method(e, n.text, args + (try trailingBlock()), NameRef(name: n.text, span: n.span)), n.span)
                } else {
                    e = Expr(.field(e, n.text), n.span)
                }
            } else if t.kind == .op("[") {
                pos += 1
                e = Expr(.index(e, try parseIndexItems()), t.span)
            } else {
                return e
            }
        }
    }

    /// `stage("x", inputs: [a]) { ... }`: a block after a call is a function passed last.
    mutating func trailingBlock() throws -> [Arg] {
        guard !noTrailingBlock, tokens[pos].kind == .op("{") else { return [] }
        let body = try parseBlock("the trailing block")
        let fn = FnDecl(name: "<block>", params: [], body: Expr(.block(body), body.span), span: body.span)
        return [Arg(name: nil, value: Expr(.function(fn), body.span))]
    }

    mutating func parseArgs(close: String, open: Token) throws -> [Arg] {
        ignoreNewlines += 1
        let savedTrailing = noTrailingBlock
        noTrailingBlock = false
        defer { noTrailingBlock = savedTrailing }
        var args: [Arg] = []
        var sawNamed = false
        while !isOp(close) {
            let t = current()
            if case .name(let n) = t.kind, tokens[pos + 1].kind == .op(":") {
                pos += 2
                args.append(Arg(name: n, value: try parseExpr()))
                sawNamed = true
            } else {
                let v = try parseExpr()
                if sawNamed {
                    throw MLWError.syntax("positional argument after a named argument", at: v.span)
                }
                args.append(Arg(name: nil, value: v))
            }
            if !accept(",") { break }
        }
        guard isOp(close) else {
            ignoreNewlines -= 1
            throw unclosedOr("',' or '\(close)' in the argument list", open)
        }
        ignoreNewlines -= 1
        pos += 1
        return args
    }

    /// `xs[i]`, `xs[1:3]`, `t[:, 1:3]`, `xs[::2]`.
    mutating func parseIndexItems() throws -> [IndexItem] {
        ignoreNewlines += 1
        var items: [IndexItem] = []
        repeat {
            var parts: [Expr?] = [nil]
            var isSlice = false
            if !isOp(":") && !isOp(",") && !isOp("]") { parts[0] = try parseExpr() }
            while accept(":") {
                isSlice = true
                if parts.count == 3 { throw MLWError.syntax("a slice has at most start:stop:step", at: current().span) }
                parts.append(isOp(":") || isOp(",") || isOp("]") ? nil : try parseExpr())
            }
            if isSlice {
                while parts.count < 3 { parts.append(nil) }
                items.append(.slice(parts[0], parts[1], parts[2]))
            } else if let e = parts[0] {
                items.append(.single(e))
            } else {
                ignoreNewlines -= 1
                throw unexpected("an index")
            }
        } while accept(",")
        guard isOp("]") else {
            ignoreNewlines -= 1
            throw unexpected("']' to close the index")
        }
        ignoreNewlines -= 1
        pos += 1
        return items
    }
}
