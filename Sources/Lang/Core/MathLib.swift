import Foundation

/// Numbers: math functions and conversions.
public let mathLibrary = Library("math", doc: "Numbers: rounding, powers, logarithms, conversions.", [
    NativeFunction("abs", [Param("x", .number)], doc: "Absolute value; integers stay integers.", example: "abs(-3)", result: "3") { a in
        if case .int(let i) = a["x"] {
            guard i != .min else { throw NativeError("integer overflow in abs(\(i))") }
            return .int(Swift.abs(i))
        }
        return .float(Swift.abs(try a.double("x")))
    },
    NativeFunction("sqrt", [Param("x", .number)], doc: "Square root (nan for negative numbers).", example: "sqrt(16)", result: "4.0") { a in
        .float(Foundation.sqrt(try a.double("x")))
    },
    NativeFunction("exp", [Param("x", .number)], doc: "e raised to x.", example: "exp(0)", result: "1.0") { a in
        .float(Foundation.exp(try a.double("x")))
    },
    NativeFunction("log", [Param("x", .number), Param("base", .optional(.number), .nil)],
                   doc: "Natural logarithm, or to the given base.", example: "log(8, base: 2)", result: "3.0") { a in
        let x = try a.double("x")
        if a.isNil("base") { return .float(Foundation.log(x)) }
        return .float(Foundation.log(x) / Foundation.log(try a.double("base")))
    },
    NativeFunction("floor", [Param("x", .number)], doc: "Largest integer not above x.", example: "floor(2.7)", result: "2") { a in
        try toInt(try a.double("x").rounded(.down), "floor")
    },
    NativeFunction("ceil", [Param("x", .number)], doc: "Smallest integer not below x.", example: "ceil(2.1)", result: "3") { a in
        try toInt(try a.double("x").rounded(.up), "ceil")
    },
    NativeFunction("round", [Param("x", .number), Param("digits", .int, .int(0))],
                   doc: "Round half away from zero; with digits, a float with that many decimals.", example: "round(3.14159, digits: 2)", result: "3.14") { a in
        let x = try a.double("x"), d = try a.int("digits")
        if d == 0 { return try toInt(x.rounded(.toNearestOrAwayFromZero), "round") }
        return .float(roundDigits(x, d))
    },
    NativeFunction("pow", [Param("x", .number), Param("y", .number)], doc: "x to the power y (same as x ** y).", example: "pow(2, 10)", result: "1024") { a in
        try Ops.binary("**", a["x"], a["y"], at: .none)
    },
    NativeFunction("min", [Param("a"), Param("b", .any, .undefined)], variadic: true,
                   doc: "Smallest of the arguments, or of one list.", example: "min(3, 1, 2)", result: "1") { a in
        try extreme(a, "min", wantLess: true)
    },
    NativeFunction("max", [Param("a"), Param("b", .any, .undefined)], variadic: true,
                   doc: "Largest of the arguments, or of one list.", example: "max([3, 1, 2])", result: "3") { a in
        try extreme(a, "max", wantLess: false)
    },
    NativeFunction("int", [Param("x")], doc: "Convert a number (truncating), bool or numeric string to an integer.", example: "int(\"42\")", result: "42") { a in
        switch a["x"] {
        case .int: return a["x"]
        case .float(let d): return try toInt(d.rounded(.towardZero), "int")
        case .bool(let b): return .int(b ? 1 : 0)
        case .string(let s):
            guard let i = Int(s.trimmingCharacters(in: .whitespaces)) else { throw a.invalid("x", "'\(s)' is not an integer") }
            return .int(i)
        default: throw a.bad("x", "number, bool or string", a["x"])
        }
    },
    NativeFunction("float", [Param("x")], doc: "Convert a number or numeric string to a float.", example: "float(\"2.5\")", result: "2.5") { a in
        switch a["x"] {
        case .int(let i): return .float(Double(i))
        case .float: return a["x"]
        case .string(let s):
            guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else { throw a.invalid("x", "'\(s)' is not a number") }
            return .float(d)
        default: throw a.bad("x", "number or string", a["x"])
        }
    },
    NativeFunction("is_nan", [Param("x", .number)], doc: "True for the float nan.", example: "is_nan(0.0)", result: "false") { a in
        .bool(try a.double("x").isNaN)
    },
])

/// `x` rounded half away from zero to `digits` decimals (negative: tens, hundreds...).
/// Scaling by 10^digits overflows for large |digits| (10^400 is inf, and inf / inf is
/// nan), so the extremes are decided first: past 2^52 a double has no fraction left
/// to round, and a unit larger than the largest double rounds every finite x to 0.
func roundDigits(_ x: Double, _ digits: Int) -> Double {
    guard x.isFinite else { return x }
    if digits > 0 {
        let m = Foundation.pow(10.0, Double(min(digits, 400)))
        let scaled = x * m
        if !m.isFinite || !scaled.isFinite || scaled.magnitude >= 0x1p52 { return x }
        return scaled.rounded(.toNearestOrAwayFromZero) / m
    }
    let unit = Foundation.pow(10.0, digits < -400 ? 400.0 : Double(-digits))  // -Int.min overflows
    if !unit.isFinite { return x < 0 ? -0.0 : 0.0 }
    let r = (x / unit).rounded(.toNearestOrAwayFromZero) * unit
    // Rounding up near the largest double can step past it: keep x rather than inf.
    return r.isFinite ? r : x
}

func toInt(_ d: Double, _ op: String) throws -> Value {
    guard d.isFinite, d.magnitude < 9.2e18 else { throw NativeError("\(op): \(formatFloat(d)) does not fit in an integer") }
    return .int(Int(d))
}

/// min/max over the arguments, or over the items of a single list argument.
func extreme(_ a: Args, _ name: String, wantLess: Bool) throws -> Value {
    var items: [Value]
    if isUndefined(a["b"]) {
        guard case .list(let xs) = a["a"] else { return a["a"] }
        items = xs
    } else {
        items = [a["a"], a["b"]] + a.rest
    }
    guard var best = items.first else { throw NativeError("\(name)() of an empty list") }
    for x in items.dropFirst() {
        guard let c = x.compare(best) else { throw NativeError("\(name)(): cannot compare \(x.typeName) and \(best.typeName)") }
        if wantLess ? c < 0 : c > 0 { best = x }
    }
    return best
}
