import Graph

/// Load-time validation of a model file's graph, before the graph verifier and long before
/// anything runs: every node's op must be in the op table, and its attributes must be ones
/// the op reads, of the type it reads and in range. Ops read attributes with defaults
/// (`attrs.string("activation", "none")`), so without this a file saying
/// `"activation": "swish9"` or `"stride": "2"` would load and silently compute something
/// else; and sizes far out of range would overflow in the shape rules.
///
/// Adding an op that takes attributes means adding its line to `ModelFileCheck.schema`
/// (an op missing from the table may have no attributes at all).
public enum ModelFileCheck {
    /// The type (and range) of one attribute.
    enum Kind {
        case int(ClosedRange<Int>)
        case ints(ClosedRange<Int>)
        /// A finite number, written as a double or an int.
        case number(ClosedRange<Double>)
        case doubles
        case bool
        /// An int or a list of two ints (stride, padding, kernel).
        case pair(ClosedRange<Int>)
        /// One of these strings.
        case oneOf(Set<String>)
        /// The steps of an `elementwise` chain.
        case chain
    }

    /// Largest size a dimension or size attribute may have (2^31).
    static let maxDim = 1 << 31
    /// Largest element count of one node's fixed dimensions (2^40).
    static let maxElements = 1 << 40
    /// Largest rank of a node's shape.
    static let maxRank = 16

    static let plainActivation = Kind.oneOf(["none", "relu"])
    static let fusedActivation = Kind.oneOf(Set(fusableActivations.map(\.rawValue)).union(["none"]))
    static let sizes = Kind.pair(1...65_536)
    static let paddings = Kind.pair(0...65_536)
    static let axis = Kind.int(-maxRank...maxRank)

    /// Op -> attribute -> kind. Ops not listed take no attributes.
    static let schema: [OpName: [String: Kind]] = [
        .dense: ["activation": plainActivation],
        .denseAct: ["activation": fusedActivation, "slope": .number(-1e6...1e6)],
        .conv2d: ["stride": sizes, "padding": paddings],
        .conv2dAct: ["stride": sizes, "padding": paddings, "activation": fusedActivation, "slope": .number(-1e6...1e6)],
        .maxPool2d: ["kernel": sizes, "stride": sizes, "padding": paddings],
        .avgPool2d: ["kernel": sizes, "stride": sizes, "padding": paddings],
        .dropout: ["p": .number(0...1)],
        .leakyRelu: ["slope": .number(-1e6...1e6)],
        .softmax: ["axis": axis],
        .logSoftmax: ["axis": axis],
        .concat: ["axis": axis],
        .reshape: ["shape": .ints(-1...maxDim)],
        .transpose: ["perm": .ints(0...maxRank)],
        .sum: ["axes": .ints(-maxRank...maxRank), "keepdims": .bool],
        .mean: ["axes": .ints(-maxRank...maxRank), "keepdims": .bool],
        .batchNorm: ["eps": .number(0...1), "momentum": .number(0...1)],
        .layerNorm: ["eps": .number(0...1)],
        .crossEntropy: ["smoothing": .number(0...1), "weights": .doubles],
        .huber: ["delta": .number(0...1e12)],
        .fakeQuant: ["per": .oneOf(["tensor", "row", "column"]), "bits": .int(2...16)],
        .qdense: ["act_scale": .number(1e-30...1e30), "act_zero": .int(-65_536...65_536), "act_unsigned": .bool, "activation": plainActivation],
        .sparseDense: ["in": .int(1...maxDim), "activation": plainActivation],
        .elementwise: ["steps": .chain],
        .sqDist: ["metric": .oneOf(["euclidean", "cosine"])],
        .topK: ["k": .int(1...maxDim), "smallest": .bool],
        .topKValues: ["k": .int(1...maxDim), "smallest": .bool],
        .knnVote: ["classes": .int(0...65_536), "weights": .oneOf(["uniform", "distance"]), "squared": .bool],
        .csrRows: ["cols": .int(1...(1 << 24))],
    ]

    /// The ops the schema gives attributes to (tests check each is in the op table).
    public static var schemaOps: [OpName] { schema.keys.sorted() }

