/// An MLW value. Numbers are unboxed; lists are Swift arrays (copy-on-write value
/// semantics); records are immutable ordered maps; natives are opaque Swift objects
/// (tensors, datasets, models) that define their own operators, fields and printing.
public enum Value {
    case `nil`
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    case record(Record)
    case function(Function)
    case native(any NativeValue)
    /// Internal: a captured variable's shared storage. Never seen by scripts.
    case cell(Cell)
    /// Internal: a global read before its declaration ran. Never seen by scripts.
    case undefined

    /// The type name used in messages: `expected integer, got string`.
    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .bool: return "bool"
        case .int: return "integer"
        case .float: return "float"
        case .string: return "string"
        case .list: return "list"
        case .record(let r): return r.isModule ? "module" : "record"
        case .function: return "function"
        case .native(let n): return n.typeName
        case .cell, .undefined: return "internal"
        }
    }

    public var isNil: Bool { if case .nil = self { return true } else { return false } }
}

/// Storage for a variable that a closure captured, shared by the frame and the closure.
public final class Cell {
    public var value: Value
    init(_ value: Value) { self.value = value }
    deinit { if case .list = value { Value.dropDeep(&value) } }
}

/// An immutable ordered record `{lr: 0.1, epochs: 10}`; modules are records too.
public final class Record {
    public let keys: [String]
    /// Only `deinit` writes it (to take the children apart without recursion).
    public private(set) var values: [Value]
    /// Set for the record that stands for an imported module.
    public let moduleName: String?
    private var index: [String: Int]?

    public var isModule: Bool { moduleName != nil }

    public init(keys: [String], values: [Value], moduleName: String? = nil) {
        self.keys = keys
        self.values = values
        self.moduleName = moduleName
        if keys.count > 8 {
            var d: [String: Int] = [:]
            for (i, k) in keys.enumerated() { d[k] = i }
            index = d
        }
    }

    /// Freeing a deeply nested value must not recurse once per level: Swift releases
    /// a record's values when the record dies, each nested record's values in turn, and
    /// 3,000,000 levels (`x = {a: x}` in a loop) overflow the stack. So a record holding
    /// records or lists takes apart its uniquely owned descendants with a worklist: each
    /// one's children move onto the list before it is released, so no release recurses
    /// more than one level. Shared descendants are only released (someone else keeps
    /// them alive). A chain of lists with no record in it has no such hook (Swift's
    /// array storage cannot have a deinit); see Docs/robustness.md.
    deinit {
        guard values.contains(where: \.isContainer) else { return }
        var work = values
        values = []
        Value.dismantle(&work)
    }

    /// Releases the values in `work` without recursing: a uniquely owned record or list
    /// gives its children to `work` before it is released (see `deinit`).
    static func dismantle(_ work: inout [Value]) {
        while var v = work.popLast() {
            if var r = Record.take(record: &v) {
                if isKnownUniquelyReferenced(&r), r.values.contains(where: \.isContainer) {
                    work.append(contentsOf: r.values)
                    r.values = []
                }
            } else if var xs = Record.take(list: &v) {
                if isUniqueArray(&xs), xs.contains(where: \.isContainer) {
                    work.append(contentsOf: xs)
                    xs = []
                }
            }
        }
    }

    /// The record in `v`, leaving `.nil` behind, so the caller holds the only reference
    /// `v` had (a pattern binding may borrow instead, and then clearing `v` frees it).
    @inline(never) static func take(record v: inout Value) -> Record? {
        guard case .record(let r) = v else { return nil }
        v = .nil
        return r
    }

    /// The list in `v`, leaving `.nil` behind (see `take(record:)`).
    @inline(never) static func take(list v: inout Value) -> [Value]? {
        guard case .list(let xs) = v else { return nil }
        v = .nil
        return xs
    }

    public convenience init(_ pairs: [(String, Value)]) {
        self.init(keys: pairs.map { $0.0 }, values: pairs.map { $0.1 })
    }

    public subscript(key: String) -> Value? {
        if let index { return index[key].map { values[$0] } }
        for i in keys.indices where keys[i] == key { return values[i] }
        return nil
    }

    public var pairs: [(String, Value)] { Array(zip(keys, values)) }

    /// A copy with `key` set (replaced in place if present, appended otherwise).
    public func setting(_ key: String, _ value: Value) -> Record {
        var k = keys, v = values
        if let i = k.firstIndex(of: key) { v[i] = value } else { k.append(key); v.append(value) }
        return Record(keys: k, values: v)
    }
}

extension Value {
    /// Drops a value that may be a deep chain of lists without recursing (a chain of
    /// lists has no deinit of its own to do it: see `Record.deinit`). Called where the
    /// interpreter overwrites or clears a slot holding a list.
    @inline(never) static func dropDeep(_ v: inout Value) {
        guard var xs = Record.take(list: &v) else { return }
        guard isUniqueArray(&xs), xs.contains(where: \.isContainer) else { return }
        var work = xs
        xs = []
        dismantle(&work)
    }

    static func dismantle(_ work: inout [Value]) { Record.dismantle(&work) }

    /// Sets `v` to nil, freeing a deep chain of lists without recursion: for callers
    /// outside Lang that drop a value the interpreter returned (`mlw run` drops the
    /// script's last value, which `reduce(xs, |a, x| [a], [])` makes a deep chain).
    public static func release(_ v: inout Value) {
        if case .list = v { dropDeep(&v) } else { v = .nil }
    }
}

/// Drops a statement's discarded value; a list may be a deep chain built by a native
/// (`reduce(xs, |acc, x| [acc], [])` as a statement), freed with `dropDeep`.
@inline(__always) func discard(_ v: consuming Value) {
    if case .list = v {
        var x = consume v
        Value.dropDeep(&x)
    }
}

