import XCTest
@testable import Frames

final class SplitLineageTests: XCTestCase {
    func iris() throws -> Dataset {
        try readCSV(repoRoot + "/Scripts/data/iris.csv", options: CSVOptions(label: "species"))
    }

    func counts(_ ds: Dataset) -> [String: Int] {
        var c: [String: Int] = [:]
        for s in ds["species"]!.strings! { c[s!, default: 0] += 1 }
        return c
    }

    func testStratifiedProportions() throws {
        let p = try split(try iris(), train: 0.7, val: 0.15, test: 0.15, stratify: true, seed: 42)
        XCTAssertEqual(p.train.rowCount + p.val.rowCount + p.test.rowCount, 150)
        XCTAssertEqual(counts(p.train), ["setosa": 35, "versicolor": 35, "virginica": 35])
        XCTAssertEqual(p.val.rowCount, 23)   // 22.5 each: the tie goes to the earlier part
        XCTAssertEqual(p.test.rowCount, 22)
        XCTAssertTrue(counts(p.val).values.allSatisfy { (7...8).contains($0) })
        XCTAssertTrue(counts(p.test).values.allSatisfy { (7...8).contains($0) })
        // No row in two parts.
        let lines = p.train.sourceLines + p.val.sourceLines + p.test.sourceLines
        XCTAssertEqual(Set(lines).count, 150)
    }

    func testSmallClassesStillFillEveryPart() throws {
        // 3 classes x 5 rows at 70/15/15: per-class rounding would give val and test 0 rows.
        let text = "x,y\n" + (0..<15).map { "\($0),\(["a", "b", "c"][$0 % 3])" }.joined(separator: "\n") + "\n"
        let ds = try readCSV(tempFile(text), options: CSVOptions(label: "y"))
        let p = try split(ds, train: 0.7, val: 0.15, test: 0.15, stratify: true, seed: 3)
        XCTAssertEqual([p.train.rowCount, p.val.rowCount, p.test.rowCount], [11, 2, 2])
        XCTAssertEqual(allocate([5, 5, 5], [0.7, 0.15, 0.15, 0]).map { $0.reduce(0, +) }, [5, 5, 5])
        // Fractions under 1 leave rows out, in proportion.
        let q = try split(ds, train: 0.4, val: 0.2, test: 0.2, seed: 1)
        XCTAssertEqual([q.train.rowCount, q.val.rowCount, q.test.rowCount], [6, 3, 3])
    }

    func testSeedDeterminism() throws {
        let ds = try iris()
        let a = try split(ds, train: 0.8, seed: 1), b = try split(ds, train: 0.8, seed: 1), c = try split(ds, train: 0.8, seed: 2)
        XCTAssertEqual(a.train, b.train)
        XCTAssertNotEqual(a.train.sourceLines, c.train.sourceLines)
        XCTAssertEqual(a.test.rowCount, 30)
        XCTAssertEqual(ds.shuffled(seed: 5), ds.shuffled(seed: 5))
        XCTAssertNotEqual(ds.shuffled(seed: 5).sourceLines, ds.shuffled(seed: 6).sourceLines)
        // The generator's stream is fixed forever: scripts re-run bit for bit.
        var g = SplitMix64(seed: 0)
        XCTAssertEqual(g.next(), 0xE220A8397B1DCDAF)
        XCTAssertEqual(dataError { _ = try split(ds, train: 0.8, val: 0.5) }?.kind, .badArgument)
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var h = SHA256()
        for _ in 0..<1000 { h.update(String(repeating: "a", count: 1000)) }
        XCTAssertEqual(h.finalizeHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testLineageStableAndSensitive() throws {
        let text = "a,b\n1,2\n3,4\n"
        let h1 = try readCSV(tempFile(text)).lineage.hash
        let h2 = try readCSV(tempFile(text)).lineage.hash
        XCTAssertEqual(h1, h2)  // same bytes, other path: same hash
        XCTAssertNotEqual(h1, try readCSV(tempFile("a,b\n1,2\n3,5\n")).lineage.hash)  // one byte
        XCTAssertNotEqual(h1, try readCSV(tempFile(text), options: CSVOptions(types: ["a": .float])).lineage.hash)
        let ds = try readCSV(tempFile(text))
        let s1 = try split(ds, train: 0.5, seed: 1).train.lineage
        XCTAssertEqual(s1.hash, try split(ds, train: 0.5, seed: 1).train.lineage.hash)
        XCTAssertNotEqual(s1.hash, try split(ds, train: 0.5, seed: 2).train.lineage.hash)
        XCTAssertEqual(s1.steps.map(\.op), ["read_csv", "split"])
        let p = try fitTransforms(ds, [.standardize()])
        let q = try fitTransforms(try readCSV(tempFile("a,b\n1,2\n3,9\n")), [.standardize()])
        XCTAssertNotEqual(try p.apply(to: ds).lineage.hash, try q.apply(to: ds).lineage.hash)
        // Golden value: the hash must not drift across runs, machines or releases.
        XCTAssertEqual(ds.lineage.sources, [SHA256.hex(text)])
        XCTAssertEqual(h1, "4c2f189cbf630324e96d0a57f313726a07cbd13dd2a192db0436ea3d9eb9e24e")
    }
}
