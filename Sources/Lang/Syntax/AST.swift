/// The syntax tree. Names carry a mutable resolution slot that the resolver fills in,
/// so the compiler reads the answer instead of searching scopes again.

/// A place where a name is declared (let, var, param, fn, a function parameter, a loop variable).
public final class NameDecl {
    public enum Kind: String { case `let`, `var`, param, fn, parameter, loop, `import` }
    public let name: String
    public let span: Span
    public let kind: Kind
    /// Slot index in its frame (function) or in its module's globals.
    public var slot = -1
    public var isGlobal = false
    /// Read by an inner function: lives in a heap cell so the closure can share it.
    public var captured = false

    init(name: String, span: Span, kind: Kind) {
        self.name = name
        self.span = span
        self.kind = kind
    }

    var mutable: Bool { kind == .var }
}

/// Where a name's value lives, decided once by the resolver.
public enum Resolution {
    case unresolved
    case local(NameDecl)
    case capture(Int)
    /// `checked`: the global may be read before its declaration ran (from a function body).
    case global(NameDecl, checked: Bool)
    case builtin(Value)
}

public final class NameRef {
    public let name: String
    public let span: Span
    public var resolution: Resolution = .unresolved
    init(name: String, span: Span) {
        self.name = name
        self.span = span
    }
}

public struct Block {
    public var stmts: [Stmt]
    public var span: Span
    /// The closing brace, so a block's source text can be recovered (stage cache keys).
    public var end: Span = .none
}

public struct ParamDecl {
    public var decl: NameDecl
    public var defaultValue: Expr?
}

/// A function literal: `fn name(a, b: 2) = expr`, `fn name(a) { ... }` or `|x| x * 2`.
public final class FnDecl {
    public let name: String
    public let params: [ParamDecl]
    public let body: Expr
    public let span: Span
    /// Filled by the resolver.
    public var frameSize = 0
    public var captures: [CaptureSource] = []

    init(name: String, params: [ParamDecl], body: Expr, span: Span) {
        self.name = name
        self.params = params
        self.body = body
        self.span = span
    }
}

/// Where a closure's captured cell comes from in the enclosing function at creation time.
public enum CaptureSource {
    case local(NameDecl)
    case capture(Int)
}

public struct Arg {
    public var name: String?
    public var value: Expr
}

public enum IndexItem {
    case single(Expr)
    case slice(Expr?, Expr?, Expr?)
}

public enum RecordItem {
    case field(String, Expr, Span)
    case spread(Expr)
}

public enum ListItem {
    case item(Expr)
    case spread(Expr)
}

public enum InterpPart {
    case text(String)
    case expr(Expr)
}

public indirect enum ExprKind {
    case literal(Value)
    case interpolated([InterpPart])
    case name(NameRef)
    case list([ListItem])
    case record([RecordItem])
    case unary(String, Expr)
    case binary(String, Expr, Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case call(Expr, [Arg])
    /// `recv.name(args)`: a field holding a function, a native method, or else the function
    /// `name` in scope called with `recv` first (so `xs.map(f)` is `map(xs, f)`).
    case method(Expr, String, [Arg], NameRef)
    case field(Expr, String)
    case index(Expr, [IndexItem])
    case ifElse(Expr, Block, Expr?)
    case block(Block)
    case function(FnDecl)
}

public final class Expr {
    public let kind: ExprKind
    public let span: Span
    init(_ kind: ExprKind, _ span: Span) {
        self.kind = kind
        self.span = span
    }
}

public struct ImportDecl {
    /// `import "lib/util.mlw" as util` has a path; `import std.metrics` has a std name.
    public var path: String?
    public var stdName: String?
    public var decl: NameDecl
    public var span: Span
}

public enum AssignTarget {
    case name(NameRef)
    case index(NameRef, [IndexItem])
    case field(NameRef, String)
}

public enum StmtKind {
    case expr(Expr)
    case binding(NameDecl, Expr)
    case fn(NameDecl, FnDecl)
    case assign(AssignTarget, String, Expr)
    case ret(Expr?)
    case brk
    case cont
    case forIn(NameDecl, Expr, Block)
    case whileLoop(Expr, Block)
    case importModule(ImportDecl)
}

public struct Stmt {
    public var kind: StmtKind
    public var span: Span
}

/// A parsed file: its statements and where it came from.
public struct Program {
    public var stmts: [Stmt]
    public var file: SourceFile
}
