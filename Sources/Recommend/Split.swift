import Support

extension Interactions {
    /// Holds out a fraction of every user's entries (at least one, and never all of them:
    /// users with one entry stay whole in train). `byTime`: the user's latest entries
    /// (leave-last-n-out); else a seeded random choice.
    public func split(test fraction: Double, byTime: Bool, seed: UInt64) throws -> (train: Interactions, test: Interactions) {
        guard fraction > 0, fraction < 1 else { throw RecommendError("split_interactions: 'test' must be between 0 and 1, got \(fraction)") }
        if byTime && times == nil { throw RecommendError("split_interactions: by: \"time\" needs interactions built with a time column") }
        var rng = SplitMix64(seed: seed)
        var train: [(Int32, Int32, Float)] = [], test: [(Int32, Int32, Float)] = []
        var trainT: [(Int32, Int32, Float)] = [], testT: [(Int32, Int32, Float)] = []
        for u in 0..<byUser.rows {
            let r = Array(byUser.range(u))
            var held = Set<Int>()
            if r.count >= 2 {
                let n = Swift.min(r.count - 1, Swift.max(1, Int((Double(r.count) * fraction).rounded())))
                var order = r
                if byTime, let t = times {
                    order.sort { t[$0] != t[$1] ? t[$0] > t[$1] : $0 > $1 }
                } else {
                    for i in stride(from: order.count - 1, to: 0, by: -1) {
                        let j = Int(rng.next() % UInt64(i + 1))
                        order.swapAt(i, j)
                    }
                }
                held = Set(order.prefix(n))
            }
            for e in r {
                let t = (Int32(u), byUser.indices[e], byUser.values[e])
                let tt = (Int32(u), byUser.indices[e], Float(times?[e] ?? 0))
                if held.contains(e) { test.append(t); testT.append(tt) } else { train.append(t); trainT.append(tt) }
            }
        }
        func part(_ t: [(Int32, Int32, Float)], _ tt: [(Int32, Int32, Float)]) -> Interactions {
            let m = CSR(rows: users.count, cols: items.count, triples: t)
            let times = self.times == nil ? nil : CSR(rows: users.count, cols: items.count, triples: tt).values.map(Double.init)
            return Interactions(like: self, byUser: m, times: times)
        }
        return (part(train, trainT), part(test, testT))
    }
}