/// Stores `v` over a slot holding a list, dropping the old list with `dropDeep`.
@inline(never) func storeOverList(_ p: UnsafeMutablePointer<Value>, _ v: Value) {
    var old = p.move()
    p.initialize(to: v)
    Value.dropDeep(&old)
}

/// Drops a native call's arguments, taking deep lists apart (see `Value.dropDeep`).
@inline(__always) func dropArguments(_ xs: inout [Value]) {
    guard xs.contains(where: \.isContainer) else { return }
    var work = xs
    xs = []
    Value.dismantle(&work)
}

/// Clears `count` slots from `p` on, dropping lists with `dropDeep` (frames, globals).
func clearSlots(_ p: UnsafeMutablePointer<Value>, count: Int) {
    for i in 0..<count where p[i].isContainer {
        var old = (p + i).move()
        (p + i).initialize(to: .nil)
        Value.dropDeep(&old)
    }
}

/// Whether `xs` is the only reference to its storage. `[Value]` is a single reference
/// to its storage object on Linux (no Objective-C bridging), so the storage's reference
/// count answers it; a wrong answer could only cost time, never correctness (the
/// caller copies the elements out and drops its reference either way).
@inline(__always) func isUniqueArray(_ xs: inout [Value]) -> Bool {
    guard MemoryLayout<[Value]>.size == MemoryLayout<AnyObject>.size else { return false }
    return withUnsafeMutablePointer(to: &xs) { p in
        p.withMemoryRebound(to: AnyObject.self, capacity: 1) { isKnownUniquelyReferenced(&$0.pointee) }
    }
}

extension Value {
    /// Lists and records: the values that can nest.
    var isContainer: Bool {
        switch self {
        case .list, .record: return true
        default: return false
        }
    }
}

extension Value {
    public static func record(_ pairs: [(String, Value)]) -> Value { .record(Record(pairs)) }
    public static func strings(_ xs: [String]) -> Value { .list(xs.map { .string($0) }) }
    public static func doubles(_ xs: [Double]) -> Value { .list(xs.map { .float($0) }) }
}

// MARK: equality and ordering

extension Value {
    /// Structural equality; 1 == 1.0; natives compare by identity unless they say otherwise.
    /// Lists and records are walked with a worklist, not recursion, so any nesting depth
    /// compares without touching the native stack.
    public func equals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.list, .list), (.record, .record): return Value.deepEquals(self, other)
        default: return shallowEquals(other)
        }
    }

    static func deepEquals(_ a: Value, _ b: Value) -> Bool {
        var work: [(Value, Value)] = [(a, b)]
        while let (x, y) = work.popLast() {
            switch (x, y) {
            case let (.list(p), .list(q)):
                guard p.count == q.count else { return false }
                // Pushed last-first so the first items are compared first (early exit).
                for i in p.indices.reversed() {
                    if p[i].isContainer || q[i].isContainer { work.append((p[i], q[i])) }
                    else if !p[i].shallowEquals(q[i]) { return false }
                }
            case let (.record(r), .record(s)):
                if r === s { continue }
                guard r.keys.count == s.keys.count else { return false }
                for (i, k) in r.keys.enumerated() {
                    guard let sv = s[k] else { return false }
                    work.append((r.values[i], sv))
                }
            default:
                if !x.shallowEquals(y) { return false }
            }
        }
        return true
    }

    /// Equality of everything but the contents of lists and records.
    func shallowEquals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.nil, .nil): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.float(a), .float(b)): return a == b
        case let (.int(a), .float(b)): return Double(a) == b && b.magnitude < 9.3e18 && Int(b) == a
        case let (.float(a), .int(b)): return Double(b) == a && a.magnitude < 9.3e18 && Int(a) == b
        case let (.string(a), .string(b)): return a == b
        case (.list, .list), (.record, .record): return Value.deepEquals(self, other)
        case let (.function(a), .function(b)): return a === b
        case let (.native(a), .native(b)): return a.isEqual(to: b)
        default: return false
        }
    }

    /// Ordering for `<` and `sort`: numbers with numbers, strings with strings, lists
    /// lexicographically; nil when the two cannot be compared.
    public func compare(_ other: Value) -> Int? {
        switch (self, other) {
        case let (.int(a), .int(b)): return a < b ? -1 : (a > b ? 1 : 0)
        case let (.string(a), .string(b)): return a < b ? -1 : (a > b ? 1 : 0)
        case let (.list(a), .list(b)): return Value.compareLists(a, b)
        case let (.bool(a), .bool(b)): return a == b ? 0 : (a ? 1 : -1)
        default:
            guard let a = asDouble, let b = other.asDouble else { return nil }
            if a.isNaN || b.isNaN { return nil }
            return a < b ? -1 : (a > b ? 1 : 0)
        }
    }

    /// Lexicographic order of nested lists, with an explicit stack of (left, right,
    /// position) instead of recursion, so any nesting depth is safe.
    static func compareLists(_ a: [Value], _ b: [Value]) -> Int? {
        var stack: [([Value], [Value], Int)] = [(a, b, 0)]
        while let (xs, ys, i) = stack.last {
            if i >= xs.count || i >= ys.count {
                stack.removeLast()
                if xs.count != ys.count { return xs.count < ys.count ? -1 : 1 }
                if !stack.isEmpty { stack[stack.count - 1].2 += 1 }
                continue
            }
            if case .list(let p) = xs[i], case .list(let q) = ys[i] {
                stack.append((p, q, 0))
                continue
            }
            guard let c = xs[i].compare(ys[i]) else { return nil }
            if c != 0 { return c }
            stack[stack.count - 1].2 += 1
        }
        return 0
    }

    public var asDouble: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .float(let v): return v
        default: return nil
        }
    }
}
