import FileIO
import Frames
import Foundation
import Lang
import Tensor
import Train

/// Writing tables out (`write_csv`, `write_jsonl`) and scoring a dataset with a model
/// (`with_predictions`). Part of the data library.
let writeFunctions: [NativeFunction] = [
    NativeFunction("write_csv", [Param("data"), Param("path", .string), Param("names", .optional(.list), .nil),
                                 Param("delimiter", .string, .string(","))],
                   doc: "Write a dataset, a tensor ([rows] or [rows, cols]; columns c0, c1, ... or names) or a list of records as CSV (RFC 4180 quoting, a header row); the file is replaced atomically.",
                   example: "write_csv([{a: 1, b: \"x,y\"}], \"/tmp/mlw-ex.csv\"); read_csv(\"/tmp/mlw-ex.csv\")[0].b", result: "\"x,y\"") { a in
        let delim = try a.string("delimiter")
        guard delim.count == 1, let d = delim.first, d.isASCII, d != "\"", d != "\n", d != "\r" else {
            throw a.invalid("delimiter", "must be one ASCII character other than a quote or a line break")
        }
        try writing(a) { try table(a).writeCSV(to: $0, delimiter: d) }
        return .nil
    },
    NativeFunction("write_jsonl", [Param("data"), Param("path", .string), Param("names", .optional(.list), .nil)],
                   doc: "Write a dataset, a tensor or a list of records as JSON Lines (one object per row, keys in column order, missing cells null); the file is replaced atomically.",
                   example: "write_jsonl(tensor([[1, 2], [3, 4]]), \"/tmp/mlw-ex.jsonl\", names: [\"a\", \"b\"]); read_jsonl(\"/tmp/mlw-ex.jsonl\")[\"b\"]",
                   result: "[2.0, 4.0]") { a in
        try writing(a) { try table(a).writeJSONL(to: $0) }
        return .nil
    },
    NativeFunction("with_predictions", [Param("data", .native("dataset")), Param("model", .native("model")),
                                        Param("transforms", .optional(.native("transforms")), .nil)],
                   doc: "The dataset with the model's predictions as new columns, by the model's task: regression `prediction` (label units); classification `prediction` (class name when known, else index) and `probability` (of that class; for binary, of the positive class). With transforms, the model sees transforms(data) and the rows keep their raw values.",
                   example: "with_predictions(dataset(ones([2, 3])), sequential([dense(3, 1)])).columns", result: "[\"f0\", \"f1\", \"f2\", \"prediction\"]") { a in
        let src = try ds(a)
        let mv = try a.native("model", as: ModelValue.self, "model")
        var inputs = src
        if !a.isNil("transforms") {
            inputs = try a.native("transforms", as: PipelineValue.self, "transforms").pipeline.apply(to: src)
            guard inputs.rowCount == src.rowCount else {
                throw a.invalid("transforms", "keep \(inputs.rowCount) of \(src.rowCount) rows; predictions need one per row")
            }
        }
        let fm = try inputs.featureColumns()
        let want = mv.model.inputShape.dropFirst().map { $0.size ?? -1 }
        guard want == [fm.cols] else {
            throw a.invalid("data", "has \(fm.cols) feature columns (\(PreviewText.clip(fm.names.joined(separator: ", "), 200))), the model expects inputs of shape \(want)")
        }
        let (x, _) = try tensorPair(fm)
        // Raw outputs: `answer` maps them to label units itself (ModelValue.predict already
        // would, and the target transform must be inverted once).
        let out = try mv.compiled().predict(x)
        let cols = try predictionColumns(out, rows: src.rowCount, task: try taskOf(mv.model))
        return .native(DatasetValue(try src.addingColumns(cols, op: "with_predictions")))
    },
]

/// Runs a write, reporting a refused path (a folder, no permission) against `path`.
private func writing(_ a: Args, _ body: (String) throws -> Void) throws {
    let p = try a.string("path")
    do { try body(p) } catch let e as SafeWriteError { throw a.invalid("path", e.description) }
}

/// The table `write_csv` / `write_jsonl` write: a dataset as it is, a tensor's columns, or
/// a list of records (columns in order of first appearance, absent fields missing).
private func table(_ a: Args) throws -> Dataset {
    let t = try anyTable(a)
    guard !t.columns.isEmpty else { throw a.invalid("data", "has no columns to write") }
    return t
}

private func anyTable(_ a: Args) throws -> Dataset {
    let names = a.isNil("names") ? nil : try stringList(a, "names")
    switch a["data"] {
    case .native(let d as DatasetValue):
        guard names == nil else { throw a.invalid("names", "renames tensor columns only (use rename(ds, {...}) for a dataset)") }
        return d.ds
    case .native(let t as TensorValue):
        return try tensorTable(t.t, names: names, a)
    case .list(let items):
        guard names == nil else { throw a.invalid("names", "renames tensor columns only (records name their own fields)") }
        return try recordTable(items, a)
    case let v:
        throw a.bad("data", "dataset, tensor or list of records", v)
    }
}

