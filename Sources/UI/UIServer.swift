import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import NIOCore
import NIOPosix
import Registry

/// How `mlw ui` runs: where it listens, the token that unlocks alias moves (nil: read-only)
/// and the `mlw serve` whose `/metrics` the serving page shows.
public struct UIConfig: Sendable {
    public var host: String
    public var port: Int
    public var token: String?
    public var serveURL: URL?
    /// Runs per page of the runs table (`?per=` may ask for 10...500).
    public var pageSize: Int

    public init(host: String = "127.0.0.1", port: Int = 8090, token: String? = nil, serveURL: URL? = nil, pageSize: Int = 50) {
        self.host = host; self.port = port
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.serveURL = serveURL; self.pageSize = pageSize
    }
}

/// An error a page answers with: its status and a sentence (shown in the page or as JSON).
struct UIError: Error, CustomStringConvertible {
    var status: HTTPResponse.Status
    var description: String

    static func notFound(_ message: String) -> UIError { UIError(status: .notFound, description: message) }
    static func badRequest(_ message: String) -> UIError { UIError(status: .badRequest, description: message) }
    static func forbidden(_ message: String) -> UIError { UIError(status: .forbidden, description: message) }

    /// Registry errors about a missing thing are 404, bad input 400, anything else 500.
    init(_ error: Error) {
        if let e = error as? UIError { self = e; return }
        if let e = error as? RegistryError {
            switch e {
            case .unknownModel, .unknownVersion, .unknownAlias, .unknownRun, .unknownArtifact: self.init(status: .notFound, description: e.description)
            case .invalidName, .invalidReference, .ambiguousRun, .nothingToRollBack, .invalidValue: self.init(status: .badRequest, description: e.description)
            default: self.init(status: .internalServerError, description: e.description)
            }
            return
        }
        self.init(status: .internalServerError, description: "\(error)")
    }

    init(status: HTTPResponse.Status, description: String) { self.status = status; self.description = description }
}

/// What a page handler returns: the JSON form, and the template with its view for HTML.
struct Page {
    var title: String
    var template: String
    var json: Any
    var view: [String: Any]
    var status: HTTPResponse.Status = .ok
}

/// The `mlw ui` application: routes over one registry, templates loaded once at start.
public final class UIApp: Sendable {
    public let registry: Registry
    public let config: UIConfig
    let templates: MustacheLibrary
    let assets: [String: (type: String, body: String)]
    let index: RunIndex
    let modelCache = ModelInfoCache()
    let serving: ServingMonitor

    public init(registry: Registry, config: UIConfig = UIConfig()) throws {
        self.registry = registry
        self.config = config
        self.index = RunIndex(registry: registry)
        self.serving = ServingMonitor(serveURL: config.serveURL)
        (templates, assets) = try Self.loadResources()
    }

