import Foundation
import FileIO
import Graph
import Tensor
import Train

/// An ONNX attribute value.
enum ONNXAttr { case int(Int), ints([Int]), float(Double), string(String) }

/// Builds the ONNX graph: one or more ONNX nodes per MLW node (the op mapping table is
/// in Docs/optimize.md), weights as initializers, a symbolic "batch" dimension.
struct ONNXBuilder {
    /// A ModelProto around `graph`: IR version 8, the default opset and, for models with
    /// `ai.onnx.ml` operators (tree ensembles), that domain at version 3.
    static func modelBytes(_ graph: ProtoWriter, opset: Int, ml: Bool) -> [UInt8] {
        var m = ProtoWriter()
        m.int(ONNXField.modelIRVersion, 8)
        m.string(ONNXField.modelProducerName, "mlw")
        m.string(ONNXField.modelProducerVersion, "1")
        m.message(ONNXField.modelGraph, graph)
        m.message(ONNXField.modelOpsetImport) { o in o.string(ONNXField.opsetDomain, ""); o.int(ONNXField.opsetVersion, opset) }
        if ml { m.message(ONNXField.modelOpsetImport) { o in o.string(ONNXField.opsetDomain, ONNXBuilder.mlDomain); o.int(ONNXField.opsetVersion, 3) } }
        return m.bytes
    }

    let g: Graph
    var nodes = ProtoWriter()          // repeated NodeProto, appended as GraphProto.node fields
    var initializers = ProtoWriter()   // repeated TensorProto
    var names: [String]                // value name of every MLW node
    var used: Set<String> = []
    var counter = 0

    init(_ g: Graph) {
        self.g = g
        var seen: Set<String> = [], names: [String] = []
        for n in g.nodes {
            var base = n.name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." ? $0 : "_" }.reduce("") { $0 + String($1) }
            if base.isEmpty { base = "v\(n.id)" }
            var name = base, k = 1
            while seen.contains(name) { name = "\(base)_\(k)"; k += 1 }
            seen.insert(name); names.append(name)
        }
        self.names = names
        used = seen
    }

    mutating func fresh(_ hint: String) -> String {
        var name: String
        repeat { counter += 1; name = "\(hint)__\(counter)" } while used.contains(name)
        used.insert(name)
        return name
    }

    mutating func node(_ op: String, _ ins: [String], _ outs: [String], _ attrs: [(String, ONNXAttr)] = []) {
        nodes.message(ONNXField.graphNode) { m in
            for i in ins { m.string(ONNXField.nodeInput, i) }
            for o in outs { m.string(ONNXField.nodeOutput, o) }
            m.string(ONNXField.nodeName, outs[0])
            m.string(ONNXField.nodeOpType, op)
            for (name, v) in attrs {
                m.message(ONNXField.nodeAttribute) { a in
                    a.string(ONNXField.attrName, name)
                    switch v {
                    case .int(let i): a.int(ONNXField.attrI, i); a.int(ONNXField.attrType, 2)
                    case .float(let f): a.float(ONNXField.attrF, Float(f)); a.int(ONNXField.attrType, 1)
                    case .string(let s): a.string(ONNXField.attrS, s); a.int(ONNXField.attrType, 3)
                    case .ints(let xs): for x in xs { a.int(ONNXField.attrInts, x) }; a.int(ONNXField.attrType, 7)
                    }
                }
            }
        }
    }

    mutating func initializer(_ name: String, _ t: Tensor) {
        initializers.message(ONNXField.graphInitializer) { m in
            m.packed(ONNXField.tensorDims, t.shape)
            m.int(ONNXField.tensorDataType, onnxType(t.dtype))
            m.string(ONNXField.tensorName, name)
            m.data(ONNXField.tensorRawData, rawBytes(t))
        }
    }
    /// A scalar float32 constant.
    mutating func constant(_ v: Double) throws -> String {
        let name = fresh("const"); initializer(name, try Tensor([Float(v)], shape: [])); return name
    }
    /// An int64 vector constant (Reshape's shape, ReduceSum's axes).
    mutating func int64s(_ vs: [Int]) -> String {
        let name = fresh("shape")
        initializers.message(ONNXField.graphInitializer) { m in
            m.packed(ONNXField.tensorDims, [vs.count]); m.int(ONNXField.tensorDataType, 7); m.string(ONNXField.tensorName, name)
            var raw: [UInt8] = []
            for v in vs { withUnsafeBytes(of: Int64(v).littleEndian) { raw.append(contentsOf: $0) } }
            m.data(ONNXField.tensorRawData, raw)
        }
        return name
    }

