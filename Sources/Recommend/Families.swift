/// The fitted families as recommenders (each a `Model` through `Recommender.make`).
public enum Recommend {
    /// ALS: implicit (confidence alpha * weight, conjugate gradient) or explicit with biases.
    public static func als(_ x: Interactions, _ o: FactorOptions) throws -> Recommender {
        if o.implicit {
            let r = try fitImplicitALS(x, o)
            return try Recommender.make(kind: .als, x: x, users: r.users, items: transpose(r.items, rows: x.items.count, cols: o.factors),
                                        f: o.factors, itemBias: nil, history: r.losses) { m in
                m.alpha = o.alpha; m.l2 = o.l2; m.explicit = false
            }
        }
        guard x.explicit else { throw RecommendError("als: implicit: false needs ratings (interactions built with value:)") }
        let r = try fitExplicitALS(x, o)
        return try Recommender.make(kind: .als, x: x, users: r.users, items: transpose(r.items, rows: x.items.count, cols: o.factors),
                                    f: o.factors, itemBias: r.itemBias, history: r.losses) { m in
            m.mean = r.mean; m.userBias = r.userBias; m.l2 = o.l2; m.explicit = true
        }
    }

    public static func bpr(_ x: Interactions, _ o: FactorOptions) throws -> Recommender {
        let r = try fitBPR(x, o)
        let f = o.factors + 1
        return try Recommender.make(kind: .bpr, x: x, users: r.users, items: transpose(r.items, rows: x.items.count, cols: f),
                                    f: f, itemBias: nil, history: r.accuracy) { m in m.l2 = o.l2; m.explicit = false }
    }

    /// Sparse end to end: the fit keeps k neighbours per item and the model holds them as
    /// [items, k] (`Recommender.makeKNN`), never an items x items matrix.
    public static func itemKNN(_ x: Interactions, k: Int, bm25: Bool) throws -> Recommender {
        let ni = x.items.count
        guard ni < KNNItems.maxItems else { throw RecommendError("item_knn: \(ni) items is more than the model's limit \(KNNItems.maxItems) (its graph holds item indices as float32)") }
        guard Double(ni) * Double(Swift.min(Swift.max(k, 1), ni)) <= Double(KNNItems.maxPairs) else {
            throw RecommendError("item_knn: \(ni) items x k \(k) neighbours is more than \(KNNItems.maxPairs) pairs (2 GB); use a smaller k")
        }
        let knn = try fitItemKNN(x, k: k, bm25: bm25)
        return try Recommender.makeKNN(x: x, knn: knn)
    }

    public static func popularity(_ x: Interactions) throws -> Recommender {
        guard x.count > 0 else { throw RecommendError("popularity: the interactions are empty") }
        var pop = [Float](repeating: 0, count: x.items.count)
        for i in 0..<x.items.count { pop[i] = Float(x.byItem.range(i).count) }
        return try Recommender.make(kind: .popularity, x: x, users: [Float](repeating: 0, count: x.users.count),
                                    items: [Float](repeating: 0, count: x.items.count), f: 1, itemBias: pop, history: []) { m in m.explicit = false }
    }
}

func transpose(_ a: [Float], rows: Int, cols: Int) -> [Float] {
    var out = [Float](repeating: 0, count: a.count)
    for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = a[r * cols + c] } }
    return out
}
