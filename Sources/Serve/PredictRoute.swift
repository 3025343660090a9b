import Frames
import Foundation
import HTTPTypes
import Hummingbird
import JSON

/// `POST /predict`: raw records in (one JSON object or a list of them), the model's fitted
/// transforms applied first, then class probabilities (+ label names when the pipeline
/// knows the label's levels). `?model=NAME` picks the model when several are served.
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
            let root = try parseRequestJSON(body)
            let records: [JSONValue]
            switch root {
            case .object: records = [root]
            case .array(let list): records = list
            default: throw ServeError.badRequest("body must be a record (JSON object) or a list of records, got \(root.typeName)")
            }
            guard !records.isEmpty else { throw ServeError.badRequest("no records to predict") }
            let served = slot.pick(requestID: req.headers[HTTPField.Name("X-Request-Id")!])
            let m = served.model
            version = String(m.version)
            var x: [Float] = []
            x.reserveCapacity(records.count * m.inputWidth)
            for (i, r) in records.enumerated() {
                let at = records.count > 1 ? "record \(i): " : ""
                x.append(contentsOf: try features(r, model: m, prefix: at))
            }
            let y = try await served.predict(x, rows: records.count)
            let width = y.count / records.count
            let levels = m.transforms?.labelLevels.flatMap { $0.count == width ? $0 : nil }
            var w = JSONWriter()
            w.raw("{\"model_name\":"); w.string(m.name); w.raw(",\"model_version\":\"\(m.version)\",\"predictions\":[")
            for r in 0..<records.count {
                var row = y[y.startIndex + r * width ..< y.startIndex + (r + 1) * width]
                if m.outputsAreLogits && width > 1 { row = softmaxRow(row) }
                if r > 0 { w.raw(",") }
                w.raw("{\"probabilities\":["); w.floats(row); w.raw("]")
                var best = 0
                for (k, v) in row.enumerated() where v > row[row.startIndex + best] { best = k }
                w.raw(",\"class\":\(best)")
                if let levels { w.raw(",\"label\":"); w.string(levels[best]) }
                w.raw("}")
            }
            w.raw("]}")
            metrics.request(model: metricsLabel(name), version: version, endpoint: "predict", status: 200, nanos: nanos(since: start))
            return json(w.bytes)
        } catch {
            metrics.request(model: metricsLabel(name), version: version, endpoint: "predict", status: ErrorMiddleware.status(of: error), nanos: nanos(since: start))
            throw error
        }
    }

    /// One record's feature vector: through the fitted pipeline when the model has one,
    /// else the record must be a list of numbers (or `{"features": [...]}`).
    func features(_ record: JSONValue, model m: ServableModel, prefix: String) throws -> [Float] {
        let width = m.inputWidth
        var v: [Float]
        if let p = m.transforms {
            guard case .object(let fields) = record else { throw ServeError.badRequest("\(prefix)a record must be a JSON object, got \(record.typeName)") }
            var dict: [String: DataValue] = [:]
            for (k, value) in fields {
                switch value {
                case .null: dict[k] = .null
                case .bool(let b): dict[k] = .bool(b)
                case .int(let n): dict[k] = .double(Double(n))  // transforms get every number as a double
                case .double(let d):
                    guard d.isFinite else { throw ServeError.badRequest("\(prefix)field '\(k)' is \(d) (only finite numbers are allowed)") }
                    dict[k] = .double(d)
                case .string(let s): dict[k] = .string(s)
                default: throw ServeError.badRequest("\(prefix)field '\(k)' must be a number or a string, got \(value.typeName)")
                }
            }
            do { v = try p.apply(toRecord: dict) } catch let e as DataError { throw ServeError.badRequest(prefix + e.message) }
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

/// exp(x - max) / sum, for one row of logits.
func softmaxRow(_ row: ArraySlice<Float>) -> ArraySlice<Float> {
    let m = row.max() ?? 0
    let e = row.map { Float(Foundation.exp(Double($0 - m))) }
    let s = e.reduce(0, +)
    return ArraySlice(e.map { $0 / s })
}
