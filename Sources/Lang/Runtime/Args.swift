/// Arguments of one native call, bound to the function's parameters by name and
/// position. Accessors check types and produce the one standard message:
/// `bad argument 'epochs' to 'train': expected integer, got string`.
public struct Args {
    public let function: NativeFunction
    /// One value per parameter (defaults filled in; `.nil` for optional params left out).
    public let values: [Value]
    /// Extra positional arguments of a variadic function.
    public let rest: [Value]
    public let interpreter: Interpreter

    /// Binds positional and named arguments to `fn`'s parameters, checking count, names and types.
    static func bind(_ fn: NativeFunction, positional: [Value], named: [(String, Value)], interpreter: Interpreter) throws -> Args {
        let params = fn.params
        var values = [Value?](repeating: nil, count: params.count)
        var rest: [Value] = []
        for (i, v) in positional.enumerated() {
            if i < params.count { values[i] = v }
            else if fn.variadic { rest.append(v) }
            else {
                throw NativeError("too many arguments to '\(fn.name)': expected at most \(params.count), got \(positional.count)")
            }
        }
        for (name, v) in named {
            guard let i = params.firstIndex(where: { $0.name == name }) else {
                let known = params.map(\.name).joined(separator: ", ")
                throw NativeError("unknown argument '\(name)' to '\(fn.name)'" + (known.isEmpty ? "" : " (parameters: \(known))"))
            }
            if values[i] != nil { throw NativeError("argument '\(name)' to '\(fn.name)' given twice") }
            values[i] = v
        }
        var out: [Value] = []
        out.reserveCapacity(params.count)
        for (i, p) in params.enumerated() {
            guard let v = values[i] ?? p.defaultValue else {
                throw NativeError("missing argument '\(p.name)' to '\(fn.name)'")
            }
            if !p.type.accepts(v) {
                throw NativeError("bad argument '\(p.name)' to '\(fn.name)': expected \(p.type), got \(v.typeName)")
            }
            out.append(v)
        }
        return Args(function: fn, values: out, rest: rest, interpreter: interpreter)
    }

    func indexOf(_ name: String) -> Int {
        guard let i = function.params.firstIndex(where: { $0.name == name }) else {
            preconditionFailure("native '\(function.name)' reads undeclared parameter '\(name)'")
        }
        return i
    }

    public func bad(_ name: String, _ expected: String, _ got: Value) -> NativeError {
        NativeError("bad argument '\(name)' to '\(function.name)': expected \(expected), got \(got.typeName)")
    }

    /// A failure about one argument's value (not its type): `bad argument 'n' to 'range': must be >= 0`.
    public func invalid(_ name: String, _ why: String) -> NativeError {
        NativeError("bad argument '\(name)' to '\(function.name)': \(why)")
    }

    public subscript(_ name: String) -> Value { values[indexOf(name)] }

    public func isNil(_ name: String) -> Bool { self[name].isNil }

    public func int(_ name: String) throws -> Int {
        let v = self[name]
        if case .int(let x) = v { return x }
        if case .float(let d) = v, d.rounded() == d, d.magnitude < 9e18 { return Int(d) }
        throw bad(name, "integer", v)
    }

    /// A count-like integer (`runs`, `epochs`, `batch`, `k`...): between `min` and `max`
    /// inclusive, so a script cannot ask a native to loop or allocate without bound.
    /// `bad argument 'runs' to 'compare': 9223372036854775807 is more than the limit of 1000000`.
    public func count(_ name: String, min: Int = 0, max: Int = Limits.maxCount) throws -> Int {
        let n = try int(name)
        if n < min { throw invalid(name, "must be at least \(min), got \(n)") }
        if n > max { throw invalid(name, "\(n) is more than the limit of \(max)") }
        return n
    }

    /// `count` for an optional argument: nil when it was left out or given as nil.
    public func count(ifPresent name: String, min: Int = 0, max: Int = Limits.maxCount) throws -> Int? {
        isNil(name) ? nil : try count(name, min: min, max: max)
    }

    /// A finite number: NaN and the infinities are refused with the argument's name.
    public func finite(_ name: String) throws -> Double {
        let d = try double(name)
        guard d.isFinite else { throw invalid(name, "must be a finite number, got \(formatFloat(d))") }
        return d
    }

    public func double(_ name: String) throws -> Double {
        let v = self[name]
        if let d = v.asDouble { return d }
        throw bad(name, "number", v)
    }

    public func bool(_ name: String) throws -> Bool {
        if case .bool(let b) = self[name] { return b }
        throw bad(name, "bool", self[name])
    }

    public func string(_ name: String) throws -> String {
        if case .string(let s) = self[name] { return s }
        throw bad(name, "string", self[name])
    }

    public func list(_ name: String) throws -> [Value] {
        if case .list(let xs) = self[name] { return xs }
        throw bad(name, "list", self[name])
    }

    public func record(_ name: String) throws -> Record {
        if case .record(let r) = self[name] { return r }
        throw bad(name, "record", self[name])
    }

    public func function(_ name: String) throws -> Value {
        if case .function = self[name] { return self[name] }
        throw bad(name, "function", self[name])
    }

    /// The native object of type `T` passed as `name`.
    public func native<T: NativeValue>(_ name: String, as type: T.Type, _ typeName: String) throws -> T {
        if case .native(let n) = self[name], let t = n as? T { return t }
        throw bad(name, typeName, self[name])
    }

    /// Calls an MLW function value (a script closure or a native) with positional arguments.
    public func call(_ f: Value, _ args: [Value], named: [(String, Value)] = []) throws -> Value {
        try interpreter.call(f, args, named: named)
    }
}
