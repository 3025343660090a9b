import Foundation
import HTTPTypes
import Hummingbird
import JSON

/// A served model that recommends (ServeModels' `RecommenderServable`). Ids are the
/// model's own (integer ids travel as JSON numbers when `integerItems`/`integerUsers`).
public protocol RecommendingModel: ServableModel {
    var integerUsers: Bool { get }
    var integerItems: Bool { get }
    /// One answer per user id; unknown users get the popularity fallback (`known` false).
    func recommend(users: [String], k: Int, excludeSeen: Bool) throws -> [RecommendationAnswer]
    /// A cold-start user given the item ids they have.
    func recommend(items: [String], k: Int) throws -> RecommendationAnswer
    func similar(item: String, k: Int) throws -> RecommendationAnswer
}

public struct RecommendationAnswer: Equatable, Sendable {
    public var items: [String]
    public var scores: [Float]
    /// False when the user was unknown and popularity answered.
    public var known: Bool
    /// Popularity (user count) of each returned item, for the /metrics histogram.
    public var popularity: [Float]
    public init(items: [String], scores: [Float], known: Bool, popularity: [Float]) {
        self.items = items; self.scores = scores; self.known = known; self.popularity = popularity
    }
}

/// The query string's parameters (the last of a repeated name).
struct Query {
    let pairs: [(String, String)]
    init(_ req: Request) { pairs = req.uri.queryParameters.map { (String($0.key), String($0.value)) } }
    func get(_ name: String) -> String? { pairs.last { $0.0 == name }?.1 }
}

/// The most users or items one request may name, and the largest k.
let maxRecommendBatch = 10_000
let maxRecommendK = 10_000

/// `GET /recommend?user=U&k=10`, `POST /recommend` ({"users": [...]} or {"items": [...]} for
/// a cold-start user, "k", "exclude_seen"), `GET /similar?item=I&k=10`; `model=NAME`
/// picks the model when several are served.
extension InferenceServer {
    func recommendRoutes(_ on: (HTTPRequest.Method, String, @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) -> Void) {
        on(.get, "/recommend") { req, _ in
            try self.recommendCall(req, endpoint: "recommend") { m, q in
                guard let user = q.get("user") else { throw ServeError.badRequest("query parameter 'user' is missing") }
                let k = try Self.intParam(q.get("k"), "k", 10)
                let exclude = q.get("exclude_seen").map { $0 != "false" } ?? true
                let a = try m.recommend(users: [user], k: k, excludeSeen: exclude)[0]
                var w = JSONWriter()
                Self.writeAnswer(&w, a, m, user: user, integerUser: m.integerUsers)
                return (w.bytes, [a])
            }
        }
        on(.post, "/recommend") { req, _ in
            let body = try await self.readBody(req)
            return try self.recommendCall(req, endpoint: "recommend") { m, _ in
                let v: JSONValue
                do { v = try JSONParser.parse(body, maxDepth: 8) } catch { throw ServeError.badRequest("request body is not JSON: \(error)") }
                guard case .object(let fields) = v else { throw ServeError.badRequest("request body must be a JSON object") }
                func field(_ n: String) -> JSONValue? { fields.last { $0.0 == n }?.1 }
                var k = 10
                if let kv = field("k") {
                    guard case .int(let n) = kv else { throw ServeError.badRequest("field 'k' must be an integer") }
                    k = n
                }
                guard k >= 1, k <= maxRecommendK else { throw ServeError.badRequest("field 'k' must be in 1...\(maxRecommendK), got \(k)") }
                var exclude = true
                if let e = field("exclude_seen") {
                    guard case .bool(let b) = e else { throw ServeError.badRequest("field 'exclude_seen' must be true or false") }
                    exclude = b
                }
                func ids(_ name: String) throws -> [String]? {
                    guard let x = field(name) else { return nil }
                    guard case .array(let xs) = x else { throw ServeError.badRequest("field '\(name)' must be a list of ids") }
                    guard xs.count <= maxRecommendBatch else { throw ServeError.badRequest("field '\(name)' has \(xs.count) ids, more than \(maxRecommendBatch)") }
                    return try xs.enumerated().map { i, e in
                        switch e {
                        case .int(let n): return String(n)
                        case .string(let s): return s
                        default: throw ServeError.badRequest("field '\(name)[\(i)]' must be an integer or string id")
                        }
                    }
                }
                var w = JSONWriter()
                if let items = try ids("items") {
                    guard field("users") == nil else { throw ServeError.badRequest("give 'users' or 'items' (a cold-start user), not both") }
                    let a = try m.recommend(items: items, k: k)
                    Self.writeAnswer(&w, a, m, user: nil, integerUser: false)
                    return (w.bytes, [a])
                }
                guard let users = try ids("users") else { throw ServeError.badRequest("the body needs 'users' (a list of ids) or 'items' (a cold-start user's items)") }
                let answers = try m.recommend(users: users, k: k, excludeSeen: exclude)
                w.raw("{\"recommendations\":[")
                for (i, (u, a)) in zip(users, answers).enumerated() {
                    if i > 0 { w.raw(",") }
                    Self.writeAnswer(&w, a, m, user: u, integerUser: m.integerUsers)
                }
                w.raw("]}")
                return (w.bytes, answers)
            }
        }
        on(.get, "/similar") { req, _ in
            try self.recommendCall(req, endpoint: "similar") { m, q in
                guard let item = q.get("item") else { throw ServeError.badRequest("query parameter 'item' is missing") }
                let a = try m.similar(item: item, k: try Self.intParam(q.get("k"), "k", 10))
                var w = JSONWriter()
                Self.writeAnswer(&w, a, m, user: nil, integerUser: false)
                return (w.bytes, [])
            }
        }
    }

