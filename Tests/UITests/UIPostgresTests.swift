import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Registry
import XCTest
@testable import UI

/// `mlw ui --registry postgres://...`: the same pages over the PostgreSQL store (a fresh
/// schema of MLW_TEST_POSTGRES, which Scripts/test starts; skipped without it).
final class UIPostgresTests: XCTestCase {
    func testPagesOverThePostgreSQLStore() async throws {
        guard let url = ProcessInfo.processInfo.environment["MLW_TEST_POSTGRES"], !url.isEmpty else {
            throw XCTSkip("MLW_TEST_POSTGRES is not set (Scripts/services/postgres.sh starts a server)")
        }
        var location = try PostgresLocation.parse(url)
        let schema = "ui_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        var admin = location
        admin.schema = nil
        location.schema = schema
        let root = UIFixture.tempRoot()
        defer {
            _ = try? PostgresSession(admin).withConnection { try $0.script("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE") }
            try? FileManager.default.removeItem(at: root)
        }
        let registry = try Registry(postgres: location, artifacts: .folder(root.appendingPathComponent("artifacts")))
        let filled = try UIFixture.fill(root: root, registry: registry)
        let ui = try UIApp(registry: registry, config: UIConfig(token: nil, serveURL: nil, pageSize: 50))
        try await Application(router: ui.router()).test(.router) { c in
            let (s, json) = try await c.json("/?sort=metric:test_accuracy&dir=desc&format=json")
            XCTAssertEqual(s, 200)
            XCTAssertEqual(json["total"] as? Int, 3)
            let rows = try XCTUnwrap(json["runs"] as? [[String: Any]])
            XCTAssertEqual(rows.map { $0["id"] as? String }, [filled.runs[1], filled.runs[2], filled.runs[0]])
            let (rs, html) = try await c.get("/runs/\(filled.runs[0])")
            XCTAssertEqual(rs, 200)
            XCTAssertTrue(html.contains("<figcaption>loss / val_loss</figcaption>"), "curves from the PostgreSQL metrics")
            XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "escaped on this store too")
            let (ms, models) = try await c.get("/models/iris")
            XCTAssertEqual(ms, 200)
            XCTAssertTrue(models.contains("production") && models.contains("staging"))
        }
    }
}
