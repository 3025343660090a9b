/// The binding between Swift and MLW. A native library is a table of `NativeFunction`s;
/// argument binding, type checks and their messages live here, never in each function.

/// An opaque Swift object living in MLW (tensor, dataset, model...). Every requirement
/// has a default, so a type implements only what it supports.
public protocol NativeValue: AnyObject, CustomStringConvertible {
    var typeName: String { get }
    /// `x.name`; nil means no such field.
    func field(_ name: String) throws -> Value?
    /// Names listed by REPL completion after `x.`.
    var fieldNames: [String] { get }
    /// `x.name(...)` when the type has its own method; else the function `name` in scope
    /// is called with `x` first.
    func method(_ name: String) -> NativeFunction?
    /// `x op y` (or `y op x` when `reversed`); nil means the type does not support it.
    func binary(_ op: String, _ other: Value, reversed: Bool) throws -> Value?
    func unary(_ op: String) throws -> Value?
    /// `x[i]`, `x[1:3]`, `x[:, 0]`; nil means not indexable.
    func index(_ items: [IndexValue]) throws -> Value?
    func isEqual(to other: any NativeValue) -> Bool
    /// A value that can be called like a function (a fitted transform chain, a model):
    /// the function to run, with the value itself as its first argument.
    var callable: NativeFunction? { get }
}

extension NativeValue {
    public func field(_ name: String) throws -> Value? { nil }
    public var fieldNames: [String] { [] }
    public func method(_ name: String) -> NativeFunction? { nil }
    public func binary(_ op: String, _ other: Value, reversed: Bool) throws -> Value? { nil }
    public func unary(_ op: String) throws -> Value? { nil }
    public func index(_ items: [IndexValue]) throws -> Value? { nil }
    public func isEqual(to other: any NativeValue) -> Bool { self === other }
    public var callable: NativeFunction? { nil }
}

/// One item of an index expression, evaluated.
public enum IndexValue {
    case single(Value)
    case slice(Int?, Int?, Int?)
}

/// The type a parameter accepts; checked by `Args` binding, with one message format.
public indirect enum ParamType: CustomStringConvertible {
    case any, int, float, number, bool, string, list, record, function
    case native(String)
    case optional(ParamType)
    case oneOf([ParamType])

    public var description: String {
        switch self {
        case .any: return "any value"
        case .int: return "integer"
        case .float, .number: return "number"
        case .bool: return "bool"
        case .string: return "string"
        case .list: return "list"
        case .record: return "record"
        case .function: return "function"
        case .native(let n): return n
        case .optional(let t): return "\(t) or nil"
        case .oneOf(let ts): return ts.map(\.description).joined(separator: " or ")
        }
    }

    func accepts(_ v: Value) -> Bool {
        switch (self, v) {
        case (.any, _): return true
        case (.int, .int), (.bool, .bool), (.string, .string), (.list, .list), (.function, .function): return true
        case (.float, .int), (.float, .float), (.number, .int), (.number, .float): return true
        case (.record, .record(let r)): return !r.isModule
        case (.native(let n), .native(let x)): return x.typeName == n
        case (.optional, .nil): return true
        case (.optional(let t), _): return t.accepts(v)
        case (.oneOf(let ts), _): return ts.contains { $0.accepts(v) }
        default: return false
        }
    }
}

public struct Param {
    public let name: String
    public let type: ParamType
    /// nil: required.
    public let defaultValue: Value?

    public init(_ name: String, _ type: ParamType = .any, _ defaultValue: Value? = nil) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
    }
}

/// One documented native function: the whole binding of a Swift capability to MLW.
public struct NativeFunction {
    public let name: String
    public let params: [Param]
    /// Extra positional arguments (`print(a, b, c)`) collected into `Args.rest`.
    public let variadic: Bool
    public let doc: String
    /// A one-line MLW example; `help` shows it and the tests run it.
    public let example: String
    /// What the example prints in the REPL, checked by the tests when given.
    public let result: String?
    public let impl: (Args) throws -> Value

    public init(_ name: String, _ params: [Param] = [], variadic: Bool = false, doc: String, example: String,
                result: String? = nil, _ impl: @escaping (Args) throws -> Value) {
        self.name = name
        self.params = params
        self.variadic = variadic
        self.doc = doc
        self.example = example
        self.result = result
        self.impl = impl
    }

    public var signature: String {
        let ps = params.map { p in
            p.defaultValue.map { isUndefined($0) ? "\(p.name)?" : "\(p.name): \($0.repr)" } ?? p.name
        } + (variadic ? ["..."] : [])
        return "\(name)(\(ps.joined(separator: ", ")))"
    }
}

/// A named table of native functions.
public struct Library {
    public let name: String
    public let doc: String
    public let functions: [NativeFunction]

    public init(_ name: String, doc: String, _ functions: [NativeFunction]) {
        self.name = name
        self.doc = doc
        self.functions = functions
    }
}

/// A native function's failure; the interpreter adds the call site and traceback.
extension MLWError {
    /// Any error thrown by native code (a library's own error type, `NativeError`) as a
    /// runtime error at the call or operator site; an `MLWError` keeps its own place. Every
    /// error type's `description` is its user-facing sentence, so bindings never convert.
    public static func located(_ error: Error, at span: Span) -> Error {
        if error is MLWError { return error }
        return MLWError.runtime(String(describing: error), at: span)
    }
}

public struct NativeError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
