import Foundation
import Tensor

private func unary(_ name: OpName, lower: Lowering? = nil, _ f: @escaping (Tensor, Attrs) throws -> Tensor,
                   _ df: @escaping (Tensor, Tensor, Tensor, Attrs) throws -> Tensor) -> OpDef {
    OpDef(name, arity: 1...1, shape: same, forward: { x, a, _ in (try f(x[0], a), []) },
          backward: { b in [try df(b.inputs[0], b.output, b.grad, b.attrs)] }, lower: lower)
}

let geluC = (2.0 / Double.pi).squareRoot()

let activationOps: [OpDef] = [
    // float32: into the executor's reused buffers; backward is one masking pass.
    OpDef(.relu, arity: 1...1, shape: same, forward: { x, _, ctx in
        guard x[0].dtype == .float32 else { return (x[0].relu(), []) }
        var y = try ctx.buffer(0, x[0].shape)
        try Tensor.relu(x[0], into: &y)
        return (y, [])
    }, backward: { b in
        guard b.grad.dtype == .float32, b.output.dtype == .float32 else { return [try b.grad * positiveMask(b.output)] }
        let n = b.output.count
        var g = try b.buffer(0, [1, n]), none: Tensor? = nil
        try Tensor.denseEpilogueBackward(grad: b.grad.reshape([1, n]), output: b.output.reshape([1, n]), into: &g, biasGrad: &none)
        return [try g.reshape(b.output.shape)]
    }, lower: .activation),
    unary(.leakyRelu, lower: .chain, { x, a in
        let s = a.double("slope", 0.01)
        return try Tensor.where(Tensor.compare(x, scalar(0, x.dtype), .gt), x, x * s)
    }) { x, _, g, a in
        let s = a.double("slope", 0.01)
        return try Tensor.where(Tensor.compare(x, scalar(0, x.dtype), .gt), g, g * s)
    },
    unary(.tanh, lower: .activation, { x, _ in x.tanh() }) { _, y, g, _ in try g * (1 - y * y) },
    unary(.sigmoid, lower: .activation, { x, _ in x.sigmoid() }) { _, y, g, _ in try g * (y * (1 - y)) },
    // tanh approximation (PyTorch approximate="tanh").
    unary(.gelu, lower: .activation, { x, _ in x.gelu(.tanh) }) { x, _, g, _ in
        let x2 = try x * x
        let t = try (((x2 * x) * 0.044715 + x) * geluC).tanh()
        let d = try (t + 1) * 0.5 + (x * 0.5) * (1 - t * t) * ((x2 * (3 * 0.044715) + 1) * geluC)
        return try g * d
    },
    unary(.softmax, lower: .softmax, { x, a in try x.softmax(axis: a.int("axis", -1)) }) { _, y, g, a in
        let ax = a.int("axis", -1)
        return try y * (g - (g * y).sum(axes: [ax], keepDims: true))
    },
    unary(.logSoftmax, { x, a in try x.logSoftmax(axis: a.int("axis", -1)) }) { _, y, g, a in
        let ax = a.int("axis", -1)
        return try g - y.exp() * g.sum(axes: [ax], keepDims: true)
    },
]
