import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Compress
import Serve
import ServeModels
import Train
import XCTest
@testable import Recommend

/// A served recommender answers /recommend, /similar and V2 infer exactly as `Recommender`
/// does in process (the same model file round trip `mlw serve` makes).
final class ServeRecommendTests: XCTestCase {
    func served(int8: Bool = false) throws -> (Recommender, InferenceServer) {
        let x = try plantedInteractions(users: 60)
        var o = FactorOptions(); o.factors = 6; o.iterations = 4; o.alpha = 10; o.l2 = 0.1
        let fitted = try Recommend.als(x, o)
        // int8: the served model is `quantize(model)` (int8 item matrix, int8 scoring GEMM).
        let r = int8 ? try Recommender(try quantize(fitted.model)) : fitted
        XCTAssertEqual(r.quantized != nil, int8)
        let path = NSTemporaryDirectory() + "mlw-rec-\(getpid()).mlwm"
        try save(r.model, path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let m = try MLWModelLoader().load(artifactPath: path, name: "rec", version: 1)
        XCTAssertTrue(m is RecommenderServable)
        let s = InferenceServer(config: ServeConfig())
        try s.add(m)
        return (r, s)
    }

    func get(_ c: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil) async throws -> (Int, [String: Any]) {
        try await c.execute(uri: uri, method: method, headers: [:], body: body.map { ByteBuffer(string: $0) }) { r in
            (Int(r.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any]) ?? [:])
        }
    }

    func testServedAnswersEqualRecommend() async throws { try await checkServed(int8: false) }
    func testServedInt8AnswersEqualRecommend() async throws { try await checkServed(int8: true) }

    func checkServed(int8: Bool) async throws {
        let (r, s) = try served(int8: int8)
        let app = s.application()
        try await app.test(.router) { c in
            // One user by id; integer item ids come back as numbers.
            let want = try r.recommend(users: [r.userIndex("u3")], k: 5, excludeSeen: true)[0]
            let (st, one) = try await get(c, .get, "/recommend?user=u3&k=5")
            XCTAssertEqual(st, 200)
            XCTAssertEqual(one["items"] as? [Int], want.items.map { Int(r.meta.items.ids[$0])! })
            XCTAssertEqual(one["fallback"] as? Bool, false)
            XCTAssertEqual((one["scores"] as? [Double])?.map { Float($0) } ?? [], want.scores)
            // A batch, with an unknown user answered by popularity.
            let (st2, batch) = try await get(c, .post, "/recommend", #"{"users": ["u1", "u7", "stranger"], "k": 4}"#)
            XCTAssertEqual(st2, 200)
            let recs = batch["recommendations"] as? [[String: Any]] ?? []
            XCTAssertEqual(recs.count, 3)
            for (i, u) in ["u1", "u7"].enumerated() {
                let w = try r.recommend(users: [r.userIndex(u)], k: 4, excludeSeen: true)[0]
                XCTAssertEqual(recs[i]["items"] as? [Int], w.items.map { Int(r.meta.items.ids[$0])! })
            }
            XCTAssertEqual(recs[2]["fallback"] as? Bool, true)
            XCTAssertEqual(recs[2]["items"] as? [Int], r.popular(4).items.map { Int(r.meta.items.ids[$0])! })
            // A cold-start user as a list of items.
            let (st3, cold) = try await get(c, .post, "/recommend", #"{"items": [30, 31, 33], "k": 3}"#)
            XCTAssertEqual(st3, 200)
            let wc = try r.recommend(items: [30, 31, 33].map { r.itemIndex(String($0))! }, k: 3)
            XCTAssertEqual(cold["items"] as? [Int], wc.items.map { Int(r.meta.items.ids[$0])! })
            // Similar items.
            let (st4, sim) = try await get(c, .get, "/similar?item=3&k=4")
            XCTAssertEqual(st4, 200)
            XCTAssertEqual(sim["items"] as? [Int], try r.similarItems(r.itemIndex("3")!, k: 4).items.map { Int(r.meta.items.ids[$0])! })
            // V2: user indices in, item indices then scores out.
            let (st5, v2) = try await get(c, .post, "/v2/models/rec/infer",
                                          #"{"inputs":[{"name":"user","shape":[2,1],"datatype":"FP32","data":[0,9]}]}"#)
            XCTAssertEqual(st5, 200)
            let out = ((v2["outputs"] as? [[String: Any]])?.first?["data"] as? [Double]) ?? []
            let k = Recommender.graphK
            XCTAssertEqual(out.count, 4 * k)
            for (row, u) in [0, 9].enumerated() {
                let w = try r.recommend(users: [u], k: k, excludeSeen: true)[0]
                XCTAssertEqual(out[(row * 2 * k)..<(row * 2 * k + k)].map { Int($0) }, w.items)
            }
            // Errors name the field.
            let (e1, b1) = try await get(c, .get, "/recommend?k=3")
            XCTAssertEqual(e1, 400); XCTAssertTrue((b1["error"] as? String ?? "").contains("'user'"))
            let (e2, b2) = try await get(c, .post, "/recommend", #"{"users": [1.5]}"#)
            XCTAssertEqual(e2, 400); XCTAssertTrue((b2["error"] as? String ?? "").contains("users[0]"))
            let (e3, _) = try await get(c, .get, "/similar?item=nope")
            XCTAssertEqual(e3, 404)
            let (e4, b4) = try await get(c, .get, "/recommend?user=u1&k=0")
            XCTAssertEqual(e4, 400); XCTAssertTrue((b4["error"] as? String ?? "").contains("'k'"))
        }
    }
}
