import Foundation

/// Row-and-column operations that need no fitting. Each returns a new dataset with one
/// more lineage step. Closures cannot be hashed, so `filter` and `map` take a `name`
/// that stands for the closure in lineage: change the name when the code changes.
extension Dataset {
    /// Keeps only `names`, in that order.
    ///
    ///     let small = try ds.select(["petal_length", "species"])
    public func select(_ names: [String]) throws -> Dataset {
        var out = self
        out.columns = try names.map { try column($0) }
        if let l = label, !names.contains(l) { out.label = nil }
        out.explicitFeatures = explicitFeatures?.filter(names.contains)
        return withLineage(out, "select", names.joined(separator: ","))
    }

    /// Removes `names`.
    public func drop(_ names: [String]) throws -> Dataset {
        for n in names { _ = try column(n) }
        return try select(columnNames.filter { !names.contains($0) })
    }

    /// Renames columns (`old: new`); roles follow the rename.
    public func rename(_ mapping: [String: String]) throws -> Dataset {
        for n in mapping.keys { _ = try column(n) }
        var out = self
        for i in out.columns.indices { if let n = mapping[out.columns[i].name] { out.columns[i].name = n } }
        if let l = label, let n = mapping[l] { out.label = n }
        out.explicitFeatures = explicitFeatures?.map { mapping[$0] ?? $0 }
        let params = mapping.keys.sorted().map { "\($0)->\(mapping[$0]!)" }.joined(separator: ",")
        return withLineage(out, "rename", params)
    }

    /// Keeps the rows for which `predicate` (given the row as a record) is true.
    ///
    ///     let adults = ds.filter("age>=18") { ($0["age"]?.number ?? 0) >= 18 }
    public func filter(_ name: String, _ predicate: ([String: DataValue]) throws -> Bool) rethrows -> Dataset {
        var keep: [Int] = []
        for r in 0..<rowCount where try predicate(record(at: r)) { keep.append(r) }
        return withLineage(gather(keep), "filter", name)
    }

    /// Replaces (or adds, when `output` is new) a column computed cell by cell from `input`.
    ///
    ///     let ds2 = try ds.map("x", to: "x2", name: "square") { .double(($0.number ?? 0) * ($0.number ?? 0)) }
    public func map(_ input: String, to output: String? = nil, name: String,
                    _ f: (DataValue) throws -> DataValue) throws -> Dataset {
        let src = try column(input)
        let values = try (0..<rowCount).map { try f(src.value(at: $0)) }
        let target = output ?? input
        var out = self
        let col = inferColumn(from: values, name: target)
        if let i = index(of: target) { out.columns[i] = col } else { out.columns.append(col) }
        return withLineage(out, "map", "\(input)->\(target) \(name)")
    }

    /// Sets the roles: label column and (optionally) explicit feature columns.
    public func withRoles(label: String?, features: [String]? = nil) throws -> Dataset {
        for n in [label].compactMap({ $0 }) + (features ?? []) { _ = try column(n) }
        var out = self
        out.label = label
        out.explicitFeatures = features
        return withLineage(out, "roles", "label=\(label ?? "") features=\(features?.joined(separator: ",") ?? "*")")
    }

    /// The rows in an order that depends only on `seed`.
    public func shuffled(seed: UInt64) -> Dataset {
        var order = Array(0..<rowCount)
        var rng = SplitMix64(seed: seed)
        rng.shuffle(&order)
        return withLineage(gather(order), "shuffle", "seed=\(seed)")
    }

    /// The first `n` rows (all of them when there are fewer; `n` < 0 counts as 0).
    ///
    ///     let top = ds.head(5)
    public func head(_ n: Int = 5) -> Dataset {
        let k = min(max(n, 0), rowCount)
        return withLineage(gather(Array(0..<k)), "head", "n=\(k)")
    }

    /// The last `n` rows, in file order.
    ///
    ///     let bottom = ds.tail(5)
    public func tail(_ n: Int = 5) -> Dataset {
        let k = min(max(n, 0), rowCount)
        return withLineage(gather(Array((rowCount - k)..<rowCount)), "tail", "n=\(k)")
    }

    /// The dataset with `new` columns added at the end (a column whose name exists is
    /// replaced in place). Added columns are not features: the feature columns stay as
    /// they were, so the result still fits the same model. The lineage step `op` records
    /// the new columns' content hash, so other values give another hash.
    ///
    ///     let scored = try ds.addingColumns([Column(name: "prediction", data: .float(p))], op: "with_predictions")
    public func addingColumns(_ new: [Column], op: String) throws -> Dataset {
        var out = self
        out.explicitFeatures = featureNames
        for c in new {
            guard c.count == rowCount else {
                throw DataError(.badArgument, "column '\(c.name)' has \(c.count) values, the dataset \(rowCount) rows")
            }
            if let i = out.index(of: c.name) { out.columns[i] = c } else { out.columns.append(c) }
        }
        return withLineage(out, op, new.map(\.name).joined(separator: ",") + " " + Dataset.hashColumns(new))
    }
}
