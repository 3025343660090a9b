import Foundation
import HummingbirdTesting
import Registry
import XCTest
@testable import Serve

/// Alias moves reaching a server by PostgreSQL LISTEN/NOTIFY (with polling too slow to
/// matter), the listener itself, and the wake-up the watcher sleeps on.
final class AliasNotifyTests: XCTestCase {
    func postgresRegistry() throws -> (Registry, URL) {
        guard let base = ProcessInfo.processInfo.environment["MLW_TEST_POSTGRES"], !base.isEmpty else {
            throw XCTSkip("MLW_TEST_POSTGRES is not set (source Scripts/services/postgres.sh)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-notify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let schema = "notify_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let reg = try Registry(postgres: try PostgresLocation.parse(base + "?schema=" + schema),
                               artifacts: .folder(dir.appendingPathComponent("artifacts")))
        return (reg, dir)
    }

    func register(_ reg: Registry, dir: URL, seeds: [UInt64]) throws {
        for (i, seed) in seeds.enumerated() {
            let m = try DenseModel.random(name: "digits", version: i + 1, sizes: [64, 16, 10], seed: seed)
            let path = dir.appendingPathComponent("m\(i).safetensors").path
            try DenseModel.save(m, to: path)
            _ = try reg.register(file: URL(fileURLWithPath: path), name: "digits")
        }
    }

    func testListenerReportsEachMove() async throws {
        let (reg, dir) = try postgresRegistry()
        try register(reg, dir: dir, seeds: [1, 2])
        let events = EventLog()
        let listener = Task.detached { await reg.listenForAliasMoves { events.add($0) } }
        defer { listener.cancel() }
        try await events.waitFor { $0.contains(.listening) }
        _ = try reg.setAlias("digits", alias: "production", version: 1)
        _ = try reg.setAlias("digits", alias: "production", version: 2)
        _ = try reg.rollback("digits", alias: "production")
        try await events.waitFor { $0.filter { $0 == .moved(model: "digits") }.count == 3 }
        XCTAssertEqual(events.all.first, .listening)
    }

    func testListenerReturnsAtOnceForSQLite() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-notify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let reg = try Registry.open(root: dir)
        let events = EventLog()
        await reg.listenForAliasMoves { events.add($0) }
        XCTAssertEqual(events.all, [])
    }

    func testMoveReachesServerByNotifyAndReportsVersion() async throws {
        let (reg, dir) = try postgresRegistry()
        try register(reg, dir: dir, seeds: [1, 2])
        _ = try reg.setAlias("digits", alias: "production", version: 1)
        // Both polls a minute apart: within the test only a notification can move the server.
        var config = ServeConfig(); config.pollInterval = .seconds(60); config.listenPollInterval = .seconds(60)
        let server = InferenceServer(config: config)
        try server.load(refs: ["digits@production"], registry: reg, loader: DenseModelLoader())
        let watcher = Task.detached { await server.watch(registry: reg, loader: DenseModelLoader()) }
        defer { watcher.cancel() }
        for _ in 0..<500 where !server.aliasListening.value { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(server.aliasListening.value, "LISTEN never became active")
        _ = try reg.setAlias("digits", alias: "production", version: 2)
        for _ in 0..<500 where server.slot("digits")?.current.primary.model.version != 2 { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(server.slot("digits")?.current.primary.model.version, 2)
        try await server.application().test(.router) { c in
            let (s, r, _) = try await c.call(.get, "/v2/health/ready")
            XCTAssertEqual(s, 200)
            XCTAssertEqual(r["state"] as? String, "serving")
            XCTAssertEqual((r["models"] as? [[String: Any]])?.first?["version"] as? String, "2")
            let (_, _, text) = try await c.call(.get, "/metrics")
            let t = String(buffer: text)
            XCTAssertTrue(t.contains(#"mlw_model_serving{model="digits",role="primary",version="2"} 1"#), t)
            XCTAssertTrue(t.contains(#"mlw_model_serving{model="digits",role="primary",version="1"} 0"#), t)
            XCTAssertTrue(t.contains(#"mlw_model_version{model="digits",role="primary"} 2"#), t)
        }
    }

    /// The listening connection is killed by the server (pg_terminate_backend) and an alias
    /// moves while it is down: the listener reconnects, and the re-check on `.listening`
    /// finds the move that no notification announced.
    func testMoveWhileListenerIsDownIsFoundOnReconnect() async throws {
        let (reg, dir) = try postgresRegistry()
        guard let psql = ["/usr/bin/psql"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("psql is not installed (Debian package postgresql-client)")
        }
        try register(reg, dir: dir, seeds: [1, 2])
        _ = try reg.setAlias("digits", alias: "production", version: 1)
        var config = ServeConfig(); config.pollInterval = .seconds(60); config.listenPollInterval = .seconds(60)
        let server = InferenceServer(config: config)
        try server.load(refs: ["digits@production"], registry: reg, loader: DenseModelLoader())
        let watcher = Task.detached { await server.watch(registry: reg, loader: DenseModelLoader()) }
        defer { watcher.cancel() }
        for _ in 0..<500 where !server.aliasListening.value { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(server.aliasListening.value, "LISTEN never became active")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: psql)
        p.arguments = [ProcessInfo.processInfo.environment["MLW_TEST_POSTGRES"] ?? "", "-qAtc",
                       "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%mlw_alias%'"]
        let out = Pipe(); p.standardOutput = out
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), "1")
        for _ in 0..<500 where server.aliasListening.value { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertFalse(server.aliasListening.value, "the lost connection was not noticed")
        _ = try reg.setAlias("digits", alias: "production", version: 2)
        for _ in 0..<1000 where server.slot("digits")?.current.primary.model.version != 2 { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(server.slot("digits")?.current.primary.model.version, 2)
        XCTAssertTrue(server.aliasListening.value)
    }

    func testWakeupReturnsOnSignalOrTimeout() async throws {
        let w = Wakeup()
        w.signal()   // kept for the next wait
        let start = ContinuousClock.now
        await w.wait(for: .seconds(30))
        Task { try await Task.sleep(for: .milliseconds(20)); w.signal() }
        await w.wait(for: .seconds(30))
        await w.wait(for: .milliseconds(10))   // nobody signals: the timeout ends it
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(30), "a wait ran to its 30 s timeout despite a signal")
    }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [AliasWatchEvent] = []
    var all: [AliasWatchEvent] { lock.withLock { events } }
    func add(_ e: AliasWatchEvent) { lock.withLock { events.append(e) } }
    func waitFor(_ condition: ([AliasWatchEvent]) -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
        for _ in 0..<1000 where !condition(all) { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(condition(all), "events: \(all)", file: file, line: line)
    }
}
