import Compress
import Foundation
import Graph
import Optimize
import Tensor
@testable import Train
import XCTest

/// `.mlwm` files that lie (issue 23): header lengths that overflow, unknown activations,
/// attributes of the wrong type or out of range. Each is an error naming the place, never a
/// trap and never a model that silently computes something else.
final class ModelFileHardeningTests: XCTestCase {
    func err(_ b: [UInt8]) -> String {
        do { _ = try ModelFile.decode(b); return "no error" } catch { return "\(error)" }
    }

    func model() throws -> Model {
        try sequential([dense(4, 8), relu(), dense(8, 3)], seed: 1)
    }

    /// The file with its header JSON rewritten by `edit`, lengths and checksum recomputed,
    /// so only the loader's own validation can refuse it.
    func rewrite(_ bytes: [UInt8], _ edit: (String) -> String) -> [UInt8] {
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let h = u64(16)
        let json = Array(edit(String(decoding: bytes[40..<(40 + h)], as: UTF8.self)).utf8)
        return withLengths(Array(bytes[0..<16]), json: json, weights: Array(bytes[(40 + h)...]))
    }

    func withLengths(_ head: [UInt8], json: [UInt8], weights: [UInt8]) -> [UInt8] {
        var out = head
        func put(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        put(UInt64(json.count)); put(UInt64(weights.count)); put(ModelFile.fnv1a((json + weights)[...]))
        return out + json + weights
    }

    /// Bytes 16–23 (header length) or 24–31 (weights length) set to 0xff, or to values whose
    /// sum wraps around 2^64: "truncated or padded", no arithmetic overflow.
    func testLyingSectionLengthsAreErrors() throws {
        let bytes = try ModelFile.encode(try model())
        let n = UInt64(bytes.count - 40)
        for field in [16, 24] {
            for value: UInt64 in [.max, .max - 39, .max - n + 1, 1 << 63, n + 1, 0] {
                var b = bytes
                withUnsafeBytes(of: value.littleEndian) { for (i, x) in $0.enumerated() { b[field + i] = x } }
                XCTAssertTrue(err(b).contains("truncated or padded"), "field \(field) = \(value): \(err(b))")
            }
        }
        var both = bytes
        for i in 16..<32 { both[i] = 0xff }
        XCTAssertTrue(err(both).contains("truncated or padded"), err(both))
        var flags = bytes; flags[12] = 1
        XCTAssertTrue(err(flags).contains("flags"), err(flags))
    }

    /// The reproducer: a valid checksum and `"activation": "swish9"` on a dense node.
    func testUnknownActivationFailsTheLoadNamingTheNode() throws {
        let bytes = try ModelFile.encode(try model())
        let bad = rewrite(bytes) { $0.replacingOccurrences(of: "\"relu\"", with: "\"swish9\"") }
        XCTAssertNotEqual(bad, bytes)
        let e = err(bad)
        XCTAssertTrue(e.contains("unknown activation 'swish9'"), e)
        XCTAssertTrue(e.contains("node 3 'dense_0+relu' (dense)"), e)
    }

    func testBadAttributesFailTheLoad() throws {
        func refused(_ m: Model, _ expect: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let e = err(try ModelFile.encode(m))
            XCTAssertTrue(e.hasPrefix("model file: node "), e, file: file, line: line)
            XCTAssertTrue(e.contains(expect), e, file: file, line: line)
        }
        let base = try model()
        let di = base.graph.nodes.firstIndex { $0.op == .dense }!
        var m = base; m.graph.nodes[di].attrs["activation"] = .int(3)
        try refused(m, "attribute 'activation' must be a string, got int 3")
        m = base; m.graph.nodes[di].attrs["swish"] = .bool(true)
        try refused(m, "unknown attribute 'swish' (it takes activation)")
        m = base; m.graph.nodes[di].op = OpName(rawValue: "densest")
        try refused(m, "unknown op 'densest'")
        m = base; m.graph.nodes[0].attrs["x"] = .int(1)
        try refused(m, "unknown attribute 'x' (the op takes none)")

        let cnn = try sequential([conv2d(1, 2, kernel: 3), maxPool(2), flatten(), dense(18, 2)], inputShape: [1, 8, 8], seed: 2)
        let c = cnn.graph.nodes.firstIndex { $0.op == .conv2d }!
        let p = cnn.graph.nodes.firstIndex { $0.op == .maxPool2d }!
        m = cnn; m.graph.nodes[c].attrs["stride"] = .string("2")
        try refused(m, "attribute 'stride' must be an int or a list of two ints, got string '2'")
        m = cnn; m.graph.nodes[c].attrs["stride"] = .int(0)   // would divide by zero in the shape rule
        try refused(m, "attribute 'stride' is 0, out of 1...65536")
        m = cnn; m.graph.nodes[p].attrs["padding"] = .ints([1, 2, 3])
        try refused(m, "attribute 'padding' must be one int or two, got 3")
        m = cnn; m.graph.nodes[p].attrs["kernel"] = .int(Int.max)
        try refused(m, "out of 1...65536")

        let net = try sequential([dense(4, 4), dropout(0.5), leakyRelu(0.1), dense(4, 2)], seed: 3)
        let d = net.graph.nodes.firstIndex { $0.op == .dropout }!
        let l = net.graph.nodes.firstIndex { $0.op == .leakyRelu }!
        m = net; m.graph.nodes[d].attrs["p"] = .double(1.5)
        try refused(m, "attribute 'p' is 1.5, out of 0.0...1.0")
        m = net; m.graph.nodes[l].attrs["slope"] = .string("big")
        try refused(m, "attribute 'slope' must be a number")
        // Shapes out of range (negative or overflowing sizes) before any shape rule runs.
        m = net; m.graph.nodes[0].shape = [.batch, .fixed(-4)]
        try refused(m, "size -4 out of")
        m = net; m.graph.nodes[0].shape = [.batch] + Array(repeating: .fixed(1 << 30), count: 3)
        try refused(m, "more than")
    }

    /// Kernels trust recorded dtypes: int8 bytes under a float32 node would be read as floats.
    func testDTypesMustMatchTheData() throws {
        var m = try model()
        let w = m.graph.nodes.firstIndex { $0.op == .param }!
        m.graph.params[m.graph.nodes[w].name] = try Tensor([Int8](repeating: 1, count: 32).map { Float($0) }, shape: [4, 8]).astype(.int8)
        var e = err(try ModelFile.encode(m))
        XCTAssertTrue(e.contains("parameter 'dense_0.weight' holds int8 data, the node says float32"), e)
        m = try model()
        let d = m.graph.nodes.firstIndex { $0.op == .dense }!
        m.graph.nodes[d].dtype = .int32
        e = err(try ModelFile.encode(m))
        XCTAssertTrue(e.contains("records dtype int32 but its inputs give float32"), e)
    }

    func testGraphInputsMustBeInputNodes() throws {
        var m = try model()
        m.graph.inputs = []
        XCTAssertTrue(err(try ModelFile.encode(m)).contains("the graph has no inputs"))
        m = try model(); m.graph.inputs = [99]
        XCTAssertTrue(err(try ModelFile.encode(m)).contains("graph input 99 is not an input node"))
    }

    /// A fused chain whose step reads an operand the node does not have would index past
    /// its inputs when it runs.
    func testElementwiseOperandOutOfRange() throws {
        var m = try model()
        let last = m.graph.nodes.count - 1
        m.graph.nodes.append(Node(id: last + 1, op: .elementwise, inputs: [last],
                                  attrs: ["steps": .chain([ChainStep(op: .add, operand: 3), ChainStep(op: .relu)])],
                                  shape: m.graph.nodes[last].shape, dtype: .float32, name: "chain"))
        m.graph.outputs = [last + 1]
        var msg = err(try ModelFile.encode(m))
        XCTAssertTrue(msg.contains("node 7 'chain' (elementwise): step 'add#3' reads operand 3, the node has 1 inputs"), msg)
        m.graph.nodes[last + 1].attrs["steps"] = .chain([ChainStep(op: .softmax)])
        msg = err(try ModelFile.encode(m))
        XCTAssertTrue(msg.contains("bad step 'softmax'"), msg)
        // Files from before chains were structured store them as text.
        m.graph.nodes[last + 1].attrs["steps"] = .string("add#3;relu")
        msg = err(try ModelFile.encode(m))
        XCTAssertTrue(msg.contains("reads operand 3"), msg)
        m.graph.nodes[last + 1].attrs["steps"] = .string("swish9")
        msg = err(try ModelFile.encode(m))
        XCTAssertTrue(msg.contains("bad step 'swish9'"), msg)
    }

    /// What training, the optimizer and compression write must still load.
    func testModelsFromEveryWriterStillLoad() throws {
        let x = try Tensor.randn([6, 4], seed: 5)
        let mlp = try sequential([dense(4, 16), relu(), batchNorm(16), dense(16, 16), gelu(), layerNorm(16), dropout(0.1),
                                  dense(16, 8), leakyRelu(0.2), dense(8, 3), softmax()], seed: 4)
        let conv = try sequential([conv2d(1, 4, kernel: 3, padding: 1), relu(), avgPool(2), maxPool(2, stride: 1),
                                   reshapeLayer([-1]), dense(4 * 2 * 2, 2)], inputShape: [1, 6, 6], seed: 6)
        var models: [(String, Model)] = [("mlp", mlp), ("conv", conv)]
        models.append(("optimized", try CompiledModel(mlp).optimized))
        models.append(("quantized", try quantize(mlp)))
        models.append(("static", try quantize(mlp, mode: .static, calibrate: x)))
        models.append(("pruned", try prune(mlp, sparsity: 0.9)))
        models.append(("optimized conv", try CompiledModel(conv).optimized))
        for (what, m) in models {
            let e = err(try ModelFile.encode(m))
            XCTAssertEqual(e, "no error", what)
        }
        let ops = Set(models.flatMap { $0.1.graph.nodes.map(\.op) })
        XCTAssertTrue(ops.isSuperset(of: [.dense, .qdense, .sparseDense, .conv2d, .batchNorm, .layerNorm]), "\(ops)")
    }

    /// Every attribute the schema names belongs to an op of the table (an op renamed in
    /// Graph must be renamed here too).
    func testSchemaNamesRegisteredOps() {
        for op in ModelFileCheck.schemaOps { XCTAssertNotNil(OpRegistry.ops[op], "schema names unknown op '\(op)'") }
    }

    /// Each byte of the header JSON flipped in turn, checksum recomputed: an error or a
    /// model, never a crash.
    func testEveryHeaderByteFlipIsHandled() throws {
        let bytes = try ModelFile.encode(try model())
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let h = u64(16)
        var json = Array(bytes[40..<(40 + h)])
        let weights = Array(bytes[(40 + h)...])
        for i in json.indices {
            for flip: UInt8 in [0x01, 0x20] {
                json[i] ^= flip
                _ = err(withLengths(Array(bytes[0..<16]), json: json, weights: weights))
                json[i] ^= flip
            }
        }
    }

    func testLoadRefusesNonRegularFiles() throws {
        let dir = NSTemporaryDirectory() + "mlw-mf-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/pipe.mlwm"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try loadModel(fifo)) { XCTAssertTrue("\($0)".contains("is not a regular file"), "\($0)") }
        XCTAssertThrowsError(try loadModel(dir)) { XCTAssertTrue("\($0)".contains("is not a regular file"), "\($0)") }
    }
}