    /// ONNX ops of the binary ops.
    let onnxBinary: [OpName: String] = [.add: "Add", .sub: "Sub", .mul: "Mul", .div: "Div", .matmul: "MatMul"]

    /// An activation; GELU (tanh form) is decomposed: opset 17 has no Gelu op.
    mutating func activation(_ act: Activation, slope: Double, _ x: String, _ out: String) throws {
        switch act {
        case .relu: node("Relu", [x], [out])
        case .sigmoid: node("Sigmoid", [x], [out])
        case .tanh: node("Tanh", [x], [out])
        case .leakyRelu: node("LeakyRelu", [x], [out], [("alpha", .float(slope))])
        case .gelu:   // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            let x2 = fresh("gelu"), x3 = fresh("gelu"), t = fresh("gelu"), u = fresh("gelu"), v = fresh("gelu"), w = fresh("gelu"), z = fresh("gelu"), h = fresh("gelu")
            node("Mul", [x, x], [x2]); node("Mul", [x2, x], [x3])
            node("Mul", [x3, try constant(0.044715)], [t]); node("Add", [x, t], [u])
            node("Mul", [u, try constant((2 / Double.pi).squareRoot())], [v]); node("Tanh", [v], [w])
            node("Add", [w, try constant(1)], [z]); node("Mul", [x, z], [h]); node("Mul", [h, try constant(0.5)], [out])
        case .none: node("Identity", [x], [out])
        case .softmax: throw GraphError("onnx: no mapping for activation '\(act.rawValue)'")   // not elementwise: never fused
        }
    }

    func pair(_ a: Attrs, _ k: String, _ d: Int) -> [Int] {
        if let v = a.ints(k), v.count == 2 { return v }
        let v = a.int(k, d); return [v, v]
    }

    mutating func emit(_ n: Node) throws {
        let ins = n.inputs.map { names[$0] }, out = names[n.id], a = n.attrs
        let slope = a.double("slope", 0.01)
        guard let act = a.activation else { throw GraphError("onnx: no mapping for activation '\(a.string("activation", ""))'") }
        switch n.op {
        case .input, .param: return
        case .dense, .denseAct:
            let y = act == .none ? out : fresh(out)
            if g.nodes[n.inputs[0]].shape.count == 2 { node("Gemm", ins, [y]) } else if ins.count == 3 {
                let m = fresh(out); node("MatMul", [ins[0], ins[1]], [m]); node("Add", [m, ins[2]], [y])
            } else { node("MatMul", ins, [y]) }
            if act != .none { try activation(act, slope: slope, y, out) }
        case .conv2d, .conv2dAct:
            let w = g.nodes[n.inputs[1]].shape.compactMap(\.size), p = pair(a, "padding", 0)
            let y = n.op == .conv2dAct ? fresh(out) : out
            node("Conv", ins, [y], [("kernel_shape", .ints([w[2], w[3]])), ("strides", .ints(pair(a, "stride", 1))), ("pads", .ints(p + p))])
            if n.op == .conv2dAct { try activation(act, slope: slope, y, out) }
        case .maxPool2d, .avgPool2d:
            let k = pair(a, "kernel", 2), p = pair(a, "padding", 0)
            var attrs: [(String, ONNXAttr)] = [("kernel_shape", .ints(k)), ("strides", .ints(pair(a, "stride", k[0]))), ("pads", .ints(p + p))]
            if n.op == .avgPool2d { attrs.append(("count_include_pad", .int(1))) }   // MLW averages over padding (PyTorch default)
            node(n.op == .maxPool2d ? "MaxPool" : "AveragePool", ins, [out], attrs)
        case .batchNorm:   // ONNX momentum weights the old running value: 1 − MLW's
            node("BatchNormalization", ins, [out], [("epsilon", .float(a.double("eps", 1e-5))), ("momentum", .float(1 - a.double("momentum", 0.1)))])
        case .layerNorm: node("LayerNormalization", ins, [out], [("axis", .int(-1)), ("epsilon", .float(a.double("eps", 1e-5)))])
        case .relu, .sigmoid, .tanh, .gelu, .leakyRelu: try activation(Activation(op: n.op)!, slope: slope, ins[0], out)
        case .softmax: node("Softmax", ins, [out], [("axis", .int(a.int("axis", -1)))])
        case .logSoftmax: node("LogSoftmax", ins, [out], [("axis", .int(a.int("axis", -1)))])
        case .add, .sub, .mul, .div, .matmul:
            node(onnxBinary[n.op]!, ins, [out])
        case .flatten: node("Flatten", ins, [out], [("axis", .int(1))])
        case .reshape: node("Reshape", [ins[0], int64s(a.ints("shape") ?? [])], [out])
        case .transpose: node("Transpose", ins, [out], [("perm", .ints(a.ints("perm") ?? Array((0..<n.shape.count).reversed())))])
        case .concat: node("Concat", ins, [out], [("axis", .int(a.int("axis", -1)))])
        case .dropout: node("Identity", ins, [out])   // inference export
        case .sum:
            var i = [ins[0]]; if let ax = a.ints("axes") { i.append(int64s(ax)) }
            node("ReduceSum", i, [out], [("keepdims", .int(a.bool("keepdims", false) ? 1 : 0))])
        case .mean:
            var attrs: [(String, ONNXAttr)] = [("keepdims", .int(a.bool("keepdims", false) ? 1 : 0))]
            if let ax = a.ints("axes") { attrs.append(("axes", .ints(ax))) }   // an attribute until opset 18
            node("ReduceMean", ins, [out], attrs)
        case .embedding: node("Gather", [ins[1], ins[0]], [out], [("axis", .int(0))])
        case .elementwise:
            guard let steps = a.chain("steps") else { throw GraphError("onnx: elementwise node \(n.name) has no steps") }
            var v = ins[0]
            for (k, s) in steps.enumerated() {
                let y = k == steps.count - 1 ? out : fresh(out)
                if let j = s.operand {
                    let op = onnxBinary[s.op]!
                    node(op, s.reversed ? [ins[j], v] : [v, ins[j]], [y])
                } else { try activation(s.activation ?? .none, slope: s.slope, v, y) }
                v = y
            }
        case .treeEnsemble: try emitTreeEnsemble(n, ins, out)   // ONNXTrees.swift
        case .sqDist, .argmin, .topK, .topKValues, .knnVote: try emitSelect(n, ins, out)   // ONNXSelect.swift
        case .csrRows, .knnScores:   // OpsRecommend.swift
            throw GraphError("onnx: op '\(n.op)' (node \(n.name)) has no ONNX mapping: an item_knn recommender keeps its users' rows and each item's neighbours sparse, which ONNX operators cannot gather; serve it with mlw serve, or export an als or bpr recommender")
        default: throw GraphError("onnx: op '\(n.op)' (node \(n.name)) has no ONNX mapping")
        }
    }