    /// Throws a `TrainError` naming the first bad node: unknown op, unknown attribute, an
    /// attribute of the wrong type or out of range, a shape out of range; also checks that
    /// the graph's inputs are input nodes and that it has at least one.
    public static func check(_ g: Graph) throws {
        guard !g.inputs.isEmpty else { throw TrainError("model file: the graph has no inputs") }
        for i in g.inputs {
            guard g.nodes.indices.contains(i), g.nodes[i].op == .input else {
                throw TrainError("model file: graph input \(i) is not an input node")
            }
        }
        for (i, n) in g.nodes.enumerated() {
            func bad(_ why: String) -> TrainError { TrainError("model file: node \(i) '\(n.name)' (\(n.op)): \(why)") }
            guard n.op == .input || n.op == .param || OpRegistry.ops[n.op] != nil else {
                throw TrainError("model file: node \(i) '\(n.name)': unknown op '\(n.op)'")
            }
            try checkShape(n.shape, bad)
            // Kernels pick their loops (raw float32 pointers...) from the recorded dtypes, so a
            // dtype that does not match the data is refused, never run.
            if n.op == .param, let t = g.params[n.name], t.dtype != n.dtype {
                throw bad("parameter '\(n.name)' holds \(t.dtype) data, the node says \(n.dtype)")
            }
            if let def = OpRegistry.ops[n.op], n.inputs.allSatisfy({ $0 >= 0 && $0 < i }) {
                let want = def.dtype(n.inputs.map { g.nodes[$0].dtype }, n.attrs)
                guard want == n.dtype else { throw bad("records dtype \(n.dtype) but its inputs give \(want)") }
            }
            let kinds = schema[n.op] ?? [:]
            for (key, value) in n.attrs.sorted(by: { $0.key < $1.key }) {
                guard let kind = kinds[key] else {
                    let known = kinds.keys.sorted()
                    throw bad("unknown attribute '\(key)'" + (known.isEmpty ? " (the op takes none)" : " (it takes \(known.joined(separator: ", ")))"))
                }
                try checkValue(value, kind, key: key, bad)
            }
            if n.op == .elementwise {
                for s in n.attrs.chain("steps") ?? [] {
                    if let k = s.operand {
                        guard (1..<max(n.inputs.count, 1)).contains(k) else {
                            throw bad("step '\(s.text)' reads operand \(k), the node has \(n.inputs.count) inputs")
                        }
                        guard OpName.binaryElementwise.contains(s.op) else { throw bad("bad step '\(s.text)'") }
                    } else {
                        guard let a = s.activation, fusableActivations.contains(a), !s.reversed else { throw bad("bad step '\(s.text)'") }
                        guard s.slope.isFinite else { throw bad("step '\(s.text)' has a slope that is not finite") }
                    }
                }
            }
            if n.op == .transpose, let p = n.attrs.ints("perm"), p.sorted() != Array(0..<p.count) {
                throw bad("attribute 'perm' \(p) is not a permutation")
            }
            if n.op == .reshape, let s = n.attrs.ints("shape") {
                try checkCount(s.filter { $0 > 0 }, what: "attribute 'shape' \(s)", bad)
            }
        }
    }

    private static func checkShape(_ shape: SymShape, _ bad: (String) -> TrainError) throws {
        guard shape.count <= maxRank else { throw bad("shape has rank \(shape.count), more than \(maxRank)") }
        let sizes = shape.compactMap(\.size)
        for s in sizes where s < 0 || s > maxDim { throw bad("shape \(formatShape(shape)) has size \(s) out of 0...\(maxDim)") }
        try checkCount(sizes, what: "shape \(formatShape(shape))", bad)
    }

    /// The product of `sizes` (each within 0...maxDim) must stay within maxElements.
    private static func checkCount(_ sizes: [Int], what: String, _ bad: (String) -> TrainError) throws {
        var count = 1
        for s in sizes {
            let (p, over) = count.multipliedReportingOverflow(by: s)
            guard !over, p <= maxElements else { throw bad("\(what) has more than \(maxElements) elements") }
            count = p
        }
    }

    private static func checkValue(_ value: Attr, _ kind: Kind, key: String, _ bad: (String) -> TrainError) throws {
        func wrong(_ expected: String) -> TrainError { bad("attribute '\(key)' must be \(expected), got \(describe(value))") }
        switch (kind, value) {
        case let (.int(r), .int(v)):
            guard r.contains(v) else { throw bad("attribute '\(key)' is \(v), out of \(r)") }
        case (.int, _): throw wrong("an int")
        case let (.ints(r), .ints(vs)):
            guard vs.count <= maxRank else { throw bad("attribute '\(key)' has \(vs.count) entries, more than \(maxRank)") }
            if let v = vs.first(where: { !r.contains($0) }) { throw bad("attribute '\(key)' holds \(v), out of \(r)") }
        case (.ints, _): throw wrong("a list of ints")
        case let (.number(r), .double(v)):
            guard v.isFinite, r.contains(v) else { throw bad("attribute '\(key)' is \(v), out of \(r)") }
        case let (.number(r), .int(v)):
            guard r.contains(Double(v)) else { throw bad("attribute '\(key)' is \(v), out of \(r)") }
        case (.number, _): throw wrong("a number")
        case let (.doubles, .doubles(vs)):
            guard vs.count <= maxDim, vs.allSatisfy(\.isFinite) else { throw bad("attribute '\(key)' holds a value that is not finite") }
        case (.doubles, _): throw wrong("a list of numbers")
        case (.bool, .bool): break
        case (.bool, _): throw wrong("a bool")
        case let (.pair(r), .int(v)):
            guard r.contains(v) else { throw bad("attribute '\(key)' is \(v), out of \(r)") }
        case let (.pair(r), .ints(vs)):
            guard vs.count == 2 else { throw bad("attribute '\(key)' must be one int or two, got \(vs.count)") }
            if let v = vs.first(where: { !r.contains($0) }) { throw bad("attribute '\(key)' holds \(v), out of \(r)") }
        case (.pair, _): throw wrong("an int or a list of two ints")
        case let (.oneOf(allowed), .string(s)):
            guard allowed.contains(s) else { throw bad("unknown \(key) '\(s)' (expected \(allowed.sorted().joined(separator: ", ")))") }
        case (.oneOf, _): throw wrong("a string")
        case (.chain, .chain(let steps)):
            guard steps.count <= 4096 else { throw bad("attribute '\(key)' has \(steps.count) steps, more than 4096") }
        case (.chain, _): throw wrong("a chain of steps")
        }
    }

    private static func describe(_ a: Attr) -> String {
        switch a {
        case .int(let v): return "int \(v)"
        case .ints(let v): return "ints \(v)"
        case .double(let v): return "double \(v)"
        case .doubles(let v): return "doubles \(v.prefix(8))" + (v.count > 8 ? "..." : "")
        case .string(let v): return "string '\(v.prefix(64))'"
        case .bool(let v): return "bool \(v)"
        case .chain(let v): return "a chain of \(v.count) steps"
        }
    }
}
