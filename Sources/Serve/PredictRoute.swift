import Frames
import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Tensor

/// `POST /predict`: raw records in (one JSON object or a list of them), checked against the
/// fields the model's fitted transforms take (strict unless the model's `ServePolicy` allows
/// missing fields or unseen categories), the transforms applied, then one answer per record
/// by task: `{"prediction": 151.2}` (regression, label units), `{"probability", "class",
/// "label"}` (binary), `{"probabilities", "class", "label"}` (multiclass). `?model=NAME`
/// picks the model when several are served. `?explain=true` adds to each answer an
/// `explanation` (`ServableModel.explain`): `{"units", "score", "bias", "class"?,
/// "contributions": [{"feature", "value"}]}`, largest magnitude first, the first `?top=K`.
extension InferenceServer {
    func predictRecords(_ req: Request, _ ctx: BasicRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        var name = req.uri.queryParameters.get("model") ?? ""
        var version = ""
        do {
            let body = try await readBody(req)
            let slot: ModelSlot
            if name.isEmpty {
                let all = allSlots
                guard all.count == 1 else { throw ServeError.badRequest("several models are served; choose one with ?model=NAME (\(all.map(\.name).joined(separator: ", ")))") }
                slot = all[0]; name = slot.name
            } else {
                guard let s = self.slot(name) else { throw ServeError.notFound("unknown model '\(name)'") }
                slot = s
            }
            let explain = try explainOptions(req)
            let root = try parseRequestJSON(body)
            let records: [JSONValue]
            switch root {
            case .object: records = [root]
            case .array(let list): records = list
            default: throw ServeError.badRequest("body must be a record (JSON object) or a list of records, got \(root.typeName)")
            }
            guard !records.isEmpty else { throw ServeError.badRequest("no records to predict") }
            let served = slot.pick(requestID: req.headers[.requestID])
            let m = served.model
            version = String(m.version)
            var x: [Float] = []
            x.reserveCapacity(records.count * m.inputWidth)
            for (i, r) in records.enumerated() {
                let at = records.count > 1 ? "record \(i): " : ""
                x.append(contentsOf: try features(r, served: served, prefix: at))
            }
            let y = try await served.predict(x, rows: records.count)
            let width = y.count / records.count
            let explanations = try explain.map { _ in try m.explain(try Tensor(x, shape: [records.count, m.inputWidth])) }
            if let e = explanations, e.rows.count != records.count || e.rows.contains(where: { $0.contributions.count != m.inputWidth }) {
                throw ServeError.badModel("the explanation has \(e.rows.count) rows for \(records.count) records")
            }
            var w = JSONWriter()
            w.raw("{\"model_name\":"); w.string(m.name); w.raw(",\"model_version\":\"\(m.version)\",\"task\":")
            w.string(served.task.kind); w.raw(",\"predictions\":[")
            for r in 0..<records.count {
                if r > 0 { w.raw(",") }
                let a = m.answer(y[y.startIndex + r * width ..< y.startIndex + (r + 1) * width])
                if let e = explanations, let top = explain {
                    writeAnswer(a, task: served.task, to: &w, open: true)
                    writeExplanation(e, row: r, top: top, task: served.task, to: &w)
                } else {
                    writeAnswer(a, task: served.task, to: &w)
                }
            }
            w.raw("]}")
            metrics.request(model: metricsLabel(name), version: version, endpoint: "predict", status: 200, nanos: nanos(since: start))
            return json(w.bytes)
        } catch {
            metrics.request(model: metricsLabel(name), version: version, endpoint: "predict", status: ErrorMiddleware.status(of: error), nanos: nanos(since: start))
            throw error
        }
    }

    /// `{"prediction": 151.2}` (several values: a list), `{"probability": 0.83, "class": 1,
    /// "label": "yes"}` (binary: the positive class's probability), `{"probabilities": [...],
    /// "class": 2, "label": "virginica"}` (multiclass); `label` when the class names are known.
    /// `open`: leave the object open (the caller adds fields and closes it).
    func writeAnswer(_ a: ServeAnswer, task: ServeTask, to w: inout JSONWriter, open: Bool = false) {
        switch a {
        case .values(let v):
            w.raw("{\"prediction\":")
            if v.count == 1 { w.float(Float(v[0])) } else { w.raw("["); w.floats(v.map { Float($0) }); w.raw("]") }
            if !open { w.raw("}") }
        case .probabilities(let p, let choice):
            if task.kind == "binary", p.count == 2 {
                w.raw("{\"probability\":"); w.float(Float(p[1]))
            } else {
                w.raw("{\"probabilities\":["); w.floats(p.map { Float($0) }); w.raw("]")
            }
            w.raw(",\"class\":\(choice)")
            if let names = task.classes, names.indices.contains(choice) { w.raw(",\"label\":"); w.string(names[choice]) }
            if !open { w.raw("}") }
        }
    }

