import Foundation
import Graph
import Lang
import Tensor

/// Eager reverse-mode autodiff in MLW: `grad(|w| mean((x @ w - y) ** 2), w0)`. Inside the
/// function the argument is a traced tensor; operators and the functions below record on a
/// tape (the graph's op table gives each op's backward rule).
final class TracedValue: NativeValue {
    let v: Var
    init(_ v: Var) { self.v = v }
    var typeName: String { "traced tensor" }
    var description: String { "<traced tensor shape \(v.shape)>" }
    var fieldNames: [String] { ["shape", "value"] }

    func field(_ name: String) throws -> Value? {
        switch name {
        case "shape": return .list(v.shape.map { .int($0) })
        case "value": return wrap(v.value)
        default: return nil
        }
    }

    /// Tensors and numbers join the tape as constants.
    func operand(_ other: Value) throws -> Var? {
        switch other {
        case .native(let t as TracedValue):
            guard t.v.tape === v.tape else { throw NativeError("traced tensors from different grad calls cannot be mixed") }
            return t.v
        case .native(let t as TensorValue): return v.tape.variable(t.t)
        case .int, .float: return v.tape.variable(Tensor(scalar: other.asDouble!, dtype: v.value.dtype))
        default: return nil
        }
    }

    func binary(_ op: String, _ other: Value, reversed: Bool) throws -> Value? {
        guard let o = try operand(other) else { return nil }
        let (a, b) = reversed ? (o, v) : (v, o)
        switch op {
        case "+": return traced(try a.apply(.add, [b]))
        case "-": return traced(try a.apply(.sub, [b]))
        case "*": return traced(try a.apply(.mul, [b]))
        case "/": return traced(try a.apply(.div, [b]))
        case "@": return traced(try a.apply(.matmul, [b]))
        case "**" where !reversed:
            guard case .int(let k) = other, k >= 1, k <= 16 else {
                throw NativeError("'**' on a traced tensor needs an integer exponent from 1 to 16")
            }
            var r = v
            for _ in 1..<k { r = try r.apply(.mul, [v]) }
            return traced(r)
        default: return nil
        }
    }

    func unary(_ op: String) throws -> Value? {
        guard op == "-" else { return nil }
        return traced(try v.apply(.mul, [v.tape.variable(Tensor(scalar: -1, dtype: v.value.dtype))]))
    }
}

func traced(_ v: Var) -> Value { .native(TracedValue(v)) }

private let tracedParam = Param("t", .native("traced tensor"))

/// The script function named after graph op `op`, applied on the tape.
private func tracedOp(_ op: OpName, _ doc: String, attrs: @escaping (Args) throws -> Attrs = { _ in [:] },
                      extra: [Param] = []) -> NativeFunction {
    let name = op.rawValue
    return NativeFunction(name, [tracedParam] + extra, doc: doc, example: "grad(|w| \(name)(w\(op == .sum || op == .mean ? "" : ").sum(")), ones([2]))") { a in
        let t = try a.native("t", as: TracedValue.self, "traced tensor")
        return traced(try t.v.apply(op, [], try attrs(a)))
    }
}

private func axesAttrs(_ a: Args) throws -> Attrs {
    guard let axes = try axesArg(a) else { return [:] }
    return ["axes": .ints(axes)]
}

let autodiffLibrary = Library("autodiff", doc: "Gradients of MLW functions of tensors (eager reverse mode).", [
    NativeFunction("grad", [Param("f", .function), Param("at")],
                   doc: "The gradient of a scalar-valued function at a tensor (or a list of gradients at a list of tensors).",
                   example: "grad(|w| sum(w * w), tensor([1, 2])).to_list()", result: "[2.0, 4.0]") { a in
        let r = try valueAndGradient(a)
        return r.1
    },
    NativeFunction("value_and_grad", [Param("f", .function), Param("at")],
                   doc: "{value, grad} of a scalar-valued function at a tensor (or a list of tensors).",
                   example: "value_and_grad(|w| sum(w * w), tensor([3])).value", result: "9.0") { a in
        let r = try valueAndGradient(a)
        return .record([("value", r.0), ("grad", r.1)])
    },
    tracedOp(.sum, "Sum of a traced tensor (over axes).", attrs: axesAttrs, extra: [Param("axis", .any, .nil)]),
    tracedOp(.mean, "Mean of a traced tensor (over axes).", attrs: axesAttrs, extra: [Param("axis", .any, .nil)]),
    tracedOp(.relu, "ReLU of a traced tensor."),
    tracedOp(.tanh, "tanh of a traced tensor."),
    tracedOp(.sigmoid, "Sigmoid of a traced tensor."),
    tracedOp(.gelu, "GELU of a traced tensor."),
    tracedOp(.softmax, "Softmax of a traced tensor.", attrs: { a in ["axis": .int(try a.int("axis"))] }, extra: [Param("axis", .int, .int(-1))]),
    tracedOp(.logSoftmax, "log-softmax of a traced tensor.", attrs: { a in ["axis": .int(try a.int("axis"))] },
             extra: [Param("axis", .int, .int(-1))]),
])

/// Runs f on traced copies of the inputs and differentiates its scalar result.
func valueAndGradient(_ a: Args) throws -> (Value, Value) {
    let f = a["f"]
    let single: Bool
    let inputs: [Tensor]
    switch a["at"] {
    case .native(let t as TensorValue): single = true; inputs = [t.t]
    case .list(let xs):
        single = false
        inputs = try xs.map { v in
            guard case .native(let t as TensorValue) = v else { throw a.invalid("at", "must be a tensor or a list of tensors") }
            return t.t
        }
    default: throw a.bad("at", "tensor or list of tensors", a["at"])
    }
    let tape = Tape()
    let vars = inputs.map { tape.variable($0) }
    let out = try a.call(f, vars.map(traced))
    guard case .native(let y as TracedValue) = out, y.v.tape === tape else {
        throw NativeError("grad: the function must return a traced tensor computed from its argument, got \(out.typeName)")
    }
    guard y.v.value.count == 1 else { throw NativeError("grad: the function must return a scalar, got shape \(y.v.shape)") }
    let g = try tape.gradients(of: y.v)
    let grads = try zip(vars, inputs).map { v, t in
        wrap(try g[v.id] ?? Tensor.zeros(t.shape, dtype: t.dtype))
    }
    return (.float(try y.v.value.item()), single ? grads[0] : .list(grads))
}
