import Foundation
import Hummingbird
import Lang
import Serve
import ServeModels
import Tensor
import Train

let serveLibrary = Library("serve", doc: "Serve an in-memory model over HTTP (KServe V2 and /predict).", [
    NativeFunction("serve", [Param("model", .native("model")), Param("port", .int, .int(8080)), Param("host", .string, .string("127.0.0.1")),
                             Param("name", .string, .string("model")), Param("max_batch", .int, .int(32)), Param("max_delay_us", .int, .int(500))],
                   doc: "Serve a model from a script or the REPL until Ctrl-C (KServe V2 at /v2/models/NAME/infer, raw records at /predict). `mlw serve NAME@ALIAS` serves registry versions.",
                   example: "fn later(m) = serve(m, port: 8081, name: \"iris\")") { a in
        let m = try a.native("model", as: ModelValue.self, "model").model
        var config = ServeConfig()
        config.port = try a.int("port")
        config.host = try a.string("host")
        config.maxBatch = try positive(a, "max_batch")
        config.maxDelayMicros = try a.int("max_delay_us")
        guard (0...65535).contains(config.port) else { throw a.invalid("port", "must be 0...65535") }
        let servable: ServableModel = m.blobs["recommender"] != nil   // recommenders also answer /recommend, /similar
            ? try RecommenderServable(m, name: try a.string("name"), version: 1) : try GraphServable(m, name: try a.string("name"), version: 1)
        let server = InferenceServer(config: config)
        try server.add(servable)
        // The server runs on the concurrency pool; this (interpreter) thread waits for it.
        let done = DispatchSemaphore(value: 0)
        let box = ErrorBox()
        let out = a.interpreter.output
        let (host, port) = (config.host, config.port)
        Task.detached {
            do {
                let app = server.application { channel in
                    out("serving '\(servable.name)' on http://\(host):\(channel.localAddress?.port ?? port) (Ctrl-C stops)\n")
                }
                try await app.runService()
            } catch { box.error = error }
            done.signal()
        }
        done.wait()
        server.retireAll()
        if let e = box.error { throw NativeError("serve: \(e)") }
        return .nil
    },
])

private final class ErrorBox: @unchecked Sendable { var error: Error? }
