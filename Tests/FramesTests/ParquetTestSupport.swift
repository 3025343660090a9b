import Foundation
import JSON
import XCTest
@testable import Frames

/// Shared by the Parquet tests: the committed fixtures, the Python peer, and comparing a
/// dataset with the values pyarrow read back (NAME.json beside NAME.parquet).
enum ParquetTestSupport {
    static let fixtures = repoRoot + "/Tests/FramesTests/Fixtures/parquet"
    static let script = repoRoot + "/Tests/FramesTests/Python/parquet_fixtures.py"

    static var python: String? {
        let env = ProcessInfo.processInfo.environment["MLW_PYTHON"]
        for p in [env, repoRoot + "/.venv/bin/python"].compactMap({ $0 }) where FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        return nil
    }

    /// Runs Python with `args`; returns standard output, failing the test on a non-zero exit.
    @discardableResult
    static func runPython(_ args: [String]) throws -> String {
        guard let python else { throw XCTSkip("no Python (set MLW_PYTHON)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw XCTSkip("python failed (\(p.terminationStatus)): \(String(decoding: errData, as: UTF8.self).suffix(2000))")
        }
        return text
    }

    static func tempDir() -> String {
        let d = NSTemporaryDirectory() + "mlw-parquet-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Every `*.parquet` in `dir` read by MLW equals its `.json` (pyarrow's values).
    static func checkAll(in dir: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".parquet") }.sorted()
        for name in names {
            let path = dir + "/" + name
            let ds = try readParquet(path)
            try compare(ds, json: String(path.dropLast(".parquet".count)) + ".json", label: name, file: file, line: line)
        }
        return names.count
    }

    static func compare(_ ds: Dataset, json: String, label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: json)))
        guard case .object(let top) = try bytes.withUnsafeBytes({ try JSONParser.parse($0) }) else { return XCTFail("bad json") }
        func field(_ k: String) -> JSONValue? { top.first { $0.0 == k }?.1 }
        guard case .array(let names)? = field("columns"), case .int(let rows)? = field("rows"),
              case .object(let values)? = field("values") else { return XCTFail("bad json") }
        XCTAssertEqual(ds.columnNames, names.map { if case .string(let s) = $0 { return s }; return "?" }, label, file: file, line: line)
        XCTAssertEqual(ds.rowCount, rows, label, file: file, line: line)
        for (name, list) in values {
            let col = try ds.column(name)
            guard case .array(let want) = list else { return XCTFail("bad json") }
            var bad = 0
            for r in 0..<ds.rowCount {
                let got = col.value(at: r), w = want[r]
                let ok: Bool
                switch (got, w) {
                case (.null, .null): ok = true
                case (.int(let g), .int(let n)): ok = g == n
                case (.double(let g), .double(let n)): ok = g == n
                case (.double(let g), .int(let n)): ok = g == Double(n)
                case (.string(let g), .string(let s)): ok = g == s
                default: ok = false
                }
                if !ok {
                    bad += 1
                    if bad <= 3 { XCTFail("\(label) column \(name) row \(r): MLW \(got), pyarrow \(w)", file: file, line: line) }
                }
            }
        }
    }
}

