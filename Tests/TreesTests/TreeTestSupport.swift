import Foundation
import XCTest
@testable import Trees

/// Synthetic tables (fixed seeds) and the Python peer for cross-checks.
enum TreeFixtures {
    /// Normal draws from the tree family's generator (Box-Muller).
    static func normals(_ n: Int, seed: UInt64) -> [Double] {
        var r = SplitMixRNG(seed: seed)
        return (0..<n).map { _ in
            let u = Swift.max(r.unit(), 1e-12), v = r.unit()
            return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
        }
    }

    /// rows × features; binary label from a nonlinear rule plus noise; feature 3 has ~5% NaN when `missing`.
    static func classification(rows: Int, features: Int = 8, seed: UInt64 = 1, missing: Bool = false) -> TreeData {
        let z = normals(rows * features, seed: seed), e = normals(rows, seed: seed + 100)
        var x = z.map { Float($0) }, y = [Float](repeating: 0, count: rows)
        var r = SplitMixRNG(seed: seed + 7)
        for i in 0..<rows {
            let a = z[i * features], b = z[i * features + 1], c = z[i * features + 2], d = z[i * features + 3]
            let s = a + 0.8 * b * b - 1.2 * c * d + 0.5 * (d > 0.3 ? 1 : 0) + 0.7 * e[i]
            y[i] = s > 0.6 ? 1 : 0
            if missing && r.unit() < 0.05 { x[i * features + 3] = .nan }
        }
        return TreeData(x: x, y: y, rows: rows, features: features)
    }

    static func regression(rows: Int, features: Int = 6, seed: UInt64 = 2) -> TreeData {
        let z = normals(rows * features, seed: seed), e = normals(rows, seed: seed + 100)
        var y = [Float](repeating: 0, count: rows)
        for i in 0..<rows {
            let a = z[i * features], b = z[i * features + 1], c = z[i * features + 2]
            y[i] = Float(3 * a + 2 * Foundation.sin(2 * b) + a * c + 0.3 * e[i])
        }
        return TreeData(x: z.map { Float($0) }, y: y, rows: rows, features: features)
    }

    static func multiclass(rows: Int, features: Int = 5, seed: UInt64 = 3) -> TreeData {
        let z = normals(rows * features, seed: seed), e = normals(rows, seed: seed + 100)
        var y = [Float](repeating: 0, count: rows)
        for i in 0..<rows {
            let s = z[i * features] + 0.5 * z[i * features + 1] * z[i * features + 2] + 0.4 * e[i]
            y[i] = s < -0.5 ? 0 : s < 0.5 ? 1 : 2
        }
        return TreeData(x: z.map { Float($0) }, y: y, rows: rows, features: features)
    }

    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// The Python peer with `modules` importable, or skip (fail on CI).
    static func python(_ modules: String) throws -> String {
        let env = ProcessInfo.processInfo.environment
        let py = env["MLW_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
        if FileManager.default.isExecutableFile(atPath: py), (try? shell(py, ["-c", "import \(modules)"])) != nil { return py }
        if env["CI"] == "true" { XCTFail("CI: \(modules) missing for \(py)") }
        throw XCTSkip("\(modules) not installed (python \(py))")
    }

    @discardableResult
    static func shell(_ exe: String, _ args: [String]) throws -> String {
        let p = Process(); p.executableURL = URL(fileURLWithPath: exe); p.arguments = args
        let out = Pipe(), err = Pipe(); p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NSError(domain: "python", code: 1, userInfo: [NSLocalizedDescriptionKey: String(decoding: e, as: UTF8.self)]) }
        return String(decoding: o, as: UTF8.self)
    }

    /// Writes x (rows × features, NaN as empty) and y as a headerless CSV, label last.
    static func writeCSV(_ d: TreeData, _ path: String) throws {
        var s = ""
        for i in 0..<d.rows {
            s += (0..<d.features).map { f -> String in let v = d.x[i * d.features + f]; return v.isNaN ? "nan" : "\(v)" }.joined(separator: ",")
            s += ",\(d.y[i])\n"
        }
        try s.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func tempDir(_ label: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-trees-\(getpid())-\(label)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// The port `mlw serve --port 0` reports on stderr (`port=N`), read within 30 s; the test
/// is skipped when the server never says it.
func servedPort(_ serr: Pipe) throws -> Int {
    var seen = "", port = 0
    let deadline = Date().addingTimeInterval(30)
    while port == 0, Date() < deadline {
        let chunk = serr.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        seen += String(decoding: chunk, as: UTF8.self)
        if let m = seen.range(of: #"port=(\d+)"#, options: .regularExpression) { port = Int(seen[m].dropFirst(5)) ?? 0 }
    }
    guard port > 0 else { throw XCTSkip("server did not start: \(seen)") }
    return port
}
