import Graph
import Tensor
import Train

/// `tree_ensemble` in ai.onnx.ml. Regression (boosted or forest) and graphs where the
/// ensemble feeds other ops: `TreeEnsembleRegressor` (SUM over trees, one target per output
/// column), the op's raw outputs (forest leaf values pre-scaled by 1/trees). A model that
/// is only x -> tree_ensemble is exported whole (`onnxTreeModel`) when it classifies or
/// scores anomalies.
extension ONNXBuilder {
    static let mlDomain = "ai.onnx.ml"

    /// True when the graph needs the ai.onnx.ml opset.
    static func needsML(_ g: Graph) -> Bool { g.nodes.contains { $0.op == .treeEnsemble } }

    /// The trees of a `tree_ensemble` node in ai.onnx.ml's flat attribute form: leaf values
    /// times `factor`, and `fold[c]` added to the leaves of output c's first tree (classifiers
    /// take no reliable base_values in onnxruntime's binary case).
    struct TreeArrays {
        var treeIDs: [Int] = [], nodeIDs: [Int] = [], features: [Int] = [], values: [Float] = [], modes: [String] = []
        var trueIDs: [Int] = [], falseIDs: [Int] = [], missingTrue: [Int] = []
        var tTree: [Int] = [], tNode: [Int] = [], tTarget: [Int] = [], tWeight: [Float] = []
        var transform = 0, scale = 1.0, base: [Double] = []

        var nodeAttrs: [(String, [Int])] {
            [("nodes_treeids", treeIDs), ("nodes_nodeids", nodeIDs), ("nodes_featureids", features), ("nodes_truenodeids", trueIDs),
             ("nodes_falsenodeids", falseIDs), ("nodes_missing_value_tracks_true", missingTrue)]
        }
    }

    func treeArrays(_ n: Node, factor: (Int, Double) -> Double = { _, _ in 1 }, fold: Bool = false) throws -> TreeArrays {
        func floats(_ i: Int) throws -> [Float] {
            guard let t = g.params[g.nodes[n.inputs[i]].name] else { throw GraphError("onnx: tree_ensemble input \(i) is not a stored parameter") }
            return t.toFloats()
        }
        let nodes = try floats(1), roots = try floats(2), meta = try floats(3)
        guard meta.count >= 3 else { throw GraphError("onnx: tree_ensemble meta is malformed") }
        var a = TreeArrays()
        a.transform = Int(meta[0]); a.scale = Double(meta[1]); a.base = meta[2...].map(Double.init)
        let f = factor(a.transform, a.scale)
        let m = nodes.count / 8, t = roots.count / 2
        var folded = Set<Int>()
        for k in 0..<t {
            let root = Int(roots[2 * k]), end = k + 1 < t ? Int(roots[2 * k + 2]) : m
            guard root >= 0, root < end, end <= m else { throw GraphError("onnx: tree \(k) has a bad node range") }
            let target = Int(roots[2 * k + 1])
            guard target >= 0, target < a.base.count else { throw GraphError("onnx: tree \(k) adds to output \(target) of \(a.base.count)") }
            let add = fold && folded.insert(target).inserted ? a.base[target] : 0
            for i in root..<end {
                let r = nodes[(8 * i)..<(8 * i + 8)].map { $0 }
                a.treeIDs.append(k); a.nodeIDs.append(i - root)
                if r[0] < 0 {
                    a.features.append(0); a.values.append(0); a.modes.append("LEAF"); a.trueIDs.append(0); a.falseIDs.append(0); a.missingTrue.append(0)
                    a.tTree.append(k); a.tNode.append(i - root); a.tTarget.append(target); a.tWeight.append(Float(Double(r[4]) * f + add))
                } else {
                    a.features.append(Int(r[0])); a.values.append(r[1]); a.modes.append("BRANCH_LEQ")
                    a.trueIDs.append(Int(r[2]) - root); a.falseIDs.append(Int(r[3]) - root); a.missingTrue.append(Int(r[5]))
                }
            }
        }
        // An output no tree adds to still needs its base: a class with no trees.
        if fold { for c in a.base.indices where !folded.contains(c) && a.base[c] != 0 { throw GraphError("onnx: output \(c) has a base value but no trees") } }
        return a
    }

