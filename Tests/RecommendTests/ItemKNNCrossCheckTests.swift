import Foundation
import XCTest
@testable import Recommend

/// Item kNN neighbours against the `implicit` package's CosineRecommender and
/// BM25Recommender (K1 1.2, B 0.75) on the same counts: every item's top-k similarity
/// values equal implicit's, and each neighbour MLW names has implicit's similarity (an index
/// may differ only where two neighbours tie at the k-th value). Skipped without implicit.
final class ItemKNNCrossCheckTests: XCTestCase {
    static let script = #"""
import json, sys
import numpy as np, scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender, BM25Recommender
d = json.load(open(sys.argv[1]))
r, c, v = zip(*d["entries"])
m = sp.csr_matrix((np.array(v, dtype=np.float64), (np.array(r), np.array(c))), shape=(d["users"], d["items"]))
out = {}
for name, model in [("cosine", CosineRecommender(K=d["k"], num_threads=1)), ("bm25", BM25Recommender(K=d["k"], K1=1.2, B=0.75, num_threads=1))]:
    model.fit(m, show_progress=False)
    s = model.similarity.tocsr()
    out[name] = [{str(j): float(x) for j, x in zip(s[i].indices.tolist(), s[i].data.tolist())} for i in range(d["items"])]
print(json.dumps(out))
"""#

    func testNeighboursEqualImplicit() throws {
        let py = try implicitPython()
        // Counts above 1 (repeated pairs) so the weights matter.
        var x = try plantedInteractions(users: 400, clusters: 4, itemsPerCluster: 30, per: 9, seed: 5, skew: true)
        x = try Interactions(users: x.triples.flatMap { t in Array(repeating: t.user, count: 1 + Int(t.item)! % 3) },
                             items: x.triples.flatMap { t in Array(repeating: t.item, count: 1 + Int(t.item)! % 3) },
                             integerUsers: false, integerItems: true, values: nil, times: nil)
        let k = 12
        var entries: [[Double]] = []
        for u in 0..<x.users.count { for e in x.byUser.range(u) { entries.append([Double(u), Double(x.byUser.indices[e]), Double(x.byUser.values[e])]) } }
        let doc: [String: Any] = ["users": x.users.count, "items": x.items.count, "k": k, "entries": entries]
        let path = NSTemporaryDirectory() + "mlw-knn-\(getpid()).json"
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: py)
        p.arguments = ["-c", Self.script, path]
        let pipe = Pipe(), err = Pipe()
        p.standardOutput = pipe; p.standardError = err
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, errText)
        let out = try JSONSerialization.jsonObject(with: data) as! [String: [[String: Double]]]
        for (name, bm25) in [("cosine", false), ("bm25", true)] {
            let mine = try fitItemKNN(x, k: k, bm25: bm25)
            let theirs = out[name]!
            var named = 0, tied = 0
            for i in 0..<x.items.count {
                let t = theirs[i]
                let mv = mine.row(i).map { Double(mine.values[$0]) }, tv = t.values.sorted(by: >)
                XCTAssertEqual(mv.count, tv.count, "\(name) item \(i)")
                for (a, b) in zip(mv, tv) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)), "\(name) item \(i)") }
                let kth = tv.last ?? 0
                for e in mine.row(i) {
                    if let s = t[String(mine.indices[e])] { XCTAssertEqual(Double(mine.values[e]), s, accuracy: 1e-4 * max(1, abs(s))); named += 1 }
                    else { XCTAssertEqual(Double(mine.values[e]), kth, accuracy: 1e-4 * max(1, abs(kth)), "\(name) item \(i): neighbour \(mine.indices[e]) not a tie"); tied += 1 }
                }
            }
            print("\(name): \(named) neighbours as implicit, \(tied) differing only at a tie")
            XCTAssertGreaterThan(named, 0)
        }
    }
}

/// MLW_PYTHON (else .venv/bin/python) when it has the implicit package; skips otherwise.
func implicitPython() throws -> String {
    let env = ProcessInfo.processInfo.environment
    let py = env["MLW_PYTHON"] ?? ImplicitCrossCheckTests.root.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: py) else { throw XCTSkip("no Python with implicit (set MLW_PYTHON)") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: py)
    p.arguments = ["-c", "import implicit"]
    p.standardError = FileHandle.nullDevice
    try p.run(); p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw XCTSkip("the Python at \(py) has no implicit package") }
    return py
}

/// The fit is sparse: 20 000 items (a dense items x items matrix would be 1.6 GB) in a
/// few MB, every row at most k long, best first, with cosine 1 (the item itself) on top.
final class ItemKNNScaleTests: XCTestCase {
    func testTwentyThousandItems() throws {
        var rng = Support_SplitMix(9)
        var us: [String] = [], its: [String] = []
        for u in 0..<4000 { for _ in 0..<12 { us.append("u\(u)"); its.append(String(rng.next() % 20_000)) } }
        let x = try Interactions(users: us, items: its, integerUsers: false, integerItems: true, values: nil, times: nil)
        XCTAssertGreaterThan(x.items.count, 10_000)
        let m = try fitItemKNN(x, k: 8, bm25: false)
        XCTAssertEqual(m.indptr.count, x.items.count + 1)
        for i in 0..<x.items.count {
            let r = m.row(i)
            XCTAssertTrue(r.count >= 1 && r.count <= 8)
            // The item itself (cosine 1) or another item with the same users (also 1, lower index) leads.
            XCTAssertEqual(m.values[r.lowerBound], 1, accuracy: 1e-5)
            if let e = r.first(where: { Int(m.indices[$0]) == i }) { XCTAssertEqual(m.values[e], 1, accuracy: 1e-5) }
            for e in r.dropFirst() { XCTAssertLessThanOrEqual(m.values[e], m.values[e - 1]) }
        }
    }
}
