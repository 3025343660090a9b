import Foundation

/// Operator semantics shared by compiled code and natives. Integer arithmetic is checked:
/// overflow is an error, never a wrap. `/` always gives a float; `//` and `%` floor.
public enum BinOp: String {
    case add = "+", sub = "-", mul = "*", div = "/", floorDiv = "//", mod = "%", pow = "**", matmul = "@"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
}

public enum Ops {
    public static func binary(_ op: String, _ a: Value, _ b: Value, at span: Span) throws -> Value {
        guard let o = BinOp(rawValue: op) else { throw MLWError.runtime("unknown operator '\(op)'", at: span) }
        return try binary(o, a, b, at: span)
    }

    public static func binary(_ o: BinOp, _ a: Value, _ b: Value, at span: Span) throws -> Value {
        // Floats first: they are the hot case once integers took their fast path.
        switch (a, b) {
        case let (.float(x), .float(y)): if let r = floatFast(o, x, y) { return r }
        case let (.float(x), .int(y)): if let r = floatFast(o, x, Double(y)) { return r }
        case let (.int(x), .float(y)): if let r = floatFast(o, Double(x), y) { return r }
        default: break
        }
        let op = o.rawValue
        do {
            if case .native(let n) = a, let v = try n.binary(op, b, reversed: false) { return v }
            if case .native(let n) = b, let v = try n.binary(op, a, reversed: true) { return v }
        } catch { throw MLWError.located(error, at: span) }
        switch o {
        case .eq: return .bool(a.equals(b))
        case .ne: return .bool(!a.equals(b))
        case .lt, .le, .gt, .ge:
            guard let c = a.compare(b) else {
                if let x = a.asDouble, let y = b.asDouble, x.isNaN || y.isNaN { return .bool(false) }
                throw MLWError.runtime("cannot compare \(a.typeName) and \(b.typeName) with '\(op)'", at: span)
            }
            switch o {
            case .lt: return .bool(c < 0)
            case .le: return .bool(c <= 0)
            case .gt: return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        default: break
        }
        switch (a, b) {
        case let (.int(x), .int(y)): return try intOp(op, x, y, span)
        case (.int, .float), (.float, .int), (.float, .float):
            return try floatOp(op, a.asDouble!, b.asDouble!, span)
        case let (.string(x), .string(y)) where op == "+":
            try limit(at: span) { try Limits.checkString(Limits.sum(x.utf8.count, y.utf8.count), "string concatenation") }
            return .string(x + y)
        case let (.string(x), .int(n)) where op == "*":
            guard n >= 0 else { throw MLWError.runtime("string repetition count \(n) is out of range", at: span) }
            try limit(at: span) { try Limits.checkString(Limits.product(n, x.utf8.count), "string repetition") }
            return .string(String(repeating: x, count: n))
        case let (.list(x), .list(y)) where op == "+":
            try limit(at: span) { try Limits.checkList(Limits.sum(x.count, y.count), "list concatenation") }
            return .list(x + y)
        case let (.list(x), .int(n)) where op == "*":
            guard n >= 0 else { throw MLWError.runtime("list repetition count \(n) is out of range", at: span) }
            // Count an empty list as one item per copy: `[] * 10^18` would otherwise loop.
            try limit(at: span) { try Limits.checkList(Limits.product(n, max(1, x.count)), "list repetition") }
            return .list(Array([[Value]](repeating: x, count: n).joined()))
        default:
            throw MLWError.runtime("unsupported operand types for '\(op)': \(a.typeName) and \(b.typeName)", at: span)
        }
    }

    /// Runs a size check, giving its error the operator's place.
    @inline(__always) static func limit(at span: Span = .none, _ check: () throws -> Void) throws {
        do { try check() } catch { throw MLWError.located(error, at: span) }
    }

    /// Float arithmetic and comparison that cannot fail; nil sends the rest to `floatOp`.
    @inline(__always) static func floatFast(_ o: BinOp, _ x: Double, _ y: Double) -> Value? {
        switch o {
        case .add: return .float(x + y)
        case .sub: return .float(x - y)
        case .mul: return .float(x * y)
        case .div: return y == 0 ? nil : .float(x / y)
        case .lt: return .bool(x < y)
        case .le: return .bool(x <= y)
        case .gt: return .bool(x > y)
        case .ge: return .bool(x >= y)
        case .eq: return .bool(x == y)
        case .ne: return .bool(x != y)
        default: return nil
        }
    }

    static func intOp(_ op: String, _ x: Int, _ y: Int, _ span: Span) throws -> Value {
        func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> Value {
            if r.overflow { throw MLWError.runtime("integer overflow in \(x) \(op) \(y)", at: span) }
            return .int(r.partialValue)
        }
        switch op {
        case "+": return try checked(x.addingReportingOverflow(y))
        case "-": return try checked(x.subtractingReportingOverflow(y))
        case "*": return try checked(x.multipliedReportingOverflow(by: y))
        case "/":
            if y == 0 { throw MLWError.runtime("division by zero", at: span) }
            return .float(Double(x) / Double(y))
        case "//", "%":
            if y == 0 { throw MLWError.runtime(op == "//" ? "integer division by zero" : "modulo by zero", at: span) }
            if x == .min && y == -1 { throw MLWError.runtime("integer overflow in \(x) \(op) \(y)", at: span) }
            var q = x / y, r = x % y
            if r != 0 && ((r < 0) != (y < 0)) { q -= 1; r += y }
            return .int(op == "//" ? q : r)
        case "**":
            if y < 0 { return .float(pow(Double(x), Double(y))) }
            var result = 1, base = x, e = y
            while e > 0 {
                if e & 1 == 1 { result = try checkedMul(result, base, x, y, span) }
                e >>= 1
                if e > 0 { base = try checkedMul(base, base, x, y, span) }
            }
            return .int(result)
        default:
            throw MLWError.runtime("unsupported operand types for '\(op)': integer and integer", at: span)
        }
    }

    static func checkedMul(_ a: Int, _ b: Int, _ x: Int, _ y: Int, _ span: Span) throws -> Int {
        let r = a.multipliedReportingOverflow(by: b)
        if r.overflow { throw MLWError.runtime("integer overflow in \(x) ** \(y)", at: span) }
        return r.partialValue
    }

    static func floatOp(_ op: String, _ x: Double, _ y: Double, _ span: Span) throws -> Value {
        switch op {
        case "+": return .float(x + y)
        case "-": return .float(x - y)
        case "*": return .float(x * y)
        case "/":
            if y == 0 { throw MLWError.runtime("division by zero", at: span) }
            return .float(x / y)
        case "//":
            if y == 0 { throw MLWError.runtime("division by zero", at: span) }
            return .float((x / y).rounded(.down))
        case "%":
            if y == 0 { throw MLWError.runtime("modulo by zero", at: span) }
            let r = x.truncatingRemainder(dividingBy: y)
            return .float(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
        case "**": return .float(pow(x, y))
        default:
            throw MLWError.runtime("unsupported operand types for '\(op)': float and float", at: span)
        }
    }

    public static func negate(_ v: Value, at span: Span) throws -> Value {
        switch v {
        case .int(let x):
            if x == .min { throw MLWError.runtime("integer overflow in -(\(x))", at: span) }
            return .int(-x)
        case .float(let x): return .float(-x)
        case .native(let n):
            do { if let r = try n.unary("-") { return r } } catch { throw MLWError.located(error, at: span) }
            throw MLWError.runtime("cannot negate \(v.typeName)", at: span)
        default: throw MLWError.runtime("cannot negate \(v.typeName)", at: span)
        }
    }

    public static func field(_ v: Value, _ name: String, at span: Span) throws -> Value {
        switch v {
        case .record(let r):
            if let x = r[name] { return x }
        case .native(let n):
            do { if let x = try n.field(name) { return x } } catch { throw MLWError.located(error, at: span) }
        default: break
        }
        throw MLWError.runtime(noMember(v, name, method: false), at: span)
    }

    /// `no field 'colums' on dataset; did you mean 'columns'?`; without a likely typo the
    /// message lists what there is. `also`: further names a method call could have meant
    /// (functions in scope, since `x.f()` falls back to `f(x)`).
    static func noMember(_ v: Value, _ name: String, method: Bool, also: [String] = []) -> String {
        let kind = method ? "method" : "field"
        var what = "no \(kind) '\(name)' on \(v.typeName)"
        var known: [String] = []
        switch v {
        case .record(let r):
            known = r.keys
            if r.isModule { what = "no member '\(name)' in module '\(r.moduleName ?? "")'" }
        case .native(let n):
            known = n.fieldNames
        default: break
        }
        if let best = closestName(to: name, among: known + also) { return what + "; did you mean '\(best)'?" }
        if known.isEmpty { return what }
        let list = known.prefix(12).joined(separator: ", ") + (known.count > 12 ? ", ..." : "")
        return what + " (has: \(list))"
    }

    /// Resolves a possibly negative index against `count`, or nil when out of range.
    public static func normalize(_ i: Int, _ count: Int) -> Int? {
        let j = i < 0 ? i + count : i
        return j >= 0 && j < count ? j : nil
    }

    /// Python slice semantics: clamps bounds, supports negative steps.
    public static func sliceIndices(_ start: Int?, _ stop: Int?, _ step: Int?, count: Int) throws -> [Int] {
        let st = step ?? 1
        if st == 0 { throw NativeError("slice step cannot be zero") }
        func clamp(_ i: Int?, _ dflt: Int, lo: Int, hi: Int) -> Int {
            guard var i else { return dflt }
            if i < 0 { i += count }
            return min(max(i, lo), hi)
        }
        var out: [Int] = []
        if st > 0 {
            var i = clamp(start, 0, lo: 0, hi: count)
            let end = clamp(stop, count, lo: 0, hi: count)
            while i < end { out.append(i); i += st }
        } else {
            var i = clamp(start, count - 1, lo: -1, hi: count - 1)
            let end = clamp(stop, -1, lo: -1, hi: count - 1)
            while i > end { out.append(i); i += st }
        }
        return out
    }

    public static func index(_ v: Value, _ items: [IndexValue], at span: Span) throws -> Value {
        if case .native(let n) = v {
            do {
                if let r = try n.index(items) { return r }
            } catch { throw MLWError.located(error, at: span) }
            throw MLWError.runtime("\(v.typeName) cannot be indexed", at: span)
        }
        guard items.count == 1 else {
            throw MLWError.runtime("\(v.typeName) takes one index, got \(items.count)", at: span)
        }
        do {
            switch (v, items[0]) {
            case let (.list(xs), .single(.int(i))):
                guard let j = normalize(i, xs.count) else {
                    throw MLWError.runtime("index \(i) out of range for list of length \(xs.count)", at: span)
                }
                return xs[j]
            case let (.list(xs), .slice(a, b, c)):
                return .list(try sliceIndices(a, b, c, count: xs.count).map { xs[$0] })
            case let (.string(s), .single(.int(i))):
                let chars = Array(s)
                guard let j = normalize(i, chars.count) else {
                    throw MLWError.runtime("index \(i) out of range for string of length \(chars.count)", at: span)
                }
                return .string(String(chars[j]))
            case let (.string(s), .slice(a, b, c)):
                let chars = Array(s)
                return .string(String(try sliceIndices(a, b, c, count: chars.count).map { chars[$0] }))
            case let (.record(r), .single(.string(k))):
                guard let x = r[k] else { throw MLWError.runtime(noMember(v, k, method: false), at: span) }
                return x
            case let (_, .single(i)):
                throw MLWError.runtime("cannot index \(v.typeName) with \(i.typeName)", at: span)
            default:
                throw MLWError.runtime("cannot slice \(v.typeName)", at: span)
            }
        } catch { throw MLWError.located(error, at: span) }
    }

    /// `xs[i] = v` and `r["k"] = v` build the updated value; the caller stores it.
    static func setIndex(_ container: Value, _ items: [IndexValue], _ newValue: Value, at span: Span) throws -> Value {
        switch (container, items.first) {
        case (.list(var xs), .single(.int(let i))?) where items.count == 1:
            guard let j = normalize(i, xs.count) else {
                throw MLWError.runtime("index \(i) out of range for list of length \(xs.count)", at: span)
            }
            xs[j] = newValue
            return .list(xs)
        case (.record(let r), .single(.string(let k))?) where items.count == 1:
            return .record(r.setting(k, newValue))
        default:
            throw MLWError.runtime("cannot assign into \(container.typeName) with this index", at: span)
        }
    }
}
