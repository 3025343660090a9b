import Tensor

/// One node of the dataflow graph. `op` is `.input`, `.param` or an entry of `OpRegistry`.
/// Inputs always have smaller ids, so node order is a topological order.
public struct Node: Codable {
    public var id: Int
    public var op: OpName
    public var inputs: [Int]
    public var attrs: Attrs
    public var shape: SymShape
    public var dtype: DType
    /// Input or parameter name; for ops, the layer name (e.g. "dense_1").
    public var name: String

    enum CodingKeys: String, CodingKey { case id, op, inputs, attrs, shape, dtype, name }
    public init(id: Int, op: OpName, inputs: [Int], attrs: Attrs, shape: SymShape, dtype: DType, name: String) {
        self.id = id; self.op = op; self.inputs = inputs; self.attrs = attrs; self.shape = shape; self.dtype = dtype; self.name = name
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id); op = try c.decode(OpName.self, forKey: .op)
        inputs = try c.decode([Int].self, forKey: .inputs); attrs = try c.decode(Attrs.self, forKey: .attrs)
        // Files written before chains were structured hold them as text ("add#1;relu").
        if op == .elementwise, case .string(let text)? = attrs["steps"] { attrs["steps"] = .chain(try ChainStep.parseLegacy(text)) }
        shape = try c.decode(SymShape.self, forKey: .shape); name = try c.decode(String.self, forKey: .name)
        let d = try c.decode(String.self, forKey: .dtype)
        guard let dt = DType(rawValue: d) else { throw GraphError("json: unknown dtype '\(d)'") }
        dtype = dt
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(op, forKey: .op); try c.encode(inputs, forKey: .inputs)
        try c.encode(attrs, forKey: .attrs); try c.encode(shape, forKey: .shape)
        try c.encode(dtype.rawValue, forKey: .dtype); try c.encode(name, forKey: .name)
    }
}

/// A model: nodes, named inputs, parameters (named weight tensors), outputs.
/// A value type: copying a graph snapshots its weights (tensors are copy-on-write).
public struct Graph {
    public var nodes: [Node] = []
    public var inputs: [Int] = []
    public var outputs: [Int] = []
    /// Weights by name. Names in `buffers` are state (batch-norm running stats), not trained.
    public var params: [String: Tensor] = [:]
    public var buffers: Set<String> = []

    public init() {}

    /// Parameter names in node order (deterministic: used for optimizers, hashing, files).
    public var paramNames: [String] { nodes.filter { $0.op == .param }.map(\.name) }
    public var trainableNames: [String] { paramNames.filter { !buffers.contains($0) } }
    public var inputNames: [String] { inputs.map { nodes[$0].name } }

    @discardableResult
    public mutating func input(_ name: String, shape: SymShape, dtype: DType = .float32) throws -> Int {
        guard !nodes.contains(where: { ($0.op == .input || $0.op == .param) && $0.name == name }) else { throw GraphError("graph: name '\(name)' is already used") }
        let id = nodes.count
        nodes.append(Node(id: id, op: .input, inputs: [], attrs: [:], shape: shape, dtype: dtype, name: name))
        inputs.append(id)
        return id
    }

    @discardableResult
    public mutating func param(_ name: String, _ value: Tensor, trainable: Bool = true) throws -> Int {
        guard params[name] == nil else { throw GraphError("graph: parameter '\(name)' already exists") }
        let id = nodes.count
        nodes.append(Node(id: id, op: .param, inputs: [], attrs: [:], shape: value.shape.map { .fixed($0) }, dtype: value.dtype, name: name))
        params[name] = value
        if !trainable { buffers.insert(name) }
        return id
    }

    /// Adds an op node, inferring its shape and dtype (errors name the op and shapes).
    @discardableResult
    public mutating func op(_ name: OpName, _ ins: [Int], _ attrs: Attrs = [:], label: String? = nil) throws -> Int {
        let def = try OpRegistry.op(name)
        guard def.arity.contains(ins.count) else { throw GraphError("\(name): expected \(def.arity) inputs, got \(ins.count)") }
        for i in ins where i < 0 || i >= nodes.count { throw GraphError("\(name): input node \(i) does not exist") }
        let shape = try def.shape(ins.map { nodes[$0].shape }, attrs)
        let id = nodes.count
        nodes.append(Node(id: id, op: name, inputs: ins, attrs: attrs, shape: shape,
                          dtype: def.dtype(ins.map { nodes[$0].dtype }, attrs), name: label ?? "\(name)_\(id)"))
        return id
    }

    /// Checks structure: ids, acyclicity (inputs precede nodes), arity, known ops,
    /// shapes re-inferred and equal to the recorded ones, params present with their shapes.
    public func verify() throws {
        for (i, n) in nodes.enumerated() {
            guard n.id == i else { throw GraphError("verify: node \(i) has id \(n.id)") }
            for j in n.inputs where j < 0 || j >= i { throw GraphError("verify: node \(i) (\(n.op)) uses node \(j): not earlier, so the graph may have a cycle") }
            switch n.op {
            case .input: guard n.inputs.isEmpty, inputs.contains(i) else { throw GraphError("verify: input node \(i) '\(n.name)' is not listed as an input") }
            case .param:
                guard let t = params[n.name] else { throw GraphError("verify: parameter '\(n.name)' has no value") }
                guard t.shape.map({ Dim.fixed($0) }) == n.shape else { throw GraphError("verify: parameter '\(n.name)' has shape \(t.shape), node says \(formatShape(n.shape))") }
            default:
                let def = try OpRegistry.op(n.op)
                guard def.arity.contains(n.inputs.count) else { throw GraphError("verify: \(n.op) node \(i) has \(n.inputs.count) inputs, expected \(def.arity)") }
                let s = try def.shape(n.inputs.map { nodes[$0].shape }, n.attrs)
                guard s == n.shape else { throw GraphError("verify: \(n.op) node \(i) records shape \(formatShape(n.shape)) but its inputs give \(formatShape(s))") }
            }
        }
        guard !outputs.isEmpty else { throw GraphError("verify: graph has no outputs") }
        for o in outputs where o < 0 || o >= nodes.count { throw GraphError("verify: output \(o) does not exist") }
    }

    public var parameterCount: Int { trainableNames.reduce(0) { $0 + (params[$1]?.count ?? 0) } }
}
