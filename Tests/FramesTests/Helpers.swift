import Foundation
import XCTest
@testable import Frames

/// The repository root, found from this source file's path (fixtures are not bundle
/// resources, so the test target needs no resource declarations).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
/// Deliberately broken CSVs for reader tests.
let fixturesDir = repoRoot + "/Scripts/data/broken"

func fixture(_ name: String) -> String { fixturesDir + "/" + name }

/// Writes `bytes` to a fresh temp file and returns its path.
func tempFile(_ text: String, name: String = "t.csv") -> String { tempFile(bytes: Array(text.utf8), name: name) }

func tempFile(bytes: [UInt8], name: String = "t.csv") -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-data-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

func dataError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> DataError? {
    do { try body() } catch let e as DataError { return e } catch { XCTFail("unexpected error \(error)", file: file, line: line); return nil }
    XCTFail("expected an error", file: file, line: line)
    return nil
}
