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
}

/// An immutable ordered record `{lr: 0.1, epochs: 10}`; modules are records too.
public final class Record {
    public let keys: [String]
    public let values: [Value]
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
    public static func record(_ pairs: [(String, Value)]) -> Value { .record(Record(pairs)) }
    public static func strings(_ xs: [String]) -> Value { .list(xs.map { .string($0) }) }
    public static func doubles(_ xs: [Double]) -> Value { .list(xs.map { .float($0) }) }
}

// MARK: equality and ordering

extension Value {
    /// Structural equality; 1 == 1.0; natives compare by identity unless they say otherwise.
    public func equals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.nil, .nil): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.float(a), .float(b)): return a == b
        case let (.int(a), .float(b)): return Double(a) == b && b.magnitude < 9.3e18 && Int(b) == a
        case let (.float(a), .int(b)): return Double(b) == a && a.magnitude < 9.3e18 && Int(a) == b
        case let (.string(a), .string(b)): return a == b
        case let (.list(a), .list(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.equals($1) }
        case let (.record(a), .record(b)):
            if a === b { return true }
            return a.keys.count == b.keys.count && a.keys.allSatisfy { k in b[k].map { a[k]!.equals($0) } ?? false }
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
        case let (.list(a), .list(b)):
            for (x, y) in zip(a, b) {
                guard let c = x.compare(y) else { return nil }
                if c != 0 { return c }
            }
            return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
        case let (.bool(a), .bool(b)): return a == b ? 0 : (a ? 1 : -1)
        default:
            guard let a = asDouble, let b = other.asDouble else { return nil }
            if a.isNaN || b.isNaN { return nil }
            return a < b ? -1 : (a > b ? 1 : 0)
        }
    }

    public var asDouble: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .float(let v): return v
        default: return nil
        }
    }
}
