import Graph
import Tensor

/// `tree_ensemble` as ai.onnx.ml `TreeEnsembleRegressor` (SUM over trees, one target per
/// output column): the same raw outputs the MLW op gives for boosted models (logits for
/// classifiers) and forest regressors (leaf values pre-scaled by 1/trees). Transforms
/// that are not a sum (isolation scores, forest class log-frequencies) are refused.
extension ONNXBuilder {
    static let mlDomain = "ai.onnx.ml"

    /// True when the graph needs the ai.onnx.ml opset.
    static func needsML(_ g: Graph) -> Bool { g.nodes.contains { $0.op == .treeEnsemble } }

    mutating func emitTreeEnsemble(_ n: Node, _ ins: [String], _ out: String) throws {
        func floats(_ i: Int) throws -> [Float] {
            guard let t = g.params[g.nodes[n.inputs[i]].name] else { throw GraphError("onnx: tree_ensemble input \(i) is not a stored parameter") }
            return t.toFloats()
        }
        let nodes = try floats(1), roots = try floats(2), meta = try floats(3)
        guard meta.count >= 3 else { throw GraphError("onnx: tree_ensemble meta is malformed") }
        let transform = Int(meta[0]), scale = Double(meta[1]), base = meta[2...].map(Double.init)
        guard transform == 0 || transform == 3 else {
            throw GraphError("onnx: tree_ensemble transform \(transform) (isolation forest or forest classifier) has no ONNX mapping yet")
        }
        let factor = transform == 3 ? scale : 1
        let m = nodes.count / 8, t = roots.count / 2
        var treeIDs: [Int] = [], nodeIDs: [Int] = [], features: [Int] = [], values: [Float] = [], modes: [String] = []
        var trueIDs: [Int] = [], falseIDs: [Int] = [], missingTrue: [Int] = []
        var tTree: [Int] = [], tNode: [Int] = [], tTarget: [Int] = [], tWeight: [Float] = []
        for k in 0..<t {
            let root = Int(roots[2 * k]), end = k + 1 < t ? Int(roots[2 * k + 2]) : m
            guard root >= 0, root < end, end <= m else { throw GraphError("onnx: tree \(k) has a bad node range") }
            for i in root..<end {
                let r = nodes[(8 * i)..<(8 * i + 8)].map { $0 }
                treeIDs.append(k); nodeIDs.append(i - root)
                if r[0] < 0 {
                    features.append(0); values.append(0); modes.append("LEAF"); trueIDs.append(0); falseIDs.append(0); missingTrue.append(0)
                    tTree.append(k); tNode.append(i - root); tTarget.append(Int(roots[2 * k + 1])); tWeight.append(Float(Double(r[4]) * factor))
                } else {
                    features.append(Int(r[0])); values.append(r[1]); modes.append("BRANCH_LEQ")
                    trueIDs.append(Int(r[2]) - root); falseIDs.append(Int(r[3]) - root); missingTrue.append(Int(r[5]))
                }
            }
        }
        nodes_ml("TreeEnsembleRegressor", [ins[0]], [out], ints: [
            ("nodes_treeids", treeIDs), ("nodes_nodeids", nodeIDs), ("nodes_featureids", features), ("nodes_truenodeids", trueIDs),
            ("nodes_falsenodeids", falseIDs), ("nodes_missing_value_tracks_true", missingTrue),
            ("target_treeids", tTree), ("target_nodeids", tNode), ("target_ids", tTarget),
        ], floats: [("nodes_values", values), ("target_weights", tWeight), ("base_values", base.map { Float($0) })],
           strings: [("nodes_modes", modes), ("aggregate_function", ["SUM"]), ("post_transform", ["NONE"])],
           int: [("n_targets", base.count)])
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
