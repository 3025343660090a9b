import Foundation
import HTTPTypes
import Hummingbird

/// The KServe V2 (Open Inference Protocol) HTTP/JSON endpoints, `/predict`, `/metrics`.
extension InferenceServer {
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ErrorMiddleware())
        router.get("/v2/health/live") { _, _ in json(#"{"live":true}"#) }
        router.get("/v2/health/ready") { _, _ in self.readiness() }
        router.get("/v2") { _, _ in
            json(#"{"name":"mlw","version":"0.1.0","extensions":["binary_tensor_data"]}"#)
        }
        router.get("/v2/models/:name") { _, ctx in try self.metadata(ctx, versioned: false) }
        router.get("/v2/models/:name/versions/:version") { _, ctx in try self.metadata(ctx, versioned: true) }
        router.get("/v2/models/:name/ready") { _, ctx in try self.modelReady(ctx, versioned: false) }
        router.get("/v2/models/:name/versions/:version/ready") { _, ctx in try self.modelReady(ctx, versioned: true) }
        router.post("/v2/models/:name/infer") { req, ctx in try await self.infer(req, ctx, versioned: false) }
        router.post("/v2/models/:name/versions/:version/infer") { req, ctx in try await self.infer(req, ctx, versioned: true) }
        router.post("/predict") { req, ctx in try await self.predictRecords(req, ctx) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.text())))
        }
        return router
    }

    func readiness() -> Response {
        var w = JSONWriter()
        let ready = isAccepting
        w.raw("{\"ready\":\(ready),\"models\":[")
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
        for (key, specs) in [("inputs", m.inputs), ("outputs", m.outputs)] {
            w.raw(",\"\(key)\":[")
            for (i, s) in specs.enumerated() {
                if i > 0 { w.raw(",") }
                w.raw("{\"name\":"); w.string(s.name); w.raw(",\"datatype\":"); w.string(s.datatype)
                w.raw(",\"shape\":[" + s.shape.map(String.init).joined(separator: ",") + "]}")
            }
            w.raw("]")
        }
        w.raw("}")
        return json(w.bytes)
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
            let spec = slot.current.primary.model
            guard let input = spec.inputs.first, let output = spec.outputs.first else { throw ServeError.badModel("no inputs or outputs") }
            var headerLength: Int?
            if let h = req.headers[HTTPField.Name("Inference-Header-Content-Length")!] {
                guard let n = Int(h) else { throw ServeError.badRequest("Inference-Header-Content-Length must be an integer, got '\(h)'") }
                headerLength = n
            }
            let r = try InferenceCodec.decodeRequest(body, headerLength: headerLength, input: input, outputs: spec.outputs)
            var (_, served) = try target(ctx, versioned: versioned, requestID: r.id ?? req.headers[HTTPField.Name("X-Request-Id")!])
            version = String(served.model.version)
            let y: ArraySlice<Float>
            do { y = try await served.predict(r.data, rows: r.rows) } catch let e as ServeError where e.message == ServeError.retired.message {
                // The version was swapped out between choosing and queueing: ask the new one.
                (_, served) = try target(ctx, versioned: versioned, requestID: r.id)
                version = String(served.model.version)
                y = try await served.predict(r.data, rows: r.rows)
            }
            let out = InferenceCodec.encodeResponse(model: served.model.name, version: served.model.version, id: r.id,
                                                    output: served.model.outputs.first ?? output, rows: r.rows, data: y,
                                                    binary: r.binaryOutputs.contains(output.name))
            var resp = json(out.body)
            if let h = out.headerLength {
                resp.headers[.contentType] = "application/octet-stream"
                resp.headers[HTTPField.Name("Inference-Header-Content-Length")!] = String(h)
            }
            metrics.request(model: name, version: version, endpoint: "infer", status: 200, nanos: nanos(since: start))
            return resp
        } catch {
            metrics.request(model: name, version: version, endpoint: "infer", status: ErrorMiddleware.status(of: error), nanos: nanos(since: start))
            throw error
        }
    }

    /// The body, at most `maxBody` bytes (413 beyond).
    func readBody(_ req: Request) async throws -> [UInt8] {
        if let len = req.headers[.contentLength].flatMap({ Int($0) }), len > config.maxBody { throw ServeError.tooLarge(config.maxBody) }
        do {
            let buf = try await req.body.collect(upTo: config.maxBody)
            return Array(buf.readableBytesView)
        } catch let e as HTTPResponseError where e.status == .contentTooLarge {
            throw ServeError.tooLarge(config.maxBody)
        }
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
/// 500 and logged (the message still says what happened, never a stack).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch {
            let status = Self.status(of: error)
            var message: String
            switch error {
            case let e as ServeError: message = e.message
            case let e as HTTPError where e.status == .notFound: message = "no route \(request.method) \(request.uri.path)"
            case let e as HTTPError: message = e.body ?? "\(e.status)"
            case let e as HTTPResponseError where e.status == .contentTooLarge: message = "request body is too large"
            default: message = "\(error)"
            }
            if status >= 500 && status != 503 { context.logger.error("request failed", metadata: ["error": "\(message)"]) }
            var w = JSONWriter()
            w.raw("{\"error\":"); w.string(message); w.raw("}")
            return json(w.bytes, status: .init(code: status))
        }
    }

    static func status(of error: Error) -> Int {
        switch error {
        case let e as ServeError: return e.status
        case let e as HTTPResponseError: return e.status.code
        default: return 500
        }
    }
}
