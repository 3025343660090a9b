import Frames
import Foundation
import Lang

/// Stage results on disk: MLW values as JSON, with datasets and fitted transform chains
/// as tagged records. Floats that JSON cannot hold (nan, inf) are tagged strings.
func encodeStageValue(_ v: Value) throws -> Data {
    Data(try toStored(v).json().utf8)
}

func decodeStageValue(_ data: Data) throws -> Value {
    try fromStored(try Value.parseJSON(String(decoding: data, as: UTF8.self)))
}

private func toStored(_ v: Value) throws -> Value {
    switch v {
    case .float(let x) where !x.isFinite: return .record([("$float", .string(formatFloat(x)))])
    case .list(let xs): return .list(try xs.map(toStored))
    case .record(let r): return .record(Record(keys: r.keys, values: try r.values.map(toStored)))
    case .native(let d as DatasetValue): return .record([("$dataset", try storedDataset(d.ds))])
    case .native(let p as PipelineValue):
        return .record([("$transforms", .string(String(decoding: try p.pipeline.jsonData(), as: UTF8.self)))])
    case .native(let n): throw NativeError("a \(n.typeName) cannot be stored in the stage cache")
    case .function: throw NativeError("a function cannot be stored in the stage cache")
    default: return v
    }
}

private func fromStored(_ v: Value) throws -> Value {
    switch v {
    case .list(let xs): return .list(try xs.map(fromStored))
    case .record(let r):
        if r.keys == ["$float"], case .string(let s)? = r["$float"] { return .float(Double(s) ?? .nan) }
        if r.keys == ["$dataset"], let d = r["$dataset"] { return .native(DatasetValue(try loadDataset(d))) }
        if r.keys == ["$transforms"], case .string(let s)? = r["$transforms"] {
            return .native(PipelineValue(try FittedPipeline(json: Data(s.utf8))))
        }
        return .record(Record(keys: r.keys, values: try r.values.map(fromStored)))
    default: return v
    }
}

private func storedDataset(_ ds: Dataset) throws -> Value {
    let columns: [Value] = ds.columns.map { c in
        var data: Value
        switch c.data {
        case .float(let xs): data = .list(xs.map { $0.isFinite ? .float($0) : .string(formatFloat($0)) })
        case .int(let xs): data = .list(xs.map { .int($0) })
        case .string(let xs): data = .strings(xs)
        case .category(let codes, let levels): data = .record([("codes", .list(codes.map { .int(Int($0)) })), ("levels", .strings(levels))])
        }
        return .record([("name", .string(c.name)), ("type", .string(c.type.rawValue)), ("data", data),
                        ("missing", .list(c.missing.map { .bool($0) }))])
    }
    let lineage = String(decoding: try JSONEncoder().encode(ds.lineage), as: UTF8.self)
    return .record([("columns", .list(columns)), ("label", ds.label.map { .string($0) } ?? .nil),
                    ("features", ds.explicitFeatures.map { .strings($0) } ?? .nil),
                    ("lines", .list(ds.sourceLines.map { .int($0) })), ("lineage", .string(lineage))])
}

private func loadDataset(_ v: Value) throws -> Dataset {
    func fail() -> NativeError { NativeError("stage cache entry is not a valid dataset") }
    guard case .record(let r) = v, case .list(let cols)? = r["columns"], case .list(let lines)? = r["lines"],
          case .string(let lineageText)? = r["lineage"] else { throw fail() }
    let columns: [Column] = try cols.map { c in
        guard case .record(let cr) = c, case .string(let name)? = cr["name"], case .string(let type)? = cr["type"],
              let data = cr["data"], case .list(let missing)? = cr["missing"] else { throw fail() }
        let flags = missing.map { if case .bool(true) = $0 { return true } else { return false } }
        let cd: ColumnData
        switch (type, data) {
        case ("float", .list(let xs)): cd = .float(xs.map { $0.asDouble ?? Double($0.text) ?? .nan })
        case ("int", .list(let xs)): cd = .int(xs.map { if case .int(let i) = $0 { return i } else { return 0 } })
        case ("string", .list(let xs)): cd = .string(xs.map(\.text))
        case ("category", .record(let cat)):
            guard case .list(let codes)? = cat["codes"], case .list(let levels)? = cat["levels"] else { throw fail() }
            cd = .category(codes: codes.map { if case .int(let i) = $0 { return Int32(i) } else { return -1 } }, levels: levels.map(\.text))
        default: throw fail()
        }
        return Column(name: name, data: cd, missing: flags)
    }
    let label: String? = { if case .string(let s)? = r["label"] { return s } else { return nil } }()
    let features: [String]? = { if case .list(let xs)? = r["features"] { return xs.map(\.text) } else { return nil } }()
    let lineage = try JSONDecoder().decode(Lineage.self, from: Data(lineageText.utf8))
    return Dataset(columns: columns, label: label, features: features,
                   sourceLines: lines.map { if case .int(let i) = $0 { return i } else { return 0 } }, lineage: lineage)
}
