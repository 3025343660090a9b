import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Registry

// `/models`, `/models/{name}` and the two actions behind the token: set an alias, roll back.

extension UIApp {
    func modelsPage() throws -> Page {
        let models = try registry.models()
        let json = models.map { m -> [String: Any] in
            ["name": m.name, "latest": m.latestVersion, "versions": m.versionCount, "aliases": m.aliases,
             "created": Format.iso(m.createdAt), "updated": Format.iso(m.updatedAt)]
        }
        let view: [String: Any] = [
            "models": models.map { m -> [String: Any] in
                ["name": m.name, "latest": m.latestVersion, "versions": m.versionCount, "updated": Format.time(m.updatedAt),
                 "aliases": m.aliases.keys.sorted().map { ["alias": $0, "version": m.aliases[$0]!] }]
            },
            "empty": models.isEmpty,
        ]
        return Page(title: "Models", template: "models", json: ["models": json], view: view)
    }

    func modelPage(_ name: String, message: String? = nil) throws -> Page {
        guard RegistryName.isValid(name) else { throw UIError.notFound("unknown model '\(name)'") }
        let versions = try registry.versions(name)
        guard !versions.isEmpty else { throw UIError.notFound("unknown model '\(name)'") }
        let aliases = try registry.aliases(name)
        let history = try registry.aliasHistory(name)
        var aliasesOf: [Int: [String]] = [:]
        for a in aliases { aliasesOf[a.version, default: []].append(a.alias) }
        let metricKeys = Set(versions.flatMap { $0.metrics.keys }).sorted()

        let json: [String: Any] = [
            "name": name,
            "versions": versions.map { v -> [String: Any] in
                ["version": v.version, "reference": v.reference, "run": orNull(v.runId), "artifact_sha256": v.artifactSha256,
                 "kind": orNull(v.kind?.rawValue), "metrics": v.metrics.mapValues { Format.json($0) }, "created": Format.iso(v.createdAt),
                 "aliases": (aliasesOf[v.version] ?? []).sorted()]
            },
            "aliases": Dictionary(aliases.map { ($0.alias, $0.version) }, uniquingKeysWith: { a, _ in a }),
            "alias_events": history.map { e -> [String: Any] in
                ["alias": e.alias, "from": orNull(e.oldVersion), "to": e.newVersion, "reason": e.reason.rawValue, "moved": Format.iso(e.movedAt)]
            },
            "writable": config.token != nil,
        ]
        var view: [String: Any] = [
            "name": name,
            "metric_keys": metricKeys.map { ["key": $0] },
            "versions": versions.reversed().map { v -> [String: Any] in
                var e: [String: Any] = ["version": v.version, "created": Format.time(v.createdAt), "sha256": v.artifactSha256,
                                        "short": String(v.artifactSha256.prefix(12)), "kind": v.kind?.rawValue ?? "-",
                                        "aliases": (aliasesOf[v.version] ?? []).sorted().map { ["alias": $0] },
                                        "metrics": metricKeys.map { ["value": Format.number(v.metrics[$0])] }]
                if let r = v.runId { e["run"] = r }
                return e
            },
            "aliases": aliases.map { ["alias": $0.alias, "version": $0.version, "updated": Format.time($0.updatedAt)] },
            "has_aliases": !aliases.isEmpty,
            "events": history.reversed().map { e -> [String: Any] in
                ["alias": e.alias, "from": e.oldVersion.map(String.init) ?? "new", "to": e.newVersion, "reason": e.reason.rawValue,
                 "rollback": e.reason == .rollback, "moved": Format.time(e.movedAt)]
            },
            "has_events": !history.isEmpty,
            "writable": config.token != nil,
            "version_numbers": versions.reversed().map { ["version": $0.version] },
        ]
        if let message { view["message"] = message }
        return Page(title: "Model \(name)", template: "model", json: json, view: view)
    }

    /// Largest form body accepted by an action.
    static let maxFormBytes = 16 * 1024

