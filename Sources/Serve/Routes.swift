import Foundation
import HTTPTypes
import Hummingbird
import NIOHTTP1
import Support

/// The KServe V2 (Open Inference Protocol) HTTP/JSON endpoints, `/predict`, `/metrics`.
extension InferenceServer {
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let routes = RouteTable()
        router.add(middleware: ErrorMiddleware(routes: routes))
        typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response
        // Each route is registered and recorded, so a known path asked with another method
        // gets 405 with an Allow header instead of 404.
        func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
            router.on(RouterPath(path), method: method, use: handler)
            routes.add(method, path)
        }
        on(.get, "/v2/health/live") { _, _ in json(#"{"live":true}"#) }
        on(.get, "/v2/health/ready") { _, _ in self.readiness() }
        on(.get, "/v2") { _, _ in
            json(#"{"name":"mlw","version":"\#(mlwVersion)","extensions":["binary_tensor_data"]}"#)
        }
        on(.get, "/v2/models/:name") { _, ctx in try self.metadata(ctx, versioned: false) }
        on(.get, "/v2/models/:name/versions/:version") { _, ctx in try self.metadata(ctx, versioned: true) }
        on(.get, "/v2/models/:name/ready") { _, ctx in try self.modelReady(ctx, versioned: false) }
        on(.get, "/v2/models/:name/versions/:version/ready") { _, ctx in try self.modelReady(ctx, versioned: true) }
        on(.post, "/v2/models/:name/infer") { req, ctx in try await self.infer(req, ctx, versioned: false) }
        on(.post, "/v2/models/:name/versions/:version/infer") { req, ctx in try await self.infer(req, ctx, versioned: true) }
        on(.post, "/predict") { req, ctx in try await self.predictRecords(req, ctx) }
        recommendRoutes(on)   // /recommend, /similar (RecommendRoutes.swift)
        on(.get, "/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.text())))
        }
        return router
    }

    /// The `model` label of a request's metrics: its name when that model is served,
    /// else "unknown", so names clients make up cannot create new series.
    func metricsLabel(_ name: String) -> String { slot(name) == nil ? "unknown" : name }

    func readiness() -> Response {
        var w = JSONWriter()
        let ready = isAccepting
        // "draining": SIGTERM arrived; requests are still answered until the drain ends.
        w.raw("{\"ready\":\(ready),\"state\":\"\(ready ? "serving" : "draining")\",\"models\":[")
        for (i, s) in allSlots.enumerated() {
            let c = s.current
            if i > 0 { w.raw(",") }
            w.raw("{\"name\":"); w.string(s.name); w.raw(",\"ref\":"); w.string(s.ref)
            w.raw(",\"version\":\"\(c.primary.model.version)\"")
            if let cv = c.canary { w.raw(",\"canary_version\":\"\(cv.model.version)\",\"canary_percent\":\(s.canaryPercent)") }
            if let e = c.error { w.raw(",\"last_load_error\":"); w.string(e) }
            w.raw("}")
        }
        w.raw("]}")
        return json(w.bytes, status: ready ? .ok : .serviceUnavailable)
    }

    /// The slot and, for `/versions/{v}` routes, the exact version (404 when not served).
    func target(_ ctx: BasicRequestContext, versioned: Bool, requestID: String? = nil) throws -> (ModelSlot, ServedModel) {
        let name = ctx.parameters.get("name") ?? ""
        guard let slot = slot(name) else { throw ServeError.notFound("unknown model '\(name)'") }
        guard versioned else { return (slot, slot.pick(requestID: requestID)) }
        let text = ctx.parameters.get("version") ?? ""
        guard let v = Int(text), v >= 1 else { throw ServeError.badRequest("'version' must be a positive integer, got '\(text)'") }
        guard let m = slot.version(v) else {
            let c = slot.current
            let served = [c.primary.model.version] + (c.canary.map { [$0.model.version] } ?? [])
            throw ServeError.notFound("model '\(name)' has no served version \(v) (serving \(served.map(String.init).joined(separator: ", ")))")
        }
        return (slot, m)
    }

    func metadata(_ ctx: BasicRequestContext, versioned: Bool) throws -> Response {
        let (slot, served) = try target(ctx, versioned: versioned)
        let m = served.model
        var w = JSONWriter()
        w.raw("{\"name\":"); w.string(m.name)
        let c = slot.current
        let versions = versioned ? [m.version] : [c.primary.model.version] + (c.canary.map { [$0.model.version] } ?? [])
        w.raw(",\"versions\":[" + versions.map { "\"\($0)\"" }.joined(separator: ",") + "],\"platform\":\"mlw\"")
        // The feature tensor(s), then one input per raw column when the model has fitted
        // transforms (BYTES for categories, FP32 for numbers; [N] or [N, 1]).
        var inputs = m.inputs
        if let raw = served.rawInputs {
            for f in raw.fields {
                if case .category = f.kind { inputs.append(TensorSpec(name: f.name, datatype: "BYTES", shape: [-1])) }
                else { inputs.append(TensorSpec(name: f.name, datatype: "FP32", shape: [-1])) }
            }
        }
        for (key, specs) in [("inputs", inputs), ("outputs", m.outputs)] {
            w.raw(",\"\(key)\":[")
            for (i, s) in specs.enumerated() {
                if i > 0 { w.raw(",") }
                w.raw("{\"name\":"); w.string(s.name); w.raw(",\"datatype\":"); w.string(s.datatype)
                w.raw(",\"shape\":[" + s.shape.map(String.init).joined(separator: ",") + "]}")
            }
            w.raw("]")
        }
        w.raw(",\"parameters\":{")
        for (i, (k, v)) in metadataParameters(served).enumerated() {
            if i > 0 { w.raw(",") }
            w.string(k); w.raw(":"); w.string(v)
        }
        w.raw("}}")
        return json(w.bytes)
    }

    /// The metadata's `parameters` (string values): the task, what the inputs and outputs
    /// hold, class names, the threshold and the record policy.
    func metadataParameters(_ served: ServedModel) -> [(String, String)] {
        let m = served.model, t = served.task
        let tensor = m.inputs.first.map { "'\($0.name)'" } ?? "the input"
        var p: [(String, String)] = [("task", t.kind), ("task_source", t.stored ? "stored" : "inferred")]
        if let raw = served.rawInputs {
            p.append(("inputs", "\(tensor) takes FP32 feature rows after the model's fitted transforms; "
                + "or send the raw columns (\(raw.expected)) as one input each, shape [N] (BYTES for categories, FP32/FP64/INT for numbers), and the server applies the transforms"))
        } else if m.transforms != nil {
            p.append(("inputs", "\(tensor) takes FP32 feature rows after the model's fitted transforms (raw columns: POST /predict)"))
        } else {
            p.append(("inputs", "\(tensor) takes FP32 feature rows (the model has no fitted transforms)"))
        }
        let out = m.outputs.first.map { "'\($0.name)'" } ?? "the output"
        switch (t.stored, t.kind) {
        case (false, _): p.append(("outputs", "\(out) is the model's raw output (no task record: task inferred from the output width)"))
        case (true, "regression"): p.append(("outputs", "\(out) holds the predicted values in the label's units"))
        default: p.append(("outputs", "\(out) holds the class probabilities"))
        }
        if let c = t.classes { p.append(("classes", c.joined(separator: ","))) }
        if t.kind == "binary" { p.append(("threshold", String(t.threshold ?? 0.5))) }
        if served.schema != nil {
            p.append(("missing_fields", served.policy.allowMissing ? "imputed" : "error"))
            p.append(("unseen_categories", served.policy.unseen))
        }
        return p
    }

    func modelReady(_ ctx: BasicRequestContext, versioned: Bool) throws -> Response {
        let (_, served) = try target(ctx, versioned: versioned)
        let ready = isAccepting
        var w = JSONWriter()
        w.raw("{\"name\":"); w.string(served.model.name)
        w.raw(",\"version\":\"\(served.model.version)\",\"ready\":\(ready)}")
        return json(w.bytes, status: ready ? .ok : .serviceUnavailable)
    }

    func infer(_ req: Request, _ ctx: BasicRequestContext, versioned: Bool) async throws -> Response {
        let start = ContinuousClock.now
        let name = ctx.parameters.get("name") ?? ""
        var version = ""
        do {
            let body = try await readBody(req)
            guard let slot = slot(name) else { throw ServeError.notFound("unknown model '\(name)'") }
            let primary = slot.current.primary
            let spec = primary.model
            guard let input = spec.inputs.first, let output = spec.outputs.first else { throw ServeError.badModel("no inputs or outputs") }
            var headerLength: Int?
            if let h = req.headers[.inferenceHeaderContentLength] {
                guard let n = Int(h) else { throw ServeError.badRequest("Inference-Header-Content-Length must be an integer, got '\(h)'") }
                headerLength = n
            }
            let r = try InferenceCodec.decodeRequest(body, headerLength: headerLength, input: input, outputs: spec.outputs,
                                                     raw: primary.rawInputs)
            var (_, served) = try target(ctx, versioned: versioned, requestID: r.id ?? req.headers[.requestID])
            version = String(served.model.version)
            // Raw columns go through the answering version's own checks and transforms.
            func rows(_ s: ServedModel) throws -> [Float] {
                guard let records = r.records else { return r.data }
                var x: [Float] = []
                x.reserveCapacity(records.count * s.model.inputWidth)
                for (i, rec) in records.enumerated() {
                    x.append(contentsOf: try features(.object(rec), served: s, prefix: records.count > 1 ? "row \(i): " : "", noun: "input"))
                }
                return x
            }
            let y: ArraySlice<Float>
            do { y = try await served.predict(try rows(served), rows: r.rows) } catch let e as ServeError where e.message == ServeError.retired.message {
                // The version was swapped out between choosing and queueing: ask the new one.
                (_, served) = try target(ctx, versioned: versioned, requestID: r.id)
                version = String(served.model.version)
                y = try await served.predict(try rows(served), rows: r.rows)
            }
            let out = InferenceCodec.encodeResponse(model: served.model.name, version: served.model.version, id: r.id,
                                                    output: served.model.outputs.first ?? output, rows: r.rows, data: y,
                                                    binary: r.binaryOutputs.contains(output.name))
            var resp = json(out.body)
            if let h = out.headerLength {
                resp.headers[.contentType] = "application/octet-stream"
                resp.headers[.inferenceHeaderContentLength] = String(h)
            }
            metrics.request(model: metricsLabel(name), version: version, endpoint: "infer", status: 200, nanos: nanos(since: start))
            return resp
        } catch {
            metrics.request(model: metricsLabel(name), version: version, endpoint: "infer", status: ErrorMiddleware.status(of: error), nanos: nanos(since: start))
            throw error
        }
    }

    /// The body, at most `maxBody` bytes. A larger one (by `Content-Length` or as it
    /// arrives) gets 413, but only after the rest of it has been read and dropped, up to
    /// `drainLimit` bytes or `drainTime`: a client that sends its whole body before reading
    /// (Python's urllib, requests) would otherwise block on a full socket and never see the
    /// answer (nginx's lingering close does the same). The 413 closes the connection.
    func readBody(_ req: Request) async throws -> [UInt8] {
        let limit = config.maxBody
        var tooLarge = req.headers[.contentLength].flatMap({ Int($0) }).map { $0 > limit } ?? false
        var bytes: [UInt8] = []
        var seen = 0
        let deadline = ContinuousClock.now + config.drainTime
        for try await chunk in req.body {
            seen += chunk.readableBytes
            if !tooLarge, seen > limit { tooLarge = true; bytes = [] }
            if !tooLarge {
                bytes.append(contentsOf: chunk.readableBytesView)
            } else if seen > config.drainLimit || ContinuousClock.now > deadline {
                break
            }
        }
        if tooLarge { throw ServeError.tooLarge(limit) }
        return bytes
    }
}

/// Every route's method and path pattern (`:name` matches one segment), for 405 answers.
final class RouteTable: @unchecked Sendable {
    private let lock = NSLock()
    private var routes: [(method: HTTPRequest.Method, segments: [Substring])] = []

    func add(_ method: HTTPRequest.Method, _ path: String) {
        lock.withLock { routes.append((method, path.split(separator: "/"))) }
    }

    /// The methods the routes matching `path` accept (empty: no route has this path).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        let all = lock.withLock { routes }
        var found: [HTTPRequest.Method] = []
        for r in all where r.segments.count == parts.count && zip(r.segments, parts).allSatisfy({ $0.hasPrefix(":") || $0 == $1 }) {
            if !found.contains(r.method) { found.append(r.method) }
        }
        return found
    }
}

