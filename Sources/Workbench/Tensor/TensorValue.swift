import Foundation
import Lang
import Tensor

/// A tensor in MLW: numpy-like printing, operators `+ - * / ** @` and comparisons with
/// tensors and numbers, fields `shape`, `dtype`, `T`, `ndim`, `size`, and indexing
/// `t[0]`, `t[:, 1:3]`, `t[-1]` (views where possible).
final class TensorValue: NativeValue {
    let t: Tensor
    init(_ t: Tensor) { self.t = t }

    var typeName: String { "tensor" }
    var description: String { t.debugDescription }
    var fieldNames: [String] { ["shape", "dtype", "T", "ndim", "size"] }

    func field(_ name: String) throws -> Value? {
        switch name {
        case "shape": return .list(t.shape.map { .int($0) })
        case "dtype": return .string(t.dtype.rawValue)
        case "T": return .native(TensorValue(t.T))
        case "ndim": return .int(t.rank)
        case "size": return .int(t.count)
        default: return nil
        }
    }

    func binary(_ op: String, _ other: Value, reversed: Bool) throws -> Value? {
        guard let o = try tensorOperand(other, like: t) else { return nil }
        let (a, b) = reversed ? (o, t) : (t, o)
        switch op {
        case "+": return wrap(try Tensor.binary(a, b, .add))
        case "-": return wrap(try Tensor.binary(a, b, .sub))
        case "*": return wrap(try Tensor.binary(a, b, .mul))
        case "/": return wrap(try Tensor.binary(a, b, .div))
        case "**": return wrap(try Tensor.binary(a, b, .pow))
        case "@": return wrap(try Tensor.matmul(a, b))
        case "==": return wrap(try a.eq(b))
        case "!=": return wrap(try a.ne(b))
        case "<": return wrap(try a.lt(b))
        case "<=": return wrap(try a.le(b))
        case ">": return wrap(try a.gt(b))
        case ">=": return wrap(try a.ge(b))
        default: return nil
        }
    }

    func unary(_ op: String) throws -> Value? { op == "-" ? wrap(t.neg()) : nil }

    /// Items apply to successive axes: an integer selects (dropping the axis), a slice keeps it.
    func index(_ items: [IndexValue]) throws -> Value? {
        guard items.count <= t.rank else {
            throw NativeError("too many indices for a tensor of shape \(t.shape): \(items.count)")
        }
        var r = t
        var axis = 0
        for item in items {
            switch item {
            case .single(.int(let i)):
                guard let j = Ops.normalize(i, r.shape[axis]) else {
                    throw NativeError("index \(i) out of range for axis \(axis) of size \(r.shape[axis])")
                }
                r = try r.select(axis: axis, index: j)
            case .slice(let a, let b, let c):
                if c == 0 { throw NativeError("slice step cannot be zero") }
                r = try r.slice(axis: axis, start: a, stop: b, step: c ?? 1)
                axis += 1
            case .single(let v):
                throw NativeError("tensors are indexed by integers and slices, got \(v.typeName)")
            }
        }
        return r.rank == 0 ? scalarValue(r) : .native(TensorValue(r))
    }

    func isEqual(to other: any NativeValue) -> Bool {
        guard let o = other as? TensorValue else { return false }
        return o.t.shape == t.shape && o.t.dtype == t.dtype && o.t.toDoubles() == t.toDoubles()
    }
}

func wrap(_ t: Tensor) -> Value { .native(TensorValue(t)) }

/// A 0-d tensor read out as an MLW number or bool.
func scalarValue(_ t: Tensor) -> Value {
    let d = (try? t.item()) ?? .nan
    switch t.dtype {
    case .bool: return .bool(d != 0)
    case .int32, .int8, .uint8: return .int(Int(d))
    default: return .float(d)
    }
}

/// The other operand of a tensor operator: a tensor, or a number broadcast as a scalar of
/// the tensor's dtype (so `t * 2` stays float32).
func tensorOperand(_ v: Value, like t: Tensor) throws -> Tensor? {
    switch v {
    case .native(let n as TensorValue): return n.t
    case .int(let i): return Tensor(scalar: Double(i), dtype: t.dtype == .bool ? .float32 : t.dtype)
    case .float(let d): return Tensor(scalar: d, dtype: t.dtype.isFloatingPoint ? t.dtype : .float32)
    case .bool(let b): return Tensor(scalar: b ? 1 : 0, dtype: t.dtype)
    default: return nil
    }
}

/// Nested lists of numbers (or bools) to a tensor; the default dtype is float32.
func tensorFromList(_ v: Value, dtype: DType?) throws -> Tensor {
    var shape: [Int] = []
    var flat: [Double] = []
    var allBool = true
    func walk(_ x: Value, depth: Int) throws {
        switch x {
        case .list(let xs):
            if depth == shape.count { shape.append(xs.count) }
            else if depth > shape.count || shape[depth] != xs.count {
                throw NativeError("tensor: nested lists are ragged (a list of \(xs.count) where \(depth < shape.count ? shape[depth] : 0) was expected)")
            }
            for y in xs { try walk(y, depth: depth + 1) }
        case .int(let i):
            guard depth == shape.count else { throw NativeError("tensor: nested lists are ragged (a number where a list was expected)") }
            flat.append(Double(i)); allBool = false
        case .float(let d):
            guard depth == shape.count else { throw NativeError("tensor: nested lists are ragged (a number where a list was expected)") }
            flat.append(d); allBool = false
        case .bool(let b):
            guard depth == shape.count else { throw NativeError("tensor: nested lists are ragged") }
            flat.append(b ? 1 : 0)
        case .native(let n as TensorValue):
            throw NativeError("tensor: got a tensor inside a list; use stack([...]) to join tensors (shape \(n.t.shape))")
        default:
            throw NativeError("tensor: expected numbers or bools, got \(x.typeName)")
        }
    }
    try walk(v, depth: 0)
    if case .list(let xs) = v, xs.isEmpty { shape = [0] }
    let dt = dtype ?? (allBool && !flat.isEmpty ? .bool : .float32)
    return try Tensor(flat, shape: shape, dtype: dt)
}

/// A tensor back to nested lists: integers for integer dtypes, bools for bool.
func tensorToList(_ t: Tensor) -> Value {
    let flat = t.toDoubles()
    func item(_ d: Double) -> Value {
        switch t.dtype {
        case .bool: return .bool(d != 0)
        case .int32, .int8, .uint8: return .int(Int(d))
        default: return .float(d)
        }
    }
    if t.rank == 0 { return item(flat.first ?? 0) }
    var pos = 0
    func build(_ axis: Int) -> Value {
        if axis == t.rank - 1 {
            let xs = flat[pos..<pos + t.shape[axis]].map(item)
            pos += t.shape[axis]
            return .list(Array(xs))
        }
        return .list((0..<t.shape[axis]).map { _ in build(axis + 1) })
    }
    return build(0)
}
