/// Compiled code: each AST node becomes a Swift closure over the context, so running a
/// program is a chain of direct calls with names already resolved to slots.
public typealias Eval = (Ctx) throws -> Value

/// A compiled script function: parameters, defaults, frame size and body.
public final class FnProto {
    let name: String
    let paramNames: [String]
    /// Default value code, run in the callee's frame; nil for required parameters.
    let defaults: [Eval?]
    /// Parameters that inner closures capture must start life in a cell.
    let boxedParams: [Int]
    let frameSize: Int
    let captures: [CaptureSource]
    let body: Eval
    /// The body behind an unretained reference: calling it then costs no reference counting.
    let code: Unmanaged<CodeBox>
    private let codeOwner: CodeBox
    /// No defaults to fill and no cells to make: calls with all arguments take the fast path.
    let simple: Bool
    let span: Span
    var sourceText = ""

    init(name: String, paramNames: [String], defaults: [Eval?], boxedParams: [Int], frameSize: Int,
         captures: [CaptureSource], body: @escaping Eval, span: Span) {
        self.body = body
        self.codeOwner = CodeBox(body)
        self.code = Unmanaged.passUnretained(codeOwner)
        self.simple = boxedParams.isEmpty
        self.name = name
        self.paramNames = paramNames
        self.defaults = defaults
        self.boxedParams = boxedParams
        self.frameSize = frameSize
        self.captures = captures
        self.span = span
    }
}

/// A function value: a script closure (prototype plus captured cells) or a native.
public final class Function {
    public let name: String
    /// The source text of a script function's body (e.g. to key a cache on the code).
    public var sourceText: String { proto?.sourceText ?? "<native \(name)>" }
    /// Where a script function starts (its file and position); nil for natives.
    public var sourceSpan: Span? { proto?.span }
    let proto: FnProto?
    let captures: [Cell]
    public let native: NativeFunction?
    /// Alternatives of an overloaded native, chosen by the type of the first argument.
    let overloads: [NativeFunction]

    init(proto: FnProto, captures: [Cell]) {
        self.name = proto.name
        self.proto = proto
        self.captures = captures
        self.native = nil
        self.overloads = []
    }

    public init(native: NativeFunction, overloads: [NativeFunction] = []) {
        self.name = native.name
        self.proto = nil
        self.captures = []
        self.native = native
        self.overloads = overloads
    }

    public var signature: String {
        if let native { return native.signature }
        return "\(name)(\(proto?.paramNames.joined(separator: ", ") ?? ""))"
    }

    /// The native to run for these arguments: the overload whose first parameter accepts
    /// the first positional argument (a specific type before `any`); with no positional
    /// argument, one whose first parameter may be left out. Else the primary one, whose
    /// binding then reports the mismatch.
    func pickNative(first: Value?) -> NativeFunction? {
        guard let native else { return nil }
        guard !overloads.isEmpty else { return native }
        let all = [native] + overloads
        guard let first else {
            return all.first { $0.params.first.map { $0.defaultValue != nil } ?? true } ?? native
        }
        if let f = all.first(where: { $0.params.first.map { $0.type.accepts(first) && !isAnyType($0.type) } ?? false }) { return f }
        if let f = all.first(where: { $0.params.first.map { isAnyType($0.type) } ?? false }) { return f }
        return native
    }
}

func isAnyType(_ t: ParamType) -> Bool { if case .any = t { return true } else { return false } }

/// Storage of one module's top-level names, shared by all code compiled in the module.
public final class Globals {
    var slots: UnsafeMutablePointer<Value>
    var capacity: Int

    init(capacity: Int = 64) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: .undefined, count: capacity)
    }

    func ensure(_ n: Int) {
        guard n > capacity else { return }
        let newCap = max(n, capacity * 2)
        let p = UnsafeMutablePointer<Value>.allocate(capacity: newCap)
        p.moveInitialize(from: slots, count: capacity)
        (p + capacity).initialize(repeating: .undefined, count: newCap - capacity)
        slots.deallocate()
        slots = p
        capacity = newCap
    }

    deinit {
        clearSlots(slots, count: capacity)
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }
}

/// Control flow signals, kept in the context instead of thrown, since `return` is hot.
enum Control {
    static let none = 0, breakLoop = 1, continueLoop = 2, returning = 3
}

/// Set from a signal handler (Ctrl-C): the running program stops at its next check.
nonisolated(unsafe) public var mlwInterruptRequested: Int32 = 0

/// The execution state: one value stack holding every active frame, the current frame
/// base, the running closure's captured cells, and the control flag.
public final class Ctx {
    let stack: UnsafeMutablePointer<Value>
    /// Slots initialized so far (all nil above `top`): the bound the hot paths check.
    /// Initialized in chunks as frames reach it, so a short script does not touch (and
    /// page-fault in) the whole stack at start.
    private(set) var capacity: Int
    /// The stack's full size; pushing past it is a stack overflow.
    let maxCapacity: Int
    var base = 0
    var top = 0
    /// The running script closure (its captured cells); unowned because the caller holds it.
    var closure: Unmanaged<Function>?

    /// The running closure's captured cell `i`.
    @inline(__always) func capture(_ i: Int) -> Cell {
        closure!._withUnsafeGuaranteedRef { $0.captures[i] }
    }
    var ctl = Control.none
    var retval: Value = .nil
    var depth = 0
    let maxDepth: Int
    /// Loop iterations and calls until the next interrupt/budget check.
    var tick = 1024
    /// Remaining steps when a budget is set (robustness tests); nil: unlimited.
    var budget: Int?
    unowned(unsafe) var interpreter: Interpreter!

    init(capacity: Int = 1 << 18, maxDepth: Int = 4000) {
        maxCapacity = capacity
        self.maxDepth = maxDepth
        stack = .allocate(capacity: capacity)
        self.capacity = min(capacity, 4096)
        stack.initialize(repeating: .nil, count: self.capacity)
    }

    /// Initializes more slots so that `needed` fit; false when past the full size.
    @inline(never) func grow(to needed: Int) -> Bool {
        guard needed <= maxCapacity else { return false }
        let newCapacity = min(maxCapacity, max(needed, capacity * 2))
        (stack + capacity).initialize(repeating: .nil, count: newCapacity - capacity)
        capacity = newCapacity
        return true
    }

    deinit {
        clearSlots(stack, count: capacity)
        stack.deinitialize(count: capacity)
        stack.deallocate()
    }

    /// Called every 1024 ticks: honours Ctrl-C and the step budget.
    func poll(_ span: Span) throws {
        tick = 1024
        if mlwInterruptRequested != 0 {
            mlwInterruptRequested = 0
            throw MLWError.runtime("interrupted", at: span)
        }
        if let b = budget {
            if b <= 0 { throw MLWError.runtime("step budget exhausted", at: span) }
            budget = b - 1024
        }
    }

    /// Clears slots `[from, top)` after an error unwound through them, and pops them.
    func unwind(to from: Int) {
        var i = from
        while i < top { storeSlot(stack + i, .nil); i += 1 }
        top = from
    }
}

/// Holds a compiled body; see `FnProto.code`.
final class CodeBox {
    let run: Eval
    init(_ run: @escaping Eval) { self.run = run }
}
