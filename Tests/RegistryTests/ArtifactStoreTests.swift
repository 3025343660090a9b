import Foundation
import XCTest
@testable import Registry

final class ArtifactStoreTests: XCTestCase {
    func testCheckReportsMissingAndTamperedFiles() throws {
        let registry = try makeRegistry()
        let a = try registry.storeArtifact(bytes: Data("aaaa".utf8))
        let b = try registry.storeArtifact(bytes: Data("bbbb".utf8))
        XCTAssertEqual(try registry.check(), [])
        try FileManager.default.removeItem(atPath: a.path!)
        try Data("BBBB".utf8).write(to: URL(fileURLWithPath: b.path!))
        let problems = try registry.check()
        XCTAssertEqual(problems.count, 2, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains(a.sha256) && $0.contains("missing") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains(b.sha256) && $0.contains("does not match") }, "\(problems)")
    }

    func testStaleTemporaryFilesAreRemovedOnOpen() throws {
        let root = try temporaryDirectory()
        let registry = try Registry.open(root: root)
        let stale = registry.artifactsDirectory.appendingPathComponent(".tmp-1-stale")
        let fresh = registry.artifactsDirectory.appendingPathComponent(".tmp-2-fresh")
        try Data("half".utf8).write(to: stale)
        try Data("half".utf8).write(to: fresh)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: stale.path)
        _ = try Registry.open(root: root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh.path), "a young temp file may be in use")
    }

    func testLargeFileStreamsThroughTheStore() throws {
        let registry = try makeRegistry()
        let url = try temporaryDirectory().appendingPathComponent("big.bin")
        let bytes = Data((0..<(3 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try bytes.write(to: url)
        let art = try registry.storeArtifact(file: url)
        XCTAssertEqual(art.size, Int64(bytes.count))
        XCTAssertEqual(art.sha256, SHA256.hex(bytes))
        XCTAssertEqual(try registry.artifact(sha256: art.sha256).size, art.size)
        assertThrows(.unknownArtifact("ab")) { try registry.artifact(sha256: "ab") }
    }
}
