import Frames
import Foundation
import Lang

/// A dataset in MLW: prints as a preview; fields `rows`, `shape` ([rows, columns]),
/// `columns` (names), `label`, `features`, `hash`, `lineage`; `ds["col"]` is a column as
/// a list, `ds[i]` a row as a record,
/// `ds[a:b]` a slice of rows.
final class DatasetValue: NativeValue {
    let ds: Dataset
    /// Its features as tensors, converted once (DataTensors.swift).
    let memo = TensorMemo()
    init(_ ds: Dataset) { self.ds = ds }

    var typeName: String { "dataset" }
    var description: String { ds.description }
    var fieldNames: [String] { ["rows", "shape", "columns", "dtypes", "label", "features", "hash", "lineage"] }

    func field(_ name: String) throws -> Value? {
        switch name {
        case "rows": return .int(ds.rowCount)
        case "shape": return .list([.int(ds.rowCount), .int(ds.columns.count)])
        case "columns": return .strings(ds.columnNames)
        case "dtypes": return .record(ds.columns.map { ($0.name, .string($0.type.rawValue)) })
        case "label": return ds.label.map { .string($0) } ?? .nil
        case "features": return .strings(ds.featureNames)
        case "hash": return .string(ds.lineage.hash)
        case "lineage":
            return .record([("hash", .string(ds.lineage.hash)), ("sources", .strings(ds.lineage.sources)),
                            ("steps", .strings(ds.lineage.steps.map(\.description)))])
        default: return nil
        }
    }

    func index(_ items: [IndexValue]) throws -> Value? {
        guard items.count == 1 else { throw NativeError("a dataset takes one index: a column name, a row or a row slice") }
        switch items[0] {
        case .single(.string(let name)):
            let col = try ds.column(name)
            return .list((0..<col.count).map { dataToValue(col.value(at: $0)) })
        case .single(.int(let i)):
            guard let r = Ops.normalize(i, ds.rowCount) else {
                throw NativeError("row \(i) out of range for a dataset of \(ds.rowCount) rows")
            }
            let rec = ds.record(at: r)
            return .record(ds.columnNames.map { ($0, dataToValue(rec[$0] ?? .null)) })
        case .slice(let a, let b, let c):
            return .native(DatasetValue(ds.gather(try Ops.sliceIndices(a, b, c, count: ds.rowCount))))
        case .single(let v):
            throw NativeError("cannot index a dataset with \(v.typeName)")
        }
    }

    func isEqual(to other: any NativeValue) -> Bool { (other as? DatasetValue)?.ds == ds }
}

/// One unfitted transform step, e.g. `standardize()`; `fit_transforms` fits a list of them.
final class TransformValue: NativeValue {
    let transform: Transform
    let text: String
    init(_ t: Transform, _ text: String) { transform = t; self.text = text }
    var typeName: String { "transform" }
    var description: String { "<transform \(text)>" }
}

/// A fitted transform chain: call it on a dataset (`prep(test)`), or on one raw record
/// with `prep.apply_record({...})`. Saved with models so serving takes raw inputs.
final class PipelineValue: NativeValue {
    let pipeline: FittedPipeline
    init(_ p: FittedPipeline) { pipeline = p }

    var typeName: String { "transforms" }
    var description: String {
        // One entry per kind of step ("standardize x4"), in order of first use.
        var kinds: [(String, Int)] = []
        for s in pipeline.steps {
            let kind = String("\(s)".prefix { $0 != "(" })
            if let i = kinds.firstIndex(where: { $0.0 == kind }) { kinds[i].1 += 1 } else { kinds.append((kind, 1)) }
        }
        let steps = kinds.map { $0.1 > 1 ? "\($0.0) x\($0.1)" : $0.0 }.joined(separator: ", ")
        return "<transforms fitted on \(pipeline.stats.rows) rows: \(steps); \(pipeline.featureNames.count) features>"
    }
    var fieldNames: [String] { ["features", "label", "hash", "stats", "inputs"] }

    func field(_ name: String) throws -> Value? {
        switch name {
        case "features": return .strings(pipeline.featureNames)
        case "label": return pipeline.label.map { .string($0) } ?? .nil
        case "hash": return .string(pipeline.hash)
        case "inputs": return .strings(pipeline.inputColumns)
        case "stats":
            return .list(pipeline.stats.features.map { f in
                .record([("name", .string(f.name)), ("mean", .float(f.mean)), ("std", .float(f.std)),
                         ("min", .float(f.min)), ("max", .float(f.max))])
            })
        default: return nil
        }
    }

    func method(_ name: String) -> NativeFunction? {
        guard name == "apply_record" else { return nil }
        return NativeFunction("apply_record", [Param("transforms", .native("transforms")), Param("record", .record)],
                              doc: "Features of one raw record, as served.", example: "prep.apply_record({x: 1})") { a in
            let p = try a.native("transforms", as: PipelineValue.self, "transforms")
            let rec = try a.record("record")
            var raw: [String: DataValue] = [:]
            for (k, v) in zip(rec.keys, rec.values) { raw[k] = try valueToData(v, field: k) }
            return .doubles(try p.pipeline.apply(toRecord: raw).map(Double.init))
        }
    }

    var callable: NativeFunction? {
        NativeFunction("apply", [Param("transforms", .native("transforms")), Param("data", .native("dataset"))],
                       doc: "Apply the fitted transforms to a dataset.", example: "prep(test)") { a in
            let p = try a.native("transforms", as: PipelineValue.self, "transforms")
            let d = try a.native("data", as: DatasetValue.self, "dataset")
            return .native(DatasetValue(try p.pipeline.apply(to: d.ds)))
        }
    }

    func isEqual(to other: any NativeValue) -> Bool { (other as? PipelineValue)?.pipeline == pipeline }
}

func dataToValue(_ d: DataValue) -> Value {
    switch d {
    case .null: return .nil
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .double(let x): return .float(x)
    case .string(let s): return .string(s)
    }
}

func valueToData(_ v: Value, field: String) throws -> DataValue {
    switch v {
    case .nil: return .null
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .float(let x): return .double(x)
    case .string(let s): return .string(s)
    default: throw NativeError("field '\(field)': expected a number, string, bool or nil, got \(v.typeName)")
    }
}
