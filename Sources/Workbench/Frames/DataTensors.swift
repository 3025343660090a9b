import Frames
import Foundation
import Lang
import Tensor

/// The bridge between datasets and tensors: features as a float32 matrix, labels as a
/// float32 vector (class codes for category labels), and datasets built from tensors.
let dataTensorFunctions: [NativeFunction] = [
    NativeFunction("to_tensors", [Param("data", .native("dataset"))],
                   doc: "Features as a [rows, features] float32 tensor x and the labels as y: {x, y} for a numeric label, {x, y, classes} for a text label (y holds class codes, classes their names), {x} without a label.",
                   example: "to_tensors(read_csv(\"Scripts/data/iris.csv\", label: \"species\")).x.shape", result: "[150, 4]") { a in
        let d = try a.native("data", as: DatasetValue.self, "dataset")
        let t = try d.memo.tensors(of: d.ds)
        return tensorRecord((t.x, t.y), t.labelNames)
    },
    NativeFunction("batches", [Param("data", .native("dataset")), Param("size", .int), Param("seed", .optional(.int), .nil)],
                   doc: "The dataset as a list of {x, y} tensor batches, in a seeded random order when seed is given.",
                   example: "len(batches(read_csv(\"Scripts/data/iris.csv\", label: \"species\"), 64))", result: "3") { a in
        guard try a.int("size") >= 1 else { throw a.invalid("size", "must be at least 1") }
        let seed = a.isNil("seed") ? nil : UInt64(bitPattern: Int64(try a.int("seed")))
        return .list(try ds(a).batches(size: try a.int("size"), seed: seed).map(tensors))
    },
    NativeFunction("dataset", [Param("x", .native("tensor")), Param("y", .optional(.native("tensor")), .nil),
                               Param("names", .optional(.list), .nil), Param("label", .string, .string("label"))],
                   doc: "A dataset from a [rows, features] tensor and optional labels (tensors in, datasets out).",
                   example: "dataset(ones([3, 2]), y: zeros([3])).columns", result: "[\"f0\", \"f1\", \"label\"]") { a in
        let x = try tn(a, "x")
        guard x.rank == 2 else { throw a.invalid("x", "must be a 2-D tensor [rows, features], got shape \(x.shape)") }
        let y = a.isNil("y") ? nil : try tn(a, "y")
        let d = try Dataset(features: x.toFloats(), rows: x.shape[0], cols: x.shape[1], labels: y?.toFloats(),
                            names: a.isNil("names") ? nil : try stringList(a, "names"), labelName: try a.string("label"))
        return .native(DatasetValue(y == nil ? d : try d.withRoles(label: try a.string("label"))))
    },
]

/// Features as a [rows, cols] float32 tensor and labels (if any) as a [rows] one.
func tensorPair(_ m: FeatureMatrix) throws -> (x: Tensor, y: Tensor?) {
    (try Tensor(m.features, shape: [m.rows, m.cols]), try m.labels.map { try Tensor($0, shape: [m.rows]) })
}

/// A dataset's features written once, straight into the tensor (rows spread over the
/// kernel threads), rather than built as an array and copied.
func tensorPair(_ f: FeatureColumns) throws -> (x: Tensor, y: Tensor?) {
    let x = try f.withFloatColumns { columns, at in
        try Tensor.float32Rows(f.rows, f.cols) { rows, p in
            Tensor.writeRows(of: columns, at: at, rows: rows, into: p, width: f.cols)
            f.writeIntegerColumns(rows: rows, into: p)
        }
    }
    return (x, try f.labels.map { try Tensor($0, shape: [f.rows]) })
}

func tensors(of m: FeatureMatrix) throws -> Value { tensorRecord(try tensorPair(m), m.labelNames) }

func tensorRecord(_ xy: (x: Tensor, y: Tensor?), _ labelNames: [String]?) -> Value {
    var pairs: [(String, Value)] = [("x", wrap(xy.x))]
    if let y = xy.y { pairs.append(("y", wrap(y))) }
    if let names = labelNames { pairs.append(("classes", .strings(names))) }
    return .record(pairs)
}

/// A dataset's features and labels as tensors, converted on first use and kept with the
/// dataset value (datasets are immutable), so repeated train/evaluate/to_tensors calls on
/// one dataset (a grid search, several models compared on one split) convert it once, as a
/// PyTorch user converts to a tensor once. The training statistics of those features are
/// kept the same way. Sets over `limitBytes` of float32 features are converted every time
/// rather than held twice in memory.
final class TensorMemo: @unchecked Sendable {
    static let limitBytes = 1 << 30
    private let lock = NSLock()
    private var pair: (x: Tensor, y: Tensor?, labelNames: [String]?)?
    private var stats: String?

    func tensors(of ds: Dataset) throws -> (x: Tensor, y: Tensor?, labelNames: [String]?) {
        lock.lock(); defer { lock.unlock() }
        if let pair { return pair }
        let f = try ds.featureColumns()
        let (x, y) = try tensorPair(f)
        if f.rows * f.cols * 4 <= Self.limitBytes { pair = (x, y, f.labelNames) }
        return (x, y, f.labelNames)
    }

    /// The statistics JSON of the memoised features, computed by `make` the first time.
    func statistics(_ make: () throws -> String) rethrows -> String {
        lock.lock(); defer { lock.unlock() }
        if let stats { return stats }
        let s = try make()
        if pair != nil { stats = s }
        return s
    }
}