func nanos(since start: ContinuousClock.Instant) -> Int64 {
    let d = ContinuousClock.now - start
    return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
}

func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response { json(Array(text.utf8), status: status) }

func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// Turns every thrown error into `{"error": "..."}` with its status; unexpected errors are
/// 500 and logged (the message still says what happened, never a stack). A known path
/// asked with a method it does not take is 405 with `Allow` (RFC 9110); a malformed HTTP
/// body (a bad chunk size) is 400; a 413 closes the connection.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch {
            var status = Self.status(of: error)
            var message: String
            var headers: HTTPFields = [:]
            switch error {
            case let e as ServeError: message = e.message
            case let e as HTTPError where e.status == .notFound:
                let allowed = routes.methods(for: request.uri.path)
                if allowed.isEmpty {
                    message = "no route \(request.method) \(request.uri.path)"
                } else {
                    status = 405
                    let list = allowed.map(\.rawValue).joined(separator: ", ")
                    headers[.allow] = list
                    message = "method \(request.method) is not allowed on \(request.uri.path) (allowed: \(list))"
                }
            case let e as HTTPError: message = e.body ?? "\(e.status)"
            case let e as HTTPResponseError where e.status == .contentTooLarge: message = "request body is too large"
            case let e as HTTPParserError: message = "malformed HTTP request body: \(e)"
            default: message = "\(error)"
            }
            if status == 413 { headers[.connection] = "close" }
            if status >= 500 && status != 503 { context.logger.error("request failed", metadata: ["error": "\(message)"]) }
            var w = JSONWriter()
            w.raw("{\"error\":"); w.string(message); w.raw("}")
            var response = json(w.bytes, status: .init(code: status))
            for field in headers { response.headers.append(field) }
            return response
        }
    }

    static func status(of error: Error) -> Int {
        switch error {
        case let e as ServeError: return e.status
        case let e as HTTPResponseError: return e.status.code
        case is HTTPParserError: return 400
        default: return 500
        }
    }
}

extension HTTPField.Name {
    /// Built once: `HTTPField.Name("...")` validates and lowercases its string, which showed
    /// in the V2 infer profile when it ran on every request.
    static let inferenceHeaderContentLength = HTTPField.Name("Inference-Header-Content-Length")!
    static let requestID = HTTPField.Name("X-Request-Id")!
}
