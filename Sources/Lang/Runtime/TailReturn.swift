/// Function bodies are rewritten before compiling so that returns in tail position need no
/// control flag: `return e` as the last statement is plain `e`, and an early-return guard
/// `if c { ...; return x }` followed by more statements becomes `if c {...} else {...}`.
/// The values are the same; the call then neither sets nor tests the return flag.
extension Compiler {
    func tailReturn(_ e: Expr) -> Expr {
        switch e.kind {
        case .block(var b):
            b.stmts = guardsAsElse(b.stmts)
            guard let last = b.stmts.last else { return e }
            switch last.kind {
            case .ret(let x): b.stmts[b.stmts.count - 1].kind = .expr(tailReturn(x ?? Expr(.literal(.nil), last.span)))
            case .expr(let x): b.stmts[b.stmts.count - 1].kind = .expr(tailReturn(x))
            default: return e
            }
            return Expr(.block(b), e.span)
        case .ifElse(let c, var then, let other):
            guard case .block(let t) = tailReturn(Expr(.block(then), then.span)).kind else { return e }
            then = t
            return Expr(.ifElse(c, then, other.map(tailReturn)), e.span)
        default:
            return e
        }
    }

    /// In tail position, `if c { ...; return x }; rest` is `if c { ...; return x } else { rest }`:
    /// the rest runs only when `c` is false. Left alone when the rest declares a function,
    /// whose cell is made at the entry of its block.
    func guardsAsElse(_ stmts: [Stmt]) -> [Stmt] {
        guard let i = stmts.firstIndex(where: isReturningGuard), i < stmts.count - 1,
              case .expr(let e) = stmts[i].kind, case .ifElse(let c, let then, nil) = e.kind else { return stmts }
        let rest = Array(stmts[(i + 1)...])
        if rest.contains(where: { if case .fn = $0.kind { return true } else { return false } }) { return stmts }
        let other = Expr(.block(Block(stmts: rest, span: rest[0].span)), rest[0].span)
        let joined = Stmt(kind: .expr(Expr(.ifElse(c, then, other), e.span)), span: stmts[i].span)
        return Array(stmts[..<i]) + [joined]
    }

    /// `if c { ...; return x }` without an else.
    func isReturningGuard(_ s: Stmt) -> Bool {
        guard case .expr(let e) = s.kind, case .ifElse(_, let then, nil) = e.kind,
              let last = then.stmts.last, case .ret = last.kind else { return false }
        return true
    }
}