    /// POST /models/{name}/alias (alias, version) and /models/{name}/rollback (alias): only
    /// with the token (form field `token` or `Authorization: Bearer`), and only from this
    /// origin (the browser's Origin or Referer must name this server).
    func modelAction(_ action: String, _ req: Request, _ ctx: BasicRequestContext) async throws -> Response {
        guard let token = config.token else {
            throw UIError.forbidden("mlw ui is read-only: start it with --token (or MLW_UI_TOKEN) to move aliases")
        }
        let body = try await req.body.collect(upTo: Self.maxFormBytes)
        let form = parseForm(String(buffer: body))
        let bearer = req.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        try checkSameOrigin(req, headerToken: bearer != nil)
        guard let given = bearer ?? form["token"], constantTimeEqual(given, token) else {
            throw UIError.forbidden("wrong or missing token")
        }
        let name = ctx.parameters.get("name") ?? ""
        let alias = form["alias"] ?? ""
        let event: AliasEvent
        if action == "alias" {
            guard let text = form["version"], let version = Int(text), version >= 1 else {
                throw UIError.badRequest("'version' must be a positive integer, got '\(form["version"] ?? "")'")
            }
            event = try registry.setAlias(name, alias: alias, version: version)
        } else {
            event = try registry.rollback(name, alias: alias)
        }
        index.invalidate()
        let moved = "\(name)@\(event.alias) -> \(event.newVersion) (was \(event.oldVersion.map(String.init) ?? "unset"), \(event.reason.rawValue))"
        if Self.wantsJSON(req) {
            let json: [String: Any] = ["name": name, "alias": event.alias, "from": orNull(event.oldVersion), "to": event.newVersion,
                                       "reason": event.reason.rawValue]
            var headers = Self.securityHeaders
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Self.jsonBytes(json))))
        }
        var headers = Self.securityHeaders
        headers[.location] = "/models/\(name)?moved=\(urlEncode(moved))"
        return Response(status: .seeOther, headers: headers)
    }

    /// Browsers send Origin (or at least Referer) with a form POST; it must be this server.
    /// A request with neither comes from a program, not a page, and is accepted only with the
    /// token in the Authorization header (which another site's page cannot set).
    func checkSameOrigin(_ req: Request, headerToken: Bool) throws {
        let host = req.head.authority ?? "\(config.host):\(config.port)"
        let origin = req.headers[HTTPField.Name("Origin")!]
        let referer = req.headers[HTTPField.Name("Referer")!]
        if let origin {
            guard origin == "http://\(host)" else { throw UIError.forbidden("cross-origin request refused (Origin \(origin))") }
        } else if let referer {
            guard referer.hasPrefix("http://\(host)/") else { throw UIError.forbidden("cross-origin request refused (Referer)") }
        } else if !headerToken {
            throw UIError.forbidden("a form post needs an Origin or Referer header of this server")
        }
    }

    func parseForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }

    /// GET /artifacts/{sha256}: the only route that reads a file, named by its 64-hex hash
    /// and only when the registry has a row for it.
    func artifactDownload(_ sha: String) throws -> Response {
        guard sha.count == 64, sha.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) else {
            throw UIError.notFound("no artifact '\(sha.prefix(80))' (artifacts are named by their SHA-256)")
        }
        let artifact = try registry.artifact(sha256: sha)
        let url = registry.artifactURL(sha256: artifact.sha256)
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw UIError.notFound("artifact \(sha.prefix(12)) is missing from the store") }
        var headers = Self.securityHeaders
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"\(sha).bin\""
        headers[.contentLength] = String(artifact.size)
        // Streamed in 256 KiB chunks: a large model never sits whole in memory.
        let body = ResponseBody { writer in
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 256 * 1024), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// Compares without an early exit, so the time taken does not tell how much of a guess matched.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var diff = UInt8(x.count == y.count ? 0 : 1)
    for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
    return diff == 0
}
