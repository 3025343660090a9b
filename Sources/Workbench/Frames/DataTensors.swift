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
        return try tensors(of: try ds(a).featureColumns())
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
    let x = try Tensor.float32Rows(f.rows, f.cols) { rows, p in f.write(rows: rows, into: p) }
    return (x, try f.labels.map { try Tensor($0, shape: [f.rows]) })
}

func tensors(of m: FeatureMatrix) throws -> Value { tensorRecord(try tensorPair(m), m.labelNames) }
func tensors(of f: FeatureColumns) throws -> Value { tensorRecord(try tensorPair(f), f.labelNames) }

func tensorRecord(_ xy: (x: Tensor, y: Tensor?), _ labelNames: [String]?) -> Value {
    var pairs: [(String, Value)] = [("x", wrap(xy.x))]
    if let y = xy.y { pairs.append(("y", wrap(y))) }
    if let names = labelNames { pairs.append(("classes", .strings(names))) }
    return .record(pairs)
}
