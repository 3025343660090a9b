import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Registry
import Workbench
import XCTest
@testable import UI

/// Every page and its JSON form, in process (HummingbirdTesting's router client).
final class UIRouterTests: XCTestCase {
    var filled: UIFixture.Filled!

    override func setUpWithError() throws { filled = try UIFixture.fill() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: filled.root) }

    func app(token: String? = nil, serveURL: URL? = nil, pageSize: Int = 50) throws -> some ApplicationProtocol {
        let ui = try UIApp(registry: filled.registry, config: UIConfig(token: token, serveURL: serveURL, pageSize: pageSize))
        return Application(router: ui.router())
    }

    func testRunsPageSortsByAnyColumnAndAnswersJSON() async throws {
        let ids = filled.runs
        try await app().test(.router) { c in
            let (s, html) = try await c.get("/")
            XCTAssertEqual(s, 200)
            XCTAssertEqual(rowIDs(html), ids.reversed(), "newest first by default")
            for column in ["script", "started", "duration", "status", "param:lr", "metric:loss", "metric:test_accuracy"] {
                XCTAssertTrue(html.contains("sort=\(column.replacingOccurrences(of: ":", with: "%3A"))"), "a sort link for \(column)")
            }
            let (_, byAcc) = try await c.get("/?sort=metric:test_accuracy&dir=desc")
            XCTAssertEqual(rowIDs(byAcc), [ids[1], ids[2], ids[0]])
            let (_, byLR) = try await c.get("/?sort=param:lr&dir=asc")
            XCTAssertEqual(rowIDs(byLR), [ids[2], ids[1], ids[0]])
            XCTAssertTrue(byLR.contains("class=\"param sorted\""))

            for (uri, headers) in [("/?sort=metric:test_accuracy&dir=asc&format=json", HTTPFields()),
                                   ("/?sort=metric:test_accuracy&dir=asc", [.accept: "application/json"])] {
                let (js, json) = try await c.json(uri, headers: headers)
                XCTAssertEqual(js, 200)
                XCTAssertEqual(json["total"] as? Int, 3)
                let runs = json["runs"] as? [[String: Any]] ?? []
                XCTAssertEqual(runs.map { $0["id"] as? String }, [ids[0], ids[2], ids[1]])
                XCTAssertEqual((runs.first?["metrics"] as? [String: Any])?["test_accuracy"] as? Double, 0.82)
                XCTAssertEqual((runs.first?["params"] as? [String: Any])?["lr"] as? Double, 0.1)
                XCTAssertEqual(runs.first?["duration_seconds"] as? Double, 12.5)
            }
        }
    }

    func testRunsFilterByMetricParamAndScript() async throws {
        let ids = filled.runs
        try await app().test(.router) { c in
            let cases: [(String, [String])] = [
                ("test_accuracy > 0.9", [ids[2], ids[1]]),
                ("test_accuracy >= 0.91 and lr < 0.005", [ids[2]]),
                ("lr = 0.01", [ids[1]]),
                ("script ~ train, status = finished", ids.reversed()),
                ("metric.loss < 0.35", [ids[0]]),
                ("train", ids.reversed()),
            ]
            for (q, want) in cases {
                let (s, json) = try await c.json("/?format=json&q=\(urlEncode(q))")
                XCTAssertEqual(s, 200, q)
                XCTAssertEqual((json["runs"] as? [[String: Any]])?.map { $0["id"] as? String }, want, q)
            }
            let (bad, err) = try await c.json("/?format=json&q=\(urlEncode("test_acuracy > 0.9"))")
            XCTAssertEqual(bad, 400)
            XCTAssertEqual(err["error"] as? String, "bad filter: unknown name 'test_acuracy': not a metric, a parameter, script, status, id or host (did you mean 'test_accuracy'?)")
            let (s, html) = try await c.get("/?q=\(urlEncode("accuracy > high"))")
            XCTAssertEqual(s, 200)
            XCTAssertTrue(html.contains("bad filter: &#39;accuracy &gt; high&#39;: a metric compares with a number"), html)
        }
    }

    func testRunsArePaginated() async throws {
        let sha = SHA256.hex("x")
        for i in 0..<22 {
            let id = try filled.registry.startRun(script: "grid.mlw", scriptHash: sha, params: ["i": .int(i)],
                                                  startedAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(i)))
            try filled.registry.logMetric(run: id, key: "score", value: Double(i))
            try filled.registry.finishRun(id)
        }
        try await app(pageSize: 10).test(.router) { c in
            let (_, p1) = try await c.json("/?format=json&q=\(urlEncode("script = grid.mlw"))&sort=metric:score&dir=desc")
            XCTAssertEqual(p1["matched"] as? Int, 22); XCTAssertEqual(p1["pages"] as? Int, 3)
            XCTAssertEqual((p1["runs"] as? [[String: Any]])?.compactMap { ($0["metrics"] as? [String: Any])?["score"] as? Double }, (12...21).reversed().map(Double.init))
            let (_, p3) = try await c.json("/?format=json&q=\(urlEncode("script = grid.mlw"))&sort=metric:score&dir=desc&page=3")
            XCTAssertEqual((p3["runs"] as? [[String: Any]])?.count, 2)
            let (_, html) = try await c.get("/?page=2")
            XCTAssertTrue(html.contains("page 2 of 3"))
            XCTAssertTrue(html.contains("page=1") && html.contains("page=3"), "previous and next links")
        }
    }

    /// The environment `mlw run` stores when a run finishes: threads, CPU features, system
    /// and each stage's cache outcome, shown in the environment table and under the lineage.
    func testRunPageShowsThreadsCPUFeaturesAndStageCacheHits() async throws {
        let id = filled.runs[1]
        let env = RunEnvironment(threads: 2, cpuFeatures: ["avx2", "fma", "avx512f"], system: "Linux 6.1 x86_64",
                                 stages: [StageOutcome(name: "prepare", key: "0123456789ab", outcome: "cache hit"),
                                          StageOutcome(name: "<features>", key: "ba9876543210", outcome: "ran")])
        _ = try filled.registry.storeArtifact(bytes: try RegistryJSON.encoder(pretty: false).encode(env), run: id,
                                              label: RunRecorder.environmentLabel)
        try await app().test(.router) { c in
            let (s, html) = try await c.get("/runs/\(id)")
            XCTAssertEqual(s, 200)
            XCTAssertTrue(html.contains("<th>threads</th><td>2</td>"), html)
            XCTAssertTrue(html.contains("<th>CPU features</th><td>avx2 fma avx512f</td>"))
            XCTAssertTrue(html.contains("<td>prepare</td><td><code>0123456789ab</code></td><td><strong>cache hit</strong></td>"))
            XCTAssertTrue(html.contains("<td>&lt;features&gt;</td>"), "stage names escaped")
            let (_, json) = try await c.json("/runs/\(id)?format=json")
            XCTAssertEqual((json["environment"] as? [String: Any])?["threads"] as? Int, 2)
            XCTAssertEqual((json["stages"] as? [[String: Any]])?.map { $0["outcome"] as? String }, ["cache hit", "ran"])
        }
        // A run without the record (older runs) still renders, with dashes.
        try await app().test(.router) { c in
            let (s, html) = try await c.get("/runs/\(self.filled.runs[0])")
            XCTAssertEqual(s, 200)
            XCTAssertTrue(html.contains("<th>threads</th><td>-</td>"))
        }
    }

    func testRunPageShowsCurvesScriptLineageArtifactsAndModel() async throws {
        let id = filled.runs[0]
        try await app().test(.router) { c in
            let (s, html) = try await c.get("/runs/\(id)")
            XCTAssertEqual(s, 200)
            XCTAssertTrue(html.contains("<figcaption>loss / val_loss</figcaption>"), "train and validation on one chart")
            XCTAssertEqual(html.components(separatedBy: "<polyline").count - 1, 3, "loss, val_loss, accuracy")
            XCTAssertTrue(html.contains("stroke-dasharray"), "validation dashed")
            XCTAssertTrue(html.contains("<span class=\"k\">param</span> lr = <span class=\"n\">0.1</span>"), "highlighted script")
            XCTAssertTrue(html.contains("<span class=\"c\"># &quot;&lt;b&gt;not bold&lt;/b&gt;&quot;</span>"), "script text escaped")
            XCTAssertTrue(html.contains("iris.csv") && html.contains("lineage-0"))
            XCTAssertTrue(html.contains("href=\"/artifacts/\(self.filled.modelSha)\""))
            XCTAssertTrue(html.contains("<rect class=\"node input\""), "model graph drawn")
            XCTAssertTrue(html.contains("digraph mlw"), "to_dot source")
            XCTAssertTrue(html.contains("3f2a9c1b"), "git commit in the environment")
            let (_, json) = try await c.json("/runs/\(id)?format=json")
            XCTAssertEqual(json["id"] as? String, id)
            let loss = (json["metrics"] as? [String: Any])?["loss"] as? [[String: Any]]
            XCTAssertEqual(loss?.map { $0["step"] as? Int }, [0, 1, 2])
            XCTAssertEqual((json["model_versions"] as? [[String: Any]])?.first?["reference"] as? String, "iris:1")
            XCTAssertTrue(((json["model_versions"] as? [[String: Any]])?.first?["summary"] as? String ?? "").contains("matmul"))
            // An id prefix works like the CLI's.
            let (sp, _) = try await c.get("/runs/\(id.prefix(6))")
            XCTAssertEqual(sp, 200)
        }
    }

    func testReproductionStatus() async throws {
        let original = filled.runs[0]
        let sha = SHA256.hex(Data(UIFixture.script.utf8))
        let repro = try filled.registry.startRun(script: "train.mlw", scriptHash: sha, reproduces: original)
        let modelBytes = try Data(contentsOf: filled.registry.artifactURL(sha256: try filled.registry.resolve("iris:1").artifactSha256))
        _ = try filled.registry.storeArtifact(bytes: modelBytes, run: repro, label: "reproduce:iris:1")
        try filled.registry.finishRun(repro)
        try await app().test(.router) { c in
            let (_, html) = try await c.get("/runs/\(original)")
            XCTAssertTrue(html.contains("reproduced bit for bit: 1 registered artifacts identical"), html)
            let (_, json) = try await c.json("/runs/\(repro)?format=json")
            XCTAssertEqual(json["reproduces"] as? String, original)
            XCTAssertEqual((json["reproductions"] as? [[String: Any]])?.first?["identical"] as? Bool, true)
        }
    }

    func testParameterMarkupIsEscapedEverywhere() async throws {
        let id = filled.runs[0]
        try await app().test(.router) { c in
            for uri in ["/", "/runs/\(id)", "/compare?runs=\(id),\(self.filled.runs[1])"] {
                let (_, html) = try await c.get(uri)
                XCTAssertFalse(html.contains("<script>alert(1)"), uri)
                XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), uri)
            }
            let (_, json) = try await c.json("/runs/\(id)?format=json")
            XCTAssertEqual((json["params"] as? [String: Any])?["note"] as? String, "<script>alert(1)</script>", "JSON keeps the value")
            // Search text comes back escaped in the filter box.
            let (_, echoed) = try await c.get("/?q=\(urlEncode("\"><script>x()</script>"))")
            XCTAssertFalse(echoed.contains("<script>x()"))
        }
    }

    func testCompareDiffsParamsAndHighlightsBest() async throws {
        let ids = filled.runs
        try await app().test(.router) { c in
            let (s, html) = try await c.get("/compare?runs=\(ids[0]),\(ids[1])")
            XCTAssertEqual(s, 200)
            XCTAssertTrue(html.contains("<th>lr</th>"))
            XCTAssertFalse(html.contains("<th>epochs</th>"), "equal parameters are not in the diff")
            XCTAssertTrue(html.contains("<th>test_accuracy</th><td class=\"num\">0.82</td><td class=\"num best\">0.95</td>"), html)
            XCTAssertTrue(html.contains("<figcaption>val_loss</figcaption>"))
            let (_, json) = try await c.json("/compare?format=json&runs=\(ids[0])&runs=\(ids[1])&runs=\(ids[2])")
            let metrics = json["metrics"] as? [[String: Any]] ?? []
            XCTAssertEqual(metrics.first { $0["key"] as? String == "test_accuracy" }?["best"] as? String, ids[1])
            XCTAssertEqual(metrics.first { $0["key"] as? String == "loss" }?["best"] as? String, ids[0], "lower loss is better")
            XCTAssertEqual((json["differences"] as? [[String: Any]])?.compactMap { $0["key"] as? String }, ["seed", "lr", "note"])
            let (one, _) = try await c.json("/compare?format=json&runs=\(ids[0])")
            XCTAssertEqual(one, 400)
        }
    }

    func testModelsPages() async throws {
        try await app().test(.router) { c in
            let (s, html) = try await c.get("/models")
            XCTAssertEqual(s, 200)
            XCTAssertTrue(html.contains("<a href=\"/models/iris\">iris</a>"))
            let (_, list) = try await c.json("/models?format=json")
            let iris = (list["models"] as? [[String: Any]])?.first
            XCTAssertEqual(iris?["versions"] as? Int, 2)
            XCTAssertEqual(iris?["aliases"] as? [String: Int], ["production": 1, "staging": 2])
            let (s2, page) = try await c.get("/models/iris")
            XCTAssertEqual(s2, 200)
            XCTAssertTrue(page.contains("href=\"/runs/\(self.filled.runs[0])\""), "producing run linked")
            XCTAssertTrue(page.contains("id=\"timeline\""))
            XCTAssertTrue(page.contains("Read-only"), "no token: no actions")
            XCTAssertFalse(page.contains("<form method=\"post\""))
            let (_, json) = try await c.json("/models/iris?format=json")
            XCTAssertEqual((json["versions"] as? [[String: Any]])?.map { $0["run"] as? String }, [self.filled.runs[0], self.filled.runs[1]])
            XCTAssertEqual((json["alias_events"] as? [[String: Any]])?.count, 2)
        }
    }

    func testAliasActionsNeedTokenAndSameOrigin() async throws {
        let form = ByteBuffer(string: "alias=production&version=2&token=s3cret")
        let same: HTTPFields = [.contentType: "application/x-www-form-urlencoded", HTTPField.Name("Origin")!: "http://localhost"]   // the router client's Host
        // Without a configured token the UI is read-only.
        try await app().test(.router) { c in
            let s = try await c.execute(uri: "/models/iris/alias", method: .post, headers: same, body: form) { $0.status.code }
            XCTAssertEqual(s, 403)
        }
        XCTAssertEqual(try filled.registry.resolve("iris@production").version, 1)
        try await app(token: "s3cret").test(.router) { c in
            let wrong = try await c.execute(uri: "/models/iris/alias", method: .post, headers: same,
                                            body: ByteBuffer(string: "alias=production&version=2&token=guess")) { $0.status.code }
            XCTAssertEqual(wrong, 403)
            var evil = same; evil[HTTPField.Name("Origin")!] = "http://evil.example"
            let cross = try await c.execute(uri: "/models/iris/alias", method: .post, headers: evil, body: form) { $0.status.code }
            XCTAssertEqual(cross, 403)
            let bare = try await c.execute(uri: "/models/iris/alias", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: form) { $0.status.code }
            XCTAssertEqual(bare, 403, "a form post without Origin or Referer is refused")
            XCTAssertEqual(try self.filled.registry.resolve("iris@production").version, 1, "nothing moved")

            let (ok, location) = try await c.execute(uri: "/models/iris/alias", method: .post, headers: same, body: form) {
                ($0.status.code, $0.headers[.location] ?? "")
            }
            XCTAssertEqual(ok, 303); XCTAssertTrue(location.hasPrefix("/models/iris?moved="))
            XCTAssertEqual(try self.filled.registry.resolve("iris@production").version, 2)
            // A program: the token in the Authorization header, no Origin.
            let (rs, body) = try await c.execute(uri: "/models/iris/rollback?format=json", method: .post,
                                                 headers: [.authorization: "Bearer s3cret", .contentType: "application/x-www-form-urlencoded"],
                                                 body: ByteBuffer(string: "alias=production")) { ($0.status.code, String(buffer: $0.body)) }
            XCTAssertEqual(rs, 200, body)
            XCTAssertTrue(body.contains("\"reason\":\"rollback\""))
            XCTAssertEqual(try self.filled.registry.resolve("iris@production").version, 1)
            let (_, page) = try await c.get("/models/iris")
            XCTAssertTrue(page.contains("<form method=\"post\" action=\"/models/iris/alias\">"))
        }
    }

    func testNotFoundAndNoFilesystemPaths() async throws {
        try await app().test(.router) { c in
            for uri in ["/runs/ffffffffffff", "/runs/zzzz", "/models/nope", "/models/..%2F..%2Fetc", "/artifacts/..%2Fregistry.sqlite",
                        "/artifacts/" + String(repeating: "0", count: 64), "/static/..%2FUIServer.swift", "/static/ui.css.map", "/nope"] {
                let s = try await c.execute(uri: uri, method: .get) { $0.status.code }
                XCTAssertEqual(s, 404, uri)
            }
            let (s, json) = try await c.json("/runs/ffffffffffff?format=json")
            XCTAssertEqual(s, 404)
            XCTAssertEqual(json["error"] as? String, "unknown run 'ffffffffffff'")
            let bytes = try await c.execute(uri: "/artifacts/\(self.filled.modelSha)", method: .get) { Data(buffer: $0.body) }
            XCTAssertEqual(SHA256.hex(bytes), self.filled.modelSha)
            let css = try await c.execute(uri: "/static/ui.css", method: .get) { $0.headers[.contentType] }
            XCTAssertEqual(css, "text/css; charset=utf-8")
        }
        // Host (the request's authority) is checked by HostCheck; the router client sends none.
        XCTAssertTrue(HostCheck<BasicRequestContext>.isLoopbackAuthority("127.0.0.1:8090"))
        XCTAssertTrue(HostCheck<BasicRequestContext>.isLoopbackAuthority("[::1]:8090"))
        XCTAssertTrue(HostCheck<BasicRequestContext>.isLoopbackAuthority("localhost"))
        XCTAssertFalse(HostCheck<BasicRequestContext>.isLoopbackAuthority("evil.example:8090"))
        XCTAssertFalse(HostCheck<BasicRequestContext>.isLoopbackAuthority("127.0.0.1.evil.example"))
    }
}

// MARK: - Helpers

func urlEncode(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
}

/// Run ids of the runs table's rows, in order.
func rowIDs(_ html: String) -> [String] {
    html.components(separatedBy: "<tr data-run=\"").dropFirst().map { String($0.prefix(12)) }
}

extension TestClientProtocol {
    func get(_ uri: String) async throws -> (Int, String) {
        try await execute(uri: uri, method: .get, headers: [.accept: "text/html"]) { (Int($0.status.code), String(buffer: $0.body)) }
    }

    func json(_ uri: String, headers: HTTPFields = [:]) async throws -> (Int, [String: Any]) {
        try await execute(uri: uri, method: .get, headers: headers) { r in
            let obj = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any]
            return (Int(r.status.code), obj ?? [:])
        }
    }
}