    /// A TreeEnsembleRegressor summing the trees (leaf values times `factor`) plus `base`.
    mutating func treeRegressor(_ a: TreeArrays, _ x: String, _ out: String, base: [Double]) {
        nodes_ml("TreeEnsembleRegressor", [x], [out], ints: a.nodeAttrs + [("target_treeids", a.tTree), ("target_nodeids", a.tNode), ("target_ids", a.tTarget)],
                 floats: [("nodes_values", a.values), ("target_weights", a.tWeight), ("base_values", base.map { Float($0) })],
                 strings: [("nodes_modes", a.modes), ("aggregate_function", ["SUM"]), ("post_transform", ["NONE"])],
                 int: [("n_targets", base.count)])
    }

    /// The graph's own output (generic export): boosted raw scores and forest regressions.
    mutating func emitTreeEnsemble(_ n: Node, _ ins: [String], _ out: String) throws {
        let a = try treeArrays(n, factor: { t, s in t == 3 ? s : 1 })
        guard a.transform == 0 || a.transform == 3 else {
            throw GraphError("onnx: tree_ensemble transform \(a.transform) (isolation forest or forest classifier) is exported whole, as the model's only op")
        }
        treeRegressor(a, ins[0], out, base: a.base)
    }

    /// One ai.onnx.ml node with list attributes (AttributeProto: floats 7, ints 8, strings 9;
    /// types FLOATS 6, INTS 7, STRINGS 8; a single string is a STRING, type 3).
    mutating func nodes_ml(_ op: String, _ ins: [String], _ outs: [String], ints: [(String, [Int])], floats: [(String, [Float])],
                           strings: [(String, [String])], int: [(String, Int)]) {
        nodes.message(ONNXField.graphNode) { m in
            for i in ins { m.string(ONNXField.nodeInput, i) }
            for o in outs { m.string(ONNXField.nodeOutput, o) }
            m.string(ONNXField.nodeName, outs[0])
            m.string(ONNXField.nodeOpType, op)
            m.string(7, Self.mlDomain)   // NodeProto.domain
            for (name, vs) in ints {
                m.message(ONNXField.nodeAttribute) { a in a.string(ONNXField.attrName, name); for v in vs { a.int(8, v) }; a.int(ONNXField.attrType, 7) }
            }
            for (name, vs) in floats {
                m.message(ONNXField.nodeAttribute) { a in a.string(ONNXField.attrName, name); for v in vs { a.float(7, v) }; a.int(ONNXField.attrType, 6) }
            }
            for (name, vs) in strings {
                m.message(ONNXField.nodeAttribute) { a in
                    a.string(ONNXField.attrName, name)
                    if name == "nodes_modes" { for s in vs { a.string(9, s) }; a.int(ONNXField.attrType, 8) }
                    else { a.string(ONNXField.attrS, vs[0]); a.int(ONNXField.attrType, 3) }
                }
            }
            for (name, v) in int {
                m.message(ONNXField.nodeAttribute) { a in a.string(ONNXField.attrName, name); a.int(ONNXField.attrI, v); a.int(ONNXField.attrType, 2) }
            }
        }
    }
}