    static func intParam(_ text: String?, _ name: String, _ d: Int) throws -> Int {
        guard let text else { return d }
        guard let n = Int(text), n >= 1, n <= maxRecommendK else { throw ServeError.badRequest("query parameter '\(name)' must be an integer in 1...\(maxRecommendK), got '\(text)'") }
        return n
    }

    /// {"user": U, "items": [...], "scores": [...], "fallback": bool}
    static func writeAnswer(_ w: inout JSONWriter, _ a: RecommendationAnswer, _ m: RecommendingModel, user: String?, integerUser: Bool) {
        func id(_ s: String, _ integer: Bool) { if integer, let n = Int(s) { w.raw(String(n)) } else { w.string(s) } }
        w.raw("{")
        if let user { w.raw("\"user\":"); id(user, integerUser); w.raw(",") }
        w.raw("\"items\":[")
        for (i, s) in a.items.enumerated() { if i > 0 { w.raw(",") }; id(s, m.integerItems) }
        w.raw("],\"scores\":[")
        w.floats(a.scores[...])
        w.raw("],\"fallback\":\(!a.known)}")
    }

    /// Finds the recommending model (query `model`, else the only one served), runs `body`,
    /// counts the request and the returned items' popularity.
    func recommendCall(_ req: Request, endpoint: String,
                       _ body: (RecommendingModel, Query) throws -> ([UInt8], [RecommendationAnswer])) throws -> Response {
        let start = ContinuousClock.now
        let q = Query(req)
        var label = "unknown", version = ""
        do {
            let slots = allSlots.filter { $0.current.primary.model is RecommendingModel }
            let slot: ModelSlot
            if let name = q.get("model") {
                guard let s = self.slot(name) else { throw ServeError.notFound("unknown model '\(name)'") }
                guard s.current.primary.model is RecommendingModel else { throw ServeError.badRequest("model '\(name)' is not a recommender") }
                slot = s
            } else {
                guard slots.count == 1 else {
                    throw slots.isEmpty ? ServeError.notFound("no recommender is served")
                        : ServeError.badRequest("several recommenders are served: name one with ?model=NAME (\(slots.map(\.name).joined(separator: ", ")))")
                }
                slot = slots[0]
            }
            let served = slot.pick(requestID: req.headers[.requestID])
            guard let m = served.model as? RecommendingModel else { throw ServeError.badRequest("model '\(slot.name)' is not a recommender") }
            label = slot.name; version = String(m.version)
            let (bytes, answers) = try body(m, q)
            let hist = metrics.recorder("mlw_recommended_item_popularity", [("model", label)])
            for a in answers { for p in a.popularity { hist.record(Double(p)) } }
            metrics.request(model: label, version: version, endpoint: endpoint, status: 200, nanos: nanos(since: start))
            return json(bytes)
        } catch {
            metrics.request(model: label, version: version, endpoint: endpoint, status: ErrorMiddleware.status(of: error), nanos: nanos(since: start))
            throw error
        }
    }
}