    /// `?explain=true|false` and `?top=K`: nil without explanations, else how many
    /// contributions to list (Int.max: all).
    func explainOptions(_ req: Request) throws -> Int? {
        let q = req.uri.queryParameters
        switch q.get("explain") ?? "false" {
        case "false", "0": return nil
        case "true", "1": break
        case let other: throw ServeError.badRequest("query parameter 'explain' must be true or false, got '\(other)'")
        }
        guard let t = q.get("top") else { return Int.max }
        guard let k = Int(t), k >= 1 else { throw ServeError.badRequest("query parameter 'top' must be a whole number >= 1, got '\(t)'") }
        return k
    }

    /// `,"explanation":{...}}`: closes the answer object `writeAnswer(open: true)` began.
    func writeExplanation(_ e: ServeExplanations, row r: Int, top: Int, task: ServeTask, to w: inout JSONWriter) {
        let row = e.rows[r]
        let score = row.contributions.reduce(row.bias, +)
        w.raw(",\"explanation\":{\"units\":"); w.string(e.units)
        w.raw(",\"score\":"); w.double(score); w.raw(",\"bias\":"); w.double(row.bias)
        if let c = row.output {
            w.raw(",\"class\":\(c)")
            if let names = task.classes, names.indices.contains(c) { w.raw(",\"label\":"); w.string(names[c]) }
        }
        let v = row.contributions
        // Largest magnitude first; ties by feature order, so answers are stable.
        let order = v.indices.sorted { abs(v[$0]) > abs(v[$1]) || (abs(v[$0]) == abs(v[$1]) && $0 < $1) }
        w.raw(",\"contributions\":[")
        for (i, f) in order.prefix(top).enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"feature\":"); w.string(e.featureNames.indices.contains(f) ? e.featureNames[f] : "x\(f)")
            w.raw(",\"value\":"); w.double(v[f]); w.raw("}")
        }
        w.raw("]}}")
    }

    /// One record's feature vector: checked against the model's record schema and through
    /// its fitted pipeline when it has one, else the record must be a list of numbers (or
    /// `{"features": [...]}`). `noun` names the record's parts in errors ("field", "input").
    func features(_ record: JSONValue, served: ServedModel, prefix: String, noun: String = "field") throws -> [Float] {
        let m = served.model
        let width = m.inputWidth
        var v: [Float]
        if let p = m.transforms {
            guard case .object(let fields) = record else { throw ServeError.badRequest("\(prefix)a record must be a JSON object, got \(record.typeName)") }
            if let schema = served.schema {
                let problems = schema.problems(in: fields, policy: served.policy, noun: noun)
                if !problems.isEmpty {
                    let alternative = noun == "input" ? " (raw columns) or '\(m.inputs.first?.name ?? "")' (features after the fitted transforms)" : ""
                    throw ServeError.badRequest(prefix + problems.joined(separator: "; ") + "; expected \(noun)s: \(schema.expected)" + alternative)
                }
            } else {
                for (k, value) in fields {
                    switch value {
                    case .null, .bool, .int, .string: break
                    case .double(let d):
                        guard d.isFinite else { throw ServeError.badRequest("\(prefix)\(noun) '\(k)' is \(d) (only finite numbers are allowed)") }
                    default: throw ServeError.badRequest("\(prefix)\(noun) '\(k)' must be a number or a string, got \(value.typeName)")
                    }
                }
            }
            do { v = try p.apply(toRecord: RecordSchema.dataRecord(fields)) } catch let e as DataError { throw ServeError.badRequest(prefix + e.message) }
        } else {
            let list = record["features"] ?? record
            v = []
            try InferenceCodec.flatten(list, into: &v, field: "\(prefix)features", depth: 0)
        }
        guard v.count == width else { throw ServeError.badRequest("\(prefix)got \(v.count) features, the model takes \(width)") }
        if let bad = v.firstIndex(where: { !$0.isFinite }) {
            throw ServeError.badRequest("\(prefix)feature '\(m.transforms?.featureNames[bad] ?? String(bad))' is not a finite number after the transforms")
        }
        return v
    }
}