    /// Templates and static files from the package resources, read once: no request path
    /// ever names a file.
    static func loadResources() throws -> (MustacheLibrary, [String: (type: String, body: String)]) {
        guard let base = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            throw UIError(status: .internalServerError, description: "mlw ui: the templates are missing from the build (Resources)")
        }
        var library = MustacheLibrary()
        let dir = base.appendingPathComponent("templates")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        var assets: [String: (type: String, body: String)] = [:]
        for (name, type) in [("ui.css", "text/css; charset=utf-8"), ("ui.js", "text/javascript; charset=utf-8")] {
            assets[name] = (type, try String(contentsOf: base.appendingPathComponent("static/\(name)"), encoding: .utf8))
        }
        return (library, assets)
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: HostCheck(loopback: Self.isLoopback(config.host)))
        typealias PageHandler = @Sendable (Request, BasicRequestContext) async throws -> Page
        func page(_ path: String, _ handler: @escaping PageHandler) {
            router.get(RouterPath(path)) { req, ctx in
                do { return self.respond(req, try await handler(req, ctx)) } catch { return self.errorResponse(req, UIError(error)) }
            }
        }
        page("/") { req, _ in try self.runsPage(req) }
        page("/runs/:id") { req, ctx in try self.runPage(ctx.parameters.get("id") ?? "") }
        page("/compare") { req, _ in try self.comparePage(req) }
        page("/models") { _, _ in try self.modelsPage() }
        page("/models/:name") { req, ctx in
            try self.modelPage(ctx.parameters.get("name") ?? "", message: req.uri.queryParameters.get("moved").map { "moved \($0)" })
        }
        page("/serving") { _, _ in await self.servingPage() }
        for action in ["alias", "rollback"] {
            router.post(RouterPath("/models/:name/\(action)")) { req, ctx in
                do { return try await self.modelAction(action, req, ctx) } catch { return self.errorResponse(req, UIError(error)) }
            }
        }
        router.get("/artifacts/:sha256") { req, ctx in
            do { return try self.artifactDownload(ctx.parameters.get("sha256") ?? "") } catch { return self.errorResponse(req, UIError(error)) }
        }
        router.get("/static/:file") { req, ctx in
            guard let asset = self.assets[ctx.parameters.get("file") ?? ""] else {
                return self.errorResponse(req, .notFound("no such file"))
            }
            var headers = Self.securityHeaders
            headers[.contentType] = asset.type
            headers[.cacheControl] = "max-age=300"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: asset.body)))
        }
        return router
    }

    /// The Hummingbird application (in-process tests: `app.test(.router) { ... }`).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "mlw-ui"),
            onServerRunning: onServerRunning,
            logger: Logger(label: "mlw.ui")
        )
    }

    public static func isLoopback(_ host: String) -> Bool { host == "127.0.0.1" || host == "localhost" || host == "::1" }

    // MARK: - Responses

    static let securityHeaders: HTTPFields = [
        // Pages need nothing from elsewhere: no CDN, no inline script.
        .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    /// JSON when asked (`?format=json` or an Accept header naming JSON before HTML), else HTML.
    static func wantsJSON(_ req: Request) -> Bool {
        if let f = req.uri.queryParameters.get("format") { return f == "json" }
        let accept = req.headers[.accept] ?? ""
        guard let j = accept.range(of: "application/json") else { return false }
        if let h = accept.range(of: "text/html") { return j.lowerBound < h.lowerBound }
        return true
    }

    func respond(_ req: Request, _ page: Page) -> Response {
        var headers = Self.securityHeaders
        if Self.wantsJSON(req) {
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: page.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Self.jsonBytes(page.json))))
        }
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: page.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html(page))))
    }

    func html(_ page: Page) -> String {
        var view = page.view
        view["title"] = page.title
        view["nav_\(page.template)"] = true
        view["read_only"] = config.token == nil
        let body = templates.render(view, withTemplate: page.template) ?? ""
        return templates.render(["title": page.title, "body": body, "nav_\(page.template)": true,
                                 "serving_configured": config.serveURL != nil], withTemplate: "layout") ?? body
    }

    func errorResponse(_ req: Request, _ error: UIError) -> Response {
        respond(req, Page(title: "Error", template: "error", json: ["error": error.description, "status": Int(error.status.code)],
                          view: ["message": error.description, "status": Int(error.status.code)], status: error.status))
    }

    static func jsonBytes(_ value: Any) -> [UInt8] {
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return Array(#"{"error":"internal: a page produced a value JSON cannot hold"}"#.utf8)
        }
        return Array(data)
    }
}

/// Refuses requests whose Host is not a loopback name when bound to loopback: a page on
/// another site that rebinds its DNS name to 127.0.0.1 cannot read the registry through it.
struct HostCheck<Context: RequestContext>: RouterMiddleware {
    let loopback: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if loopback, let authority = request.head.authority, !HostCheck.isLoopbackAuthority(authority) {
            return Response(status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "mlw ui answers only to localhost, 127.0.0.1 and [::1]\n")))
        }
        return try await next(request, context)
    }

    static func isLoopbackAuthority(_ authority: String) -> Bool {
        var host = Substring(authority)
        if host.hasPrefix("[") { host = host.prefix { $0 != "]" }.dropFirst() }
        else if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        return host == "localhost" || host == "127.0.0.1" || host == "::1"
    }
}

/// Runs `mlw ui` until SIGTERM/SIGINT (Hummingbird's graceful shutdown).
public func runUI(registry: Registry, config: UIConfig, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    let app = try UIApp(registry: registry, config: config)
    let application = app.application { channel in
        await onServerRunning(channel.localAddress?.port ?? config.port)
    }
    try await application.runService()
}
