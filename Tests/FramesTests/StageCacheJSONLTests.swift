import XCTest
@testable import Frames

final class StageCacheJSONLTests: XCTestCase {
    func testKeyDependsOnEverything() {
        let c = StageCache(root: "/tmp/x")
        let k = c.key(name: "prepare", inputHashes: ["a", "b"], codeHash: "c", params: ["seed": "1", "lr": "0.1"])
        XCTAssertEqual(k, c.key(name: "prepare", inputHashes: ["a", "b"], codeHash: "c", params: ["lr": "0.1", "seed": "1"]))
        XCTAssertEqual(k.count, 64)
        for other in [c.key(name: "prep", inputHashes: ["a", "b"], codeHash: "c", params: ["seed": "1", "lr": "0.1"]),
                      c.key(name: "prepare", inputHashes: ["b", "a"], codeHash: "c", params: ["seed": "1", "lr": "0.1"]),
                      c.key(name: "prepare", inputHashes: ["a", "b"], codeHash: "d", params: ["seed": "1", "lr": "0.1"]),
                      c.key(name: "prepare", inputHashes: ["a", "b"], codeHash: "c", params: ["seed": "2", "lr": "0.1"]),
                      c.key(name: "prepare", inputHashes: ["ab"], codeHash: "c", params: ["seed": "1", "lr": "0.1"])] {
            XCTAssertNotEqual(k, other)
        }
    }

    func testStoreLoadAtomically() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-cache-\(UUID().uuidString)").path
        let c = StageCache(root: root)
        let k = c.key(name: "s", inputHashes: [], codeHash: "x")
        XCTAssertNil(try c.load(key: k))
        XCTAssertFalse(c.contains(key: k))
        let blob = Data((0..<100_000).map { UInt8($0 & 0xff) })
        try c.store(key: k, data: blob)
        XCTAssertEqual(try c.load(key: k), blob)
        try c.store(key: k, data: Data([1, 2, 3]))  // overwrite
        XCTAssertEqual(try c.load(key: k), Data([1, 2, 3]))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root + "/" + String(k.prefix(2)))
        XCTAssertEqual(leftovers, [k + ".bin"])  // no temp files left behind
        try c.remove(key: k)
        XCTAssertNil(try c.load(key: k))
        XCTAssertEqual(dataError { _ = try c.load(key: "../../etc/passwd") }?.kind, .badArgument)
    }

    func testJSONL() throws {
        let path = tempFile("{\"x\": 1, \"s\": \"a\"}\n\n{\"x\": 2.5, \"s\": \"a\", \"y\": true}\r\n{\"s\": null, \"x\": 3}\n", name: "t.jsonl")
        let ds = try readJSONL(path)
        XCTAssertEqual(ds.columnNames, ["s", "x", "y"])
        XCTAssertEqual(ds.sourceLines, [1, 3, 4])
        XCTAssertEqual(try ds.column("x").data, .float([1, 2.5, 3]))
        XCTAssertEqual(try ds.column("y").missing, [true, false, true])
        XCTAssertEqual(try ds.column("s").missing, [false, false, true])
        let bad = tempFile("{\"x\": 1}\n{\"x\": \n", name: "bad.jsonl")
        let e = dataError { _ = try readJSONL(bad) }
        XCTAssertEqual(e?.kind, .badJSON)
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(dataError { _ = try readJSONL(tempFile("[1]\n", name: "arr.jsonl")) }?.kind, .badJSON)
    }
}

final class FileHashCacheTests: XCTestCase {
    func testCachedHashMatchesAndFollowsChanges() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-fh-\(UUID().uuidString)").path
        let cache = FileHashCache(root: root)
        let path = tempFile("a,b\n1,2\n")
        let old = Date(timeIntervalSinceNow: -3600)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
        let h1 = try cache.hash(ofFile: path)
        XCTAssertEqual(h1, SHA256.hex("a,b\n1,2\n"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root))  // remembered (file is old)
        XCTAssertEqual(try cache.hash(ofFile: path), h1)             // from the cache
        // A content change changes the stat, so the hash is recomputed.
        try Data("a,b\n1,3\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try cache.hash(ofFile: path), SHA256.hex("a,b\n1,3\n"))
        var o = CSVOptions(); o.fileHashCache = cache
        XCTAssertEqual(try readCSV(path, options: o).lineage, try readCSV(path).lineage)
    }
}