private func tensorTable(_ t: Tensor, names: [String]?, _ a: Args) throws -> Dataset {
    guard t.rank == 1 || t.rank == 2 else { throw a.invalid("data", "a tensor to write must be [rows] or [rows, cols], got shape \(t.shape)") }
    let rows = t.shape[0], cols = t.rank == 2 ? t.shape[1] : 1
    let colNames = names ?? (0..<cols).map { "c\($0)" }
    guard colNames.count == cols else { throw a.invalid("names", "has \(colNames.count) names for \(cols) columns") }
    guard Set(colNames).count == cols else { throw a.invalid("names", "names a column twice") }
    let integral = t.dtype.isInteger || t.dtype == .bool
    let flat = integral ? [] : t.toDoubles()
    let ints = integral ? t.toInts() : []
    let columns = (0..<cols).map { j -> Column in
        if integral { return Column(name: colNames[j], data: .int((0..<rows).map { ints[$0 * cols + j] })) }
        let v = (0..<rows).map { flat[$0 * cols + j] }
        return Column(name: colNames[j], data: .float(v), missing: v.map(\.isNaN))   // NaN is the missing marker
    }
    return Dataset(columns: columns)
}

private func recordTable(_ items: [Value], _ a: Args) throws -> Dataset {
    guard !items.isEmpty else { throw a.invalid("data", "is an empty list: no rows and no columns to write") }
    var names: [String] = [], cells: [String: [DataValue]] = [:]
    for (r, item) in items.enumerated() {
        guard case .record(let rec) = item else { throw a.invalid("data", "item \(r) is \(item.typeName), expected a record") }
        for (k, v) in zip(rec.keys, rec.values) {
            if cells[k] == nil { names.append(k); cells[k] = [DataValue](repeating: .null, count: r) }
            do { cells[k]!.append(try valueToData(v, field: k)) }
            catch { throw a.invalid("data", "row \(r), field '\(k)': a cell must be a number, string, bool or nil, got \(v.typeName)") }
        }
        for k in names where cells[k]!.count == r { cells[k]!.append(.null) }   // absent in this record
    }
    return Dataset(columns: names.map { inferColumn(from: cells[$0]!, name: $0, maxCategoryLevels: 0) })
}

/// The model's task: its "task" blob, else (models saved before tasks were recorded) a
/// guess from the output width: one output is a regression value, two are binary
/// classes, more are classes.
func taskOf(_ m: Model) throws -> ModelTask {
    var task = try ModelTask.stored(in: m.blobs)
        ?? { () -> ModelTask in
            let width = m.outputShape.last?.size ?? 1
            return ModelTask(kind: width == 1 ? .regression : width == 2 ? .binary : .multiclass)
        }()
    // Class names the model's attached transforms learned (a label-encoded category).
    if task.kind != .regression, task.classes == nil, let json = m.blobs["transforms"],
       let p = try? FittedPipeline(json: Data(json.utf8)), let levels = p.labelLevels {
        task.classes = levels
    }
    return task
}

/// Prediction columns for `rows` output rows, interpreted by `task` (ModelTask.answer).
func predictionColumns(_ out: Tensor, rows: Int, task: ModelTask) throws -> [Column] {
    let values = out.toDoubles()
    guard rows > 0, values.count % rows == 0 else {
        throw NativeError("the model gave \(values.count) outputs for \(rows) rows")
    }
    let width = values.count / rows
    let answers = (0..<rows).map { r in task.answer(Array(values[(r * width)..<((r + 1) * width)])) }
    switch task.kind {
    case .regression:
        let k = answers.first.map { if case .values(let v) = $0 { return v.count } else { return 0 } } ?? width
        return (0..<k).map { j in
            let v = answers.map { if case .values(let v) = $0 { return v[j] } else { return .nan } }
            return Column(name: k == 1 ? "prediction" : "prediction_\(j)", data: .float(v), missing: v.map(\.isNaN))
        }
    case .binary, .multiclass:
        var choice: [Int] = [], prob: [Double] = []
        for ans in answers {
            guard case .probabilities(let p, let c) = ans else { continue }
            choice.append(c)
            prob.append(p.count == 2 && task.kind == .binary ? p[1] : p[c])
        }
        let predicted: Column
        if let names = task.classes, choice.allSatisfy({ $0 < names.count }) {
            predicted = inferColumn(from: choice.map { .string(names[$0]) }, name: "prediction")
        } else {
            predicted = Column(name: "prediction", data: .int(choice))
        }
        return [predicted, Column(name: "probability", data: .float(prob))]
    }
}
