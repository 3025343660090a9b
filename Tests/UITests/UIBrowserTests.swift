import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Registry
import XCTest

/// A real `mlw ui` (and a real `mlw serve` for the serving page) on a registry filled with 3
/// runs, loaded by headless Chromium: the DOM after scripts ran shows the sorted table and the
/// curves; a screenshot of each page goes to $MLW_UI_SCREENSHOT_DIR (default: a temporary
/// folder; Docs/images holds the committed ones). Skipped without Chromium.
final class UIBrowserTests: XCTestCase {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    static var mlw: URL {
        var dir = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("mlw")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/mlw")
    }

    /// Starts `mlw ARGS`, waits for `pattern` on the given stream and returns the process and the
    /// first capture (the port).
    func start(_ args: [String], env: [String: String], stderr useStderr: Bool, pattern: String) throws -> (Process, Int) {
        let p = Process()
        p.executableURL = Self.mlw
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let pipe = Pipe()
        if useStderr { p.standardError = pipe; p.standardOutput = FileHandle.nullDevice } else { p.standardOutput = pipe; p.standardError = FileHandle.nullDevice }
        try p.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let r = seen.range(of: pattern, options: .regularExpression) {
                let digits = seen[r].reversed().prefix { $0.isNumber }.reversed()
                return (p, Int(String(digits)) ?? 0)
            }
        }
        p.terminate(); p.waitUntilExit()
        XCTFail("mlw \(args.joined(separator: " ")) did not start: \(seen)")
        return (p, 0)
    }

    func chromium(_ args: [String], profile: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chromium!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                       "--hide-scrollbars", "--user-data-dir=\(profile.path)"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func testChromiumShowsSortedRunsCurvesAndEveryPage() throws {
        guard Self.chromium != nil else { throw XCTSkip("chromium is not installed") }
        guard FileManager.default.isExecutableFile(atPath: Self.mlw.path) else { throw XCTSkip("mlw is not built") }
        let filled = try UIFixture.fill()
        defer { try? FileManager.default.removeItem(at: filled.root) }
        let profile = UIFixture.tempRoot()
        defer { try? FileManager.default.removeItem(at: profile) }
        let shots = URL(fileURLWithPath: ProcessInfo.processInfo.environment["MLW_UI_SCREENSHOT_DIR"]
                        ?? FileManager.default.temporaryDirectory.appendingPathComponent("mlw-ui-screenshots").path)
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)

        // A real server for the serving page, with a few requests answered.
        let (serve, servePort) = try start(["serve", "iris@production", "--port", "0"], env: ["MLW_HOME": filled.root.path],
                                           stderr: true, pattern: #"port=\d+"#)
        defer { if serve.isRunning { serve.terminate(); serve.waitUntilExit() } }
        XCTAssertGreaterThan(servePort, 0)
        for i in 0..<5 {
            var req = URLRequest(url: URL(string: "http://127.0.0.1:\(servePort)/v2/models/iris/infer")!)
            req.httpMethod = "POST"
            req.httpBody = Data(#"{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","data":[1,2,3,\#(i),0,1,0,1]}]}"#.utf8)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
            _ = try? syncRequest(req)
        }

        let (ui, port) = try start(["ui", "--registry", filled.root.path, "--port", "0", "--token", "t0ken",
                                    "--serve-url", "http://127.0.0.1:\(servePort)"], env: [:], stderr: false,
                                   pattern: #"listening on http://127\.0\.0\.1:\d+"#)
        defer { if ui.isRunning { ui.terminate(); ui.waitUntilExit() } }
        XCTAssertGreaterThan(port, 0)
        let base = "http://127.0.0.1:\(port)"

        // The runs table sorted by a metric, after the page's script ran.
        let dom = try chromium(["--virtual-time-budget=2000", "--dump-dom", "\(base)/?sort=metric:test_accuracy&dir=desc"], profile: profile)
        let ids = filled.runs
        XCTAssertEqual(rowIDs(dom), [ids[1], ids[2], ids[0]], dom)
        XCTAssertTrue(dom.contains("Compare selected (pick 2 or more)"), "ui.js ran")
        XCTAssertTrue(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))

        // The run page's curves: SVG polylines with their points.
        let run = try chromium(["--dump-dom", "\(base)/runs/\(ids[0])"], profile: profile)
        let polylines = run.components(separatedBy: "<polyline").dropFirst()
        XCTAssertEqual(polylines.count, 3)
        XCTAssertTrue(polylines.allSatisfy { $0.contains("points=\"") && $0.contains(",") })

        let pages: [(String, String, Int)] = [
            ("runs", "/", 2000), ("run", "/runs/\(ids[0])", 2000), ("compare", "/compare?runs=\(ids[0]),\(ids[1]),\(ids[2])", 2000),
            ("models", "/models", 1000), ("model", "/models/iris", 1000), ("serving", "/serving", 4000),
        ]
        for (name, path, budget) in pages {
            let file = shots.appendingPathComponent("ui-\(name).png")
            try? FileManager.default.removeItem(at: file)
            _ = try chromium(["--window-size=1280,900", "--virtual-time-budget=\(budget)", "--screenshot=\(file.path)", base + path], profile: profile)
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            XCTAssertGreaterThan(size, 10_000, "screenshot of \(path)")
        }
        let serving = try chromium(["--virtual-time-budget=4000", "--dump-dom", "\(base)/serving"], profile: profile)
        XCTAssertTrue(serving.contains("<td>iris</td>"), serving)
    }
}

/// A blocking HTTP request (URLSession's async API inside a sync test).
func syncRequest(_ req: URLRequest) throws -> Data {
    final class Box: @unchecked Sendable { var data: Data?; var error: Error? }
    let box = Box(), done = DispatchSemaphore(value: 0)
    URLSession.shared.dataTask(with: req) { d, _, e in box.data = d; box.error = e; done.signal() }.resume()
    done.wait()
    if let e = box.error { throw e }
    return box.data ?? Data()
}
