import Foundation
import FileIO
import Graph
import Tensor

/// One-file model format (see Docs/formats.md):
///
///     0   8  magic "MLWMODEL"
///     8   4  format version, u32 little-endian (currently 1)
///     12  4  flags, u32 (0)
///     16  8  header JSON length H, u64
///     24  8  weights length W, u64
///     32  8  FNV-1a 64 checksum of the H + W bytes that follow, u64
///     40  H  header JSON: {"format", "version", "graph": {nodes, inputs, outputs, buffers}, "blobs": {name: text}}
///     40+H W safetensors (Tensor engine's encoder), one entry per parameter
public enum ModelFile {
    public static let magic = Array("MLWMODEL".utf8)
    public static let version: UInt32 = 1

    struct Header: Codable {
        var format = "mlw-model"
        var version: Int
        var graph: GraphJSON
        var blobs: [String: String]
    }
    struct GraphJSON: Codable { var nodes: [Node]; var inputs: [Int]; var outputs: [Int]; var buffers: [String] }

    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 { FNV1a.hash(bytes) }

    public static func encode(_ m: Model) throws -> [UInt8] {
        let g = m.graph
        let header = Header(version: Int(version), graph: GraphJSON(nodes: g.nodes, inputs: g.inputs, outputs: g.outputs, buffers: g.buffers.sorted()), blobs: m.blobs)
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let json = Array(try enc.encode(header))
        let weights = try Safetensors.encode(g.paramNames.map { ($0, g.params[$0]!) }, metadata: ["format": "mlw-model"])
        var out = magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        u32(version); u32(0); u64(UInt64(json.count)); u64(UInt64(weights.count))
        u64(fnv1a((json + weights)[...]))
        return out + json + weights
    }

    public static func decode(_ b: [UInt8]) throws -> Model {
        func fail(_ why: String) -> TrainError { TrainError("model file: \(why)") }
        guard b.count >= 40 else { throw fail("too short (\(b.count) bytes) to be an MLW model") }
        guard Array(b[0..<8]) == magic else { throw fail("not an MLW model (bad magic bytes)") }
        func u(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }
        let v = u(8, 4)
        guard v <= UInt64(version) else { throw fail("format version \(v) is newer than this mlw reads (\(version)); upgrade mlw") }
        guard v >= 1 else { throw fail("bad format version \(v)") }
        let flags = u(12, 4)
        guard flags == 0 else { throw fail("flags 0x\(String(flags, radix: 16)) are not understood by this mlw (a newer writer?); upgrade mlw") }
        // Lengths come from the file: add them with overflow checks (a lying header must
        // not trap), and only then use them as indices.
        let h = u(16, 8), w = u(24, 8)
        let (hw, over1) = h.addingReportingOverflow(w)
        let (total, over2) = hw.addingReportingOverflow(40)
        guard !over1, !over2, total == UInt64(b.count) else {
            let said = over1 || over2 ? "more than 2^64" : String(total)
            throw fail("truncated or padded: sections say \(said) bytes (header \(h), weights \(w)), file has \(b.count)")
        }
        guard fnv1a(b[40...]) == u(32, 8) else { throw fail("checksum mismatch (corrupt file)") }
        let json = Data(b[40..<(40 + Int(h))])
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: json) } catch { throw fail("bad header JSON (\(error))") }
        guard header.format == "mlw-model" else { throw fail("header format is '\(header.format)'") }
        let (tensors, _) = try Safetensors.decode(Array(b[(40 + Int(h))...]))
        var g = Graph()
        g.nodes = header.graph.nodes; g.inputs = header.graph.inputs; g.outputs = header.graph.outputs
        g.buffers = Set(header.graph.buffers)
        for (name, t) in tensors { g.params[name] = t }
        try ModelFileCheck.check(g)
        do { try g.verify() } catch { throw fail("invalid graph: \(error)") }
        return Model(graph: g, blobs: header.blobs)
    }
}

/// Writes a model file (`SafeWrite`: a temporary file renamed into place over a regular
/// file; a symlink followed, a device or FIFO written in place).
public func save(_ m: Model, _ path: String) throws {
    let bytes = try ModelFile.encode(m)
    do { try SafeWrite.write(bytes, to: path) } catch {
        throw TrainError("save: \(error)")
    }
}

public func loadModel(_ path: String) throws -> Model {
    // A FIFO or device would block or never end: only regular files (symlinks followed).
    var info = stat()
    if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
        throw TrainError("load: '\(path)' is not a regular file")
    }
    guard let d = FileManager.default.contents(atPath: path) else { throw TrainError("load: cannot read '\(path)'") }
    return try ModelFile.decode(Array(d))
}
