import Foundation
import Recommend
import Serve
import Tensor
import Train

/// A recommender model served: `/recommend`, `/similar` (Serve's RecommendRoutes) and V2
/// infer. V2 takes user indices (positions in the model's user map) [N, 1] and returns
/// `recommendations` [N, 2k]: the k item indices (positions in the item map), then their
/// scores, seen items excluded; an index outside the map gets the most popular items.
public final class RecommenderServable: RecommendingModel, @unchecked Sendable {
    public let name: String
    public let version: Int
    public let inputs: [TensorSpec]
    public let outputs: [TensorSpec]
    public let task = ServeTask(kind: "ranking", stored: true)
    public let recommender: Recommender
    /// The k of V2 answers.
    public let k: Int

    public init(_ model: Model, name: String, version: Int, k: Int = Recommender.graphK) throws {
        recommender = try Recommender(model)
        self.name = name; self.version = version
        self.k = Swift.min(k, recommender.itemCount)
        inputs = [TensorSpec(name: "user", shape: [-1, 1])]
        outputs = [TensorSpec(name: "recommendations", shape: [-1, 2 * self.k])]
    }

    public var integerUsers: Bool { recommender.meta.users.integer }
    public var integerItems: Bool { recommender.meta.items.integer }

    public func predict(_ batch: Tensor) throws -> Tensor {
        let v = batch.astype(.float32).toFloats()
        let users: [Int?] = v.map { x in
            guard x.isFinite, x >= 0, x < Float(recommender.userCount), x == x.rounded() else { return nil }
            return Int(x)
        }
        let answers = try recommender.recommend(users: users, k: k, excludeSeen: true)
        var out = [Float](repeating: 0, count: users.count * 2 * k)
        for (r, a) in answers.enumerated() {
            for j in 0..<k {
                out[r * 2 * k + j] = j < a.items.count ? Float(a.items[j]) : -1
                out[r * 2 * k + k + j] = j < a.scores.count ? a.scores[j] : 0
            }
        }
        return try Tensor(out, shape: [users.count, 2 * k])
    }

    public func answer(_ row: ArraySlice<Float>) -> ServeAnswer { .values(row.map(Double.init)) }

    func answer(_ a: Recommender.Answer) -> RecommendationAnswer {
        RecommendationAnswer(items: a.items.map { recommender.meta.items.ids[$0] }, scores: a.scores, known: a.known,
                             popularity: a.items.map { recommender.meta.popularity[$0] })
    }

    public func recommend(users: [String], k: Int, excludeSeen: Bool) throws -> [RecommendationAnswer] {
        do {
            return try recommender.recommend(users: users.map { recommender.userIndex($0) }, k: k, excludeSeen: excludeSeen).map(answer)
        } catch let e as RecommendError { throw ServeError(400, e.message) }
    }

    public func recommend(items: [String], k: Int) throws -> RecommendationAnswer {
        do { return answer(try recommender.recommend(items: items.compactMap { recommender.itemIndex($0) }, k: k)) }
        catch let e as RecommendError { throw ServeError(400, e.message) }
    }

    public func similar(item: String, k: Int) throws -> RecommendationAnswer {
        guard let i = recommender.itemIndex(item) else { throw ServeError(404, "unknown item '\(item)'") }
        do { return answer(try recommender.similarItems(i, k: k)) }
        catch let e as RecommendError { throw ServeError(400, e.message) }
    }
}