/// Tree classifiers and isolation forests exported whole, with the outputs a consumer of
/// ai.onnx.ml tree models expects instead of the graph's raw output:
///
///   boosted classifier  TreeEnsembleClassifier, post_transform LOGISTIC (one logit: two
///                       probability columns) or SOFTMAX; base scores folded into the leaves
///   forest classifier   TreeEnsembleClassifier, post_transform NONE, leaves times 1/trees:
///                       the mean of the trees' class probabilities, over their sum
///   isolation forest    TreeEnsembleRegressor of the summed path lengths, then the score
///                       2^(-sum / (trees · c(sample_size))) as Mul and Pow
///
/// Outputs: `label` (int64 [batch]: the class MLW's predict gives, the binary threshold
/// applied; isolation: 1 for an anomaly) and `probabilities` [batch, classes] or `scores`
/// [batch, 1]. Nil for any other model (the generic export).
func onnxTreeModel(_ model: Model, opset: Int) throws -> [UInt8]? {
    let g = model.graph
    guard g.outputs.count == 1, g.inputs.count == 1 else { return nil }
    let out = g.nodes[g.outputs[0]]
    guard out.op == .treeEnsemble, out.inputs.first == g.inputs[0] else { return nil }
    let task = try ModelTask.stored(in: model.blobs)
    var b = ONNXBuilder(g)
    let x = b.names[g.inputs[0]]
    let probe = try b.treeArrays(out)
    let label = "label"
    var outputs: [(name: String, type: Int, shape: [Int?])] = [(label, ONNXBuilder.onnxInt64, [nil])]
    switch probe.transform {
    case 0 where task?.kind == .binary || task?.kind == .multiclass, 2:
        let boosted = probe.transform == 0
        let a = try b.treeArrays(out, factor: { t, s in t == 2 ? s : 1 }, fold: boosted)
        let k = a.base.count, classes = Swift.max(k, 2)
        let post = !boosted ? "NONE" : k == 1 ? "LOGISTIC" : "SOFTMAX"
        let probs = "probabilities", raw = b.fresh("label"), means = boosted ? probs : b.fresh("means")
        b.nodes_ml("TreeEnsembleClassifier", [x], [raw, means],
                   ints: a.nodeAttrs + [("class_treeids", a.tTree), ("class_nodeids", a.tNode), ("class_ids", a.tTarget),
                                        ("classlabels_int64s", Array(0..<classes))],
                   floats: [("nodes_values", a.values), ("class_weights", a.tWeight)],
                   strings: [("nodes_modes", a.modes), ("post_transform", [post])], int: [])
        if !boosted {
            // A forest grows one tree per class, so the means need not add up to 1: MLW's
            // softmax of log(max(mean, 1e-15)) is the clamped means over their sum.
            let clamped = b.fresh("means"), total = b.fresh("total")
            b.node("Max", [means, try b.constant(1e-15)], [clamped])
            b.node("ReduceSum", [clamped, b.int64s([1])], [total], [("keepdims", .int(1))])
            b.node("Div", [clamped, total], [probs])
        }
        // The label as MLW chooses it (onnxruntime's binary label reads the raw score): the
        // first largest probability; binary: p1 >= threshold, i.e. argmax(p - [1 - t, t]).
        var scored = probs
        if classes == 2 {
            let t = task?.threshold ?? 0.5
            scored = b.fresh("shifted")
            b.node("Sub", [probs, try b.floats([Float(1 - t), Float(t)], shape: [2])], [scored])
        }
        b.node("ArgMax", [scored], [label], [("axis", .int(1)), ("keepdims", .int(0))])
        outputs.append((probs, ONNXBuilder.onnxFloat, [nil, classes]))
    case 1:
        let sum = b.fresh("path_lengths"), e = b.fresh("exponent"), scores = "scores", flag = b.fresh("flag"), flat = b.fresh("flag")
        b.treeRegressor(probe, x, sum, base: [0])
        b.node("Mul", [sum, try b.constant(-1 / probe.scale)], [e])
        b.node("Pow", [try b.constant(2), e], [scores])
        b.node("GreaterOrEqual", [scores, try b.constant(task?.threshold ?? 0.5)], [flag])
        b.node("Cast", [flag], [flat], [("to", .int(ONNXBuilder.onnxInt64))])
        b.node("Reshape", [flat, b.int64s([-1])], [label])
        outputs.append((scores, ONNXBuilder.onnxFloat, [nil, 1]))
    default: return nil
    }
    var graph = b.nodes
    graph.string(ONNXField.graphName, "mlw")
    graph.bytes += b.initializers.bytes
    b.valueInfo(g.inputs[0], into: &graph, field: ONNXField.graphInput)
    for o in outputs {
        graph.message(ONNXField.graphOutput) { v in
            v.string(ONNXField.valueName, o.name)
            v.message(ONNXField.valueType) { t in
                t.message(ONNXField.typeTensor) { tt in
                    tt.int(ONNXField.tensorElemType, o.type)
                    tt.message(ONNXField.tensorShape) { s in
                        for d in o.shape { s.message(ONNXField.shapeDim) { dm in if let d { dm.int(ONNXField.dimValue, d) } else { dm.string(ONNXField.dimParam, "batch") } } }
                    }
                }
            }
        }
    }
    return ONNXBuilder.modelBytes(graph, opset: opset, ml: true)
}