    func valueInfo(_ i: Int, into w: inout ProtoWriter, field: Int) {
        let n = g.nodes[i]
        w.message(field) { v in
            v.string(ONNXField.valueName, names[i])
            v.message(ONNXField.valueType) { t in
                t.message(ONNXField.typeTensor) { tt in
                    tt.int(ONNXField.tensorElemType, onnxType(n.dtype))
                    tt.message(ONNXField.tensorShape) { s in
                        for d in n.shape {
                            s.message(ONNXField.shapeDim) { dm in
                                switch d { case .fixed(let k): dm.int(ONNXField.dimValue, k); case .batch: dm.string(ONNXField.dimParam, "batch") }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Serialises a model as an ONNX ModelProto (IR version 8, default domain at `opset`).
/// Inputs keep their names, outputs are named after their nodes, the batch dim is "batch".
///
///     try exportONNX(model, "model.onnx")
public func onnxBytes(_ model: Model, opset: Int = 17) throws -> [UInt8] {
    let g = model.graph
    try g.verify()
    guard opset >= 17 else { throw GraphError("onnx: opset \(opset) is not supported (17 or newer: LayerNormalization)") }
    if let trees = try onnxTreeModel(model, opset: opset) { return trees }   // ONNXTrees.swift
    var b = ONNXBuilder(g)
    for i in g.neededNodes() {
        let n = g.nodes[i]
        if n.op == .param { b.initializer(b.names[i], g.params[n.name]!) } else { try b.emit(n) }
    }
    var graph = b.nodes
    graph.string(ONNXField.graphName, "mlw")
    graph.bytes += b.initializers.bytes
    for i in g.inputs { b.valueInfo(i, into: &graph, field: ONNXField.graphInput) }
    for o in g.outputs { b.valueInfo(o, into: &graph, field: ONNXField.graphOutput) }
    return ONNXBuilder.modelBytes(graph, opset: opset, ml: ONNXBuilder.needsML(g))
}

public func exportONNX(_ model: Model, _ path: String, opset: Int = 17) throws {
    let bytes = try onnxBytes(model, opset: opset)
    try SafeWrite.write(bytes, to: path)
}
