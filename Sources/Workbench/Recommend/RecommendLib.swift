import Frames
import Lang
import Recommend
import Tensor
import Train

private let ml = "read_csv(\"Scripts/data/ml_small.csv\")"
private let mlx = "interactions(\(ml), user: \"userId\", item: \"movieId\")"

let recommendLibrary = Library("recommend", doc: "Recommenders: interactions, ALS, BPR, item-kNN, popularity, recommend, ranking metrics.", [
    NativeFunction("interactions", [Param("data", .native("dataset")), Param("user", .string, .string("user_id")), Param("item", .string, .string("item_id")),
                                    Param("value", .optional(.string), .nil), Param("time", .optional(.string), .nil)],
                   doc: "A sparse user x item matrix from one row per event: CSR by user and by item, id maps both ways (integer or string ids). Weights are counts of repeated pairs, or the `value` column (ratings: the latest by `time` wins). MovieLens u.data: read_csv(path, delimiter: \"\\t\", header: false) and columns c0..c3.",
                   example: "\(mlx).users", result: "60") { a in
        let d = try ds(a)
        let (u, ui) = try idColumn(d, try a.string("user"), a, "user")
        let (i, ii) = try idColumn(d, try a.string("item"), a, "item")
        let v = a.isNil("value") ? nil : try numberColumn(d, try a.string("value"), a, "value")
        let t = a.isNil("time") ? nil : try numberColumn(d, try a.string("time"), a, "time")
        return .native(InteractionsValue(try Interactions(users: u, items: i, integerUsers: ui, integerItems: ii, values: v, times: t,
                                                          userColumn: try a.string("user"), itemColumn: try a.string("item"))))
    },
    NativeFunction("split_interactions", [Param("x", .native("interactions")), Param("by", .string, .string("user")),
                                          Param("test", .number, .float(0.2)), Param("seed", .int, .int(0))],
                   doc: "Hold out a share of every user's interactions as {train, test} (same id maps): by \"user\" a seeded random share, by \"time\" each user's latest (leave-last-n-out). Users with one interaction stay in train.",
                   example: "split_interactions(\(mlx), test: 0.2, seed: 1).test.count", result: "120") { a in
        let x = try a.native("x", as: InteractionsValue.self, "interactions").x
        let by = try a.string("by")
        guard by == "user" || by == "time" else { throw a.invalid("by", "must be \"user\" or \"time\"") }
        let (tr, te) = try x.split(test: try a.finite("test"), byTime: by == "time", seed: UInt64(bitPattern: Int64(try a.int("seed"))))
        return .record([("train", .native(InteractionsValue(tr))), ("test", .native(InteractionsValue(te)))])
    },
    NativeFunction("als", [Param("x", .native("interactions")), Param("factors", .int, .int(64)), Param("l2", .number, .float(0.01)),
                           Param("alpha", .number, .float(40)), Param("iterations", .int, .int(15)), Param("implicit", .bool, .bool(true)),
                           Param("cg_steps", .int, .int(3)), Param("seed", .int, .int(0))],
                   doc: "Alternating least squares. implicit: confidence alpha * weight, conjugate-gradient solves (Hu-Koren-Volinsky as the `implicit` package); implicit: false fits ratings with user and item biases. Both sides solve rows in parallel. The model's graph: embedding -> dense -> top_k; model.recommender.history holds the objective per iteration.",
                   example: "als(\(mlx), factors: 8, iterations: 3).recommender.kind", result: "\"als\"") { a in
        var o = FactorOptions()
        o.factors = try a.count("factors", min: 1, max: maxFactors); o.l2 = try a.finite("l2"); o.alpha = try a.finite("alpha")
        o.iterations = try a.count("iterations", max: maxIterations); o.implicit = try a.bool("implicit")
        o.cgSteps = try a.count("cg_steps", min: 1, max: 1000); o.seed = UInt64(bitPattern: Int64(try a.int("seed")))
        guard o.alpha > 0 else { throw a.invalid("alpha", "must be > 0") }
        return .native(ModelValue(try Recommend.als(try a.native("x", as: InteractionsValue.self, "interactions").x, o).model))
    },
    NativeFunction("bpr", [Param("x", .native("interactions")), Param("factors", .int, .int(64)), Param("learning_rate", .number, .float(0.01)),
                           Param("l2", .number, .float(0.01)), Param("epochs", .int, .int(100)), Param("seed", .int, .int(0)),
                           Param("verify_negatives", .bool, .bool(true))],
                   doc: "Bayesian personalized ranking by SGD, the `implicit` package's algorithm: each step a random (user, liked) entry and the item of another random entry as the negative (popularity-weighted), skipped when the user has it (verify_negatives), with an item bias. Single-threaded: a seed gives the same model every run.",
                   example: "bpr(\(mlx), factors: 8, epochs: 5).recommender.factors", result: "9") { a in
        var o = FactorOptions()
        o.factors = try a.count("factors", min: 1, max: maxFactors); o.learningRate = try a.finite("learning_rate"); o.l2 = try a.finite("l2")
        o.iterations = try a.count("epochs", max: maxIterations); o.seed = UInt64(bitPattern: Int64(try a.int("seed")))
        o.verifyNegatives = try a.bool("verify_negatives")
        return .native(ModelValue(try Recommend.bpr(try a.native("x", as: InteractionsValue.self, "interactions").x, o).model))
    },
    NativeFunction("item_knn", [Param("x", .native("interactions")), Param("k", .int, .int(50)), Param("similarity", .string, .string("cosine"))],
                   doc: "Item-item neighbours: the k most similar items of every item (\"cosine\", or \"bm25\"-weighted cosine); a user's score for an item sums the similarities from the items they have.",
                   example: "item_knn(\(mlx), k: 10).recommender.kind", result: "\"item_knn\"") { a in
        let s = try a.string("similarity")
        guard s == "cosine" || s == "bm25" else { throw a.invalid("similarity", "must be \"cosine\" or \"bm25\"") }
        return .native(ModelValue(try Recommend.itemKNN(try a.native("x", as: InteractionsValue.self, "interactions").x,
                                                        k: try a.count("k", min: 1), bm25: s == "bm25").model))
    },
    NativeFunction("popularity", [Param("x", .native("interactions"))],
                   doc: "The baseline: every user gets the items with the most users.",
                   example: "popularity(\(mlx)).recommender.kind", result: "\"popularity\"") { a in
        .native(ModelValue(try Recommend.popularity(try a.native("x", as: InteractionsValue.self, "interactions").x).model))
    },
    NativeFunction("recommend", [Param("model", .native("model")), Param("user", .any, .nil), Param("k", .int, .int(10)),
                                 Param("exclude_seen", .bool, .bool(true)), Param("items", .optional(.list), .nil)],
                   doc: "The k best items for a user id, as {items, scores, known} (best first), or a list of them for a list of users. An unknown user gets the most popular items with known: false. items: [...] instead of a user recommends for a new user who has those items (cold start).",
                   example: "recommend(popularity(\(mlx)), 1, k: 2).items", result: "[21, 33]") { a in
        let r = try recommender(a)
        let k = try a.count("k", min: 1, max: 1_000_000), exclude = try a.bool("exclude_seen")
        if !a.isNil("items") {
            guard a.isNil("user") else { throw a.invalid("items", "give either user or items, not both") }
            var idx: [Int] = []
            for v in try a.list("items") {
                let key = try idKey(v, a, "items")
                if let i = r.itemIndex(key) { idx.append(i) }   // items the model never saw carry no signal
            }
            return answerValue(r, try r.recommend(items: idx, k: k, excludeSeen: exclude))
        }
        if case .list(let users) = a["user"] {
            guard users.count <= 1_000_000 else { throw a.invalid("user", "at most 1000000 users per call") }
            let idx = try users.map { r.userIndex(try idKey($0, a, "user")) }
            return .list(try r.recommend(users: idx, k: k, excludeSeen: exclude).map { answerValue(r, $0) })
        }
        if a.isNil("user") { throw NativeError("missing argument 'user' to 'recommend'") }
        let u = r.userIndex(try idKey(a["user"], a, "user"))
        return answerValue(r, try r.recommend(users: [u], k: k, excludeSeen: exclude)[0])
    },
    NativeFunction("similar_items", [Param("model", .native("model")), Param("item", .any), Param("k", .int, .int(10))],
                   doc: "The k items most like an item id, as {items, scores}: cosine of item factors (ALS, BPR), the similarity row (item-kNN).",
                   example: "len(similar_items(item_knn(\(mlx), k: 5), 1, k: 3).items)", result: "3") { a in
        let r = try recommender(a)
        let key = try idKey(a["item"], a, "item")
        guard let i = r.itemIndex(key) else { throw a.invalid("item", "unknown item '\(key)'") }
        return answerValue(r, try r.similarItems(i, k: try a.count("k", min: 1, max: 1_000_000)))
    },
    NativeFunction("user_factors", [Param("model", .native("model"))],
                   doc: "The user vectors as a tensor [users, factors] (rows in id-map order); also model.user_factors.",
                   example: "user_factors(als(\(mlx), factors: 4, iterations: 1)).shape", result: "[60, 4]") { a in
        .native(TensorValue(try recommender(a).userFactors()))
    },
    NativeFunction("item_factors", [Param("model", .native("model"))],
                   doc: "The item vectors as a tensor [items, factors]; also model.item_factors.",
                   example: "item_factors(als(\(mlx), factors: 4, iterations: 1)).shape", result: "[45, 4]") { a in
        .native(TensorValue(try recommender(a).itemFactors()))
    },
    NativeFunction("rank_metrics", [Param("model", .native("model")), Param("test", .any), Param("k", .int, .int(10)), Param("value", .optional(.string), .nil)],
                   doc: "Ranking quality at k on held-out interactions (or a dataset with the training user and item columns): precision, recall, map, ndcg, hit_rate, coverage (+ rmse for explicit ALS; a dataset's ratings come from its `value` column), with users, unknown_users and unknown_items counted. precision/map/ndcg follow implicit.evaluation.",
                   example: "let s = split_interactions(\(mlx), seed: 1); rank_metrics(popularity(s.train), s.test, k: 5).users", result: "60") { a in
        let r = try recommender(a)
        let triples: [(user: String, item: String, value: Double)]
        switch a["test"] {
        case .native(let v as InteractionsValue): triples = v.x.triples
        case .native(let v as DatasetValue):
            let (u, _) = try idColumn(v.ds, r.meta.userColumn, a, "test")
            let (i, _) = try idColumn(v.ds, r.meta.itemColumn, a, "test")
            let vals = a.isNil("value") ? [Double](repeating: 1, count: u.count) : try numberColumn(v.ds, try a.string("value"), a, "value")
            triples = (0..<u.count).map { (u[$0], i[$0], vals[$0]) }
        default: throw a.bad("test", "interactions or dataset", a["test"])
        }
        let m = try rankMetrics(r, test: triples, k: try a.count("k", min: 1, max: 1_000_000))
        var fields: [(String, Value)] = [("k", .int(m.k)), ("precision", .float(m.precision)), ("recall", .float(m.recall)), ("map", .float(m.map)),
                                         ("ndcg", .float(m.ndcg)), ("hit_rate", .float(m.hitRate)), ("coverage", .float(m.coverage))]
        if let e = m.rmse { fields.append(("rmse", .float(e))) }
        fields += [("users", .int(m.users)), ("unknown_users", .int(m.unknownUsers)), ("unknown_items", .int(m.unknownItems))]
        return .record(fields)
    },
])
