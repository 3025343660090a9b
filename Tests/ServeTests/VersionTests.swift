import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Registry
import XCTest
@testable import Serve

/// Registry references, alias moves under load, failed loads, canary splits.
final class VersionTests: XCTestCase {
    func tempRegistry() throws -> (Registry, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return (try Registry.open(root: dir.appendingPathComponent("reg")), dir)
    }

    /// Registers dense models with seeds 1...n as versions 1...n of "digits".
    func register(_ reg: Registry, dir: URL, seeds: [UInt64]) throws -> [DenseModel] {
        try seeds.enumerated().map { i, seed in
            let m = try DenseModel.random(name: "digits", version: i + 1, sizes: [64, 32, 10], seed: seed)
            let path = dir.appendingPathComponent("m\(i).safetensors").path
            try DenseModel.save(m, to: path)
            _ = try reg.register(file: URL(fileURLWithPath: path), name: "digits")
            return m
        }
    }

    func testAliasMoveAndRollbackUnderLoad() async throws {
        let (reg, dir) = try tempRegistry()
        let models = try register(reg, dir: dir, seeds: [1, 2])
        _ = try reg.setAlias("digits", alias: "production", version: 1)
        var config = ServeConfig(); config.pollInterval = .milliseconds(20)
        let server = InferenceServer(config: config)
        try server.load(refs: ["digits@production"], registry: reg, loader: DenseModelLoader())
        let watcher = Task { await server.watch(registry: reg, loader: DenseModelLoader()) }
        defer { watcher.cancel() }
        let row: [Float] = (0..<64).map { Float($0 % 9) / 9 }
        let want = try models.map { try Fixtures.predictDirect($0, [row]) }
        let seen = Versions()
        try await server.application().test(.router) { c in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        for _ in 0..<150 {
                            let (s, r, raw) = try await c.call(.post, "/v2/models/digits/infer", Fixtures.v2Body([row]))
                            XCTAssertEqual(s, 200, String(buffer: raw))
                            guard let v = Int(r["model_version"] as? String ?? "") else { return XCTFail("no version") }
                            seen.add(v)
                            assertClose(floats((r["outputs"] as? [[String: Any]])?.first?["data"]), want[v - 1])
                            try await Task.sleep(for: .milliseconds(1))
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(150))
                    _ = try reg.setAlias("digits", alias: "production", version: 2)
                    try await self.waitFor(server, version: 2)
                    _ = try reg.rollback("digits", alias: "production")
                    try await self.waitFor(server, version: 1)
                }
                try await group.waitForAll()
            }
        }
        XCTAssertEqual(seen.all, [1, 2])
    }

    func waitFor(_ server: InferenceServer, version: Int) async throws {
        for _ in 0..<200 {
            if server.slot("digits")?.current.primary.model.version == version { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("version \(version) never served")
    }

    func testFailedLoadKeepsOldVersion() async throws {
        let (reg, dir) = try tempRegistry()
        _ = try register(reg, dir: dir, seeds: [1])
        let junk = dir.appendingPathComponent("junk.bin")
        try Data("not a model".utf8).write(to: junk)
        _ = try reg.register(file: junk, name: "digits")
        _ = try reg.setAlias("digits", alias: "production", version: 1)
        var config = ServeConfig(); config.pollInterval = .milliseconds(20)
        let server = InferenceServer(config: config)
        try server.load(refs: ["digits@production"], registry: reg, loader: DenseModelLoader())
        let slot = try XCTUnwrap(server.slot("digits"))
        _ = try reg.setAlias("digits", alias: "production", version: 2)
        server.checkMove(slot: slot, ref: "digits@production", serving: 1, canary: false, registry: reg, loader: DenseModelLoader())
        XCTAssertEqual(slot.current.primary.model.version, 1)
        try await server.application().test(.router) { c in
            let (s, r, _) = try await c.call(.get, "/v2/health/ready")
            XCTAssertEqual(s, 200)
            let m = (r["models"] as? [[String: Any]])?.first
            XCTAssertEqual(m?["version"] as? String, "1")
            XCTAssertTrue((m?["last_load_error"] as? String ?? "").contains("digits:2"), "\(r)")
            let (_, _, text) = try await c.call(.get, "/metrics")
            XCTAssertTrue(String(buffer: text).contains(#"mlw_model_load_failures_total{model="digits"} 1"#))
            let (s2, _, _) = try await c.call(.post, "/v2/models/digits/infer", Fixtures.v2Body([[Float](repeating: 0, count: 64)]))
            XCTAssertEqual(s2, 200)
        }
    }

    func testCanarySplitIsStickyPerID() async throws {
        let server = InferenceServer(config: ServeConfig())
        try server.add(Fixtures.digits(version: 1, seed: 1), canary: Fixtures.digits(version: 2, seed: 2), percent: 30)
        let row = [Float](repeating: 0.25, count: 64)
        try await server.application().test(.router) { c in
            var canary = 0
            for i in 0..<300 {
                let (_, r, _) = try await c.call(.post, "/v2/models/digits/infer", Fixtures.v2Body([row], id: "user-\(i)"))
                let v = r["model_version"] as? String
                if v == "2" { canary += 1 }
                let (_, again, _) = try await c.call(.post, "/v2/models/digits/infer", Fixtures.v2Body([row], id: "user-\(i)"))
                XCTAssertEqual(again["model_version"] as? String, v, "sticky per id")
            }
            XCTAssertTrue((60...120).contains(canary), "\(canary) of 300 went to the canary")
            let (_, meta, _) = try await c.call(.get, "/v2/models/digits")
            XCTAssertEqual(meta["versions"] as? [String], ["1", "2"])
            let (s, r, _) = try await c.call(.post, "/v2/models/digits/versions/2/infer", Fixtures.v2Body([row]))
            XCTAssertEqual(s, 200); XCTAssertEqual(r["model_version"] as? String, "2")
        }
    }
}

final class Versions: @unchecked Sendable {
    private let lock = NSLock()
    private var set = Set<Int>()
    func add(_ v: Int) { lock.withLock { _ = set.insert(v) } }
    var all: [Int] { lock.withLock { set.sorted() } }
}
