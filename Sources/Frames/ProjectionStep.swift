import Foundation

// Replay of `FittedStep.project` (a fitted PCA): numeric columns in, component columns out.

/// One row's outputs: zᵢ = Σⱼ (xⱼ − meanⱼ)·w[j·k + i], accumulated in float64.
func projectRow(_ x: [Double], _ mean: [Double], _ w: [Double], _ k: Int) -> [Double] {
    var z = [Double](repeating: 0, count: k)
    for j in 0..<x.count {
        let v = x[j] - mean[j]
        for i in 0..<k { z[i] += v * w[j * k + i] }
    }
    return z
}

extension FittedStep {
    /// The dataset with `cols` replaced by `outputs` (float columns) where the first of
    /// `cols` stood; in the explicit feature list too. Missing cells are an error naming
    /// the row: a projection needs every input (impute first).
    func projectDataset(_ ds: Dataset, _ cols: [String], _ mean: [Double], _ w: [Double], _ outputs: [String]) throws -> Dataset {
        let d = cols.count, k = outputs.count
        guard mean.count == d, w.count == d * k else {
            throw DataError(.badArgument, "projection step: \(d) columns, \(mean.count) means and \(w.count) weights do not fit \(k) outputs")
        }
        let inputs: [[Double]] = try cols.map { name in
            let c = try ds.column(name)
            guard let v = c.doubles else {
                throw DataError(.badArgument, "column is \(c.type.rawValue), a numeric column is needed for the projection", column: name)
            }
            if let r = v.indices.first(where: { v[$0].isNaN || c.missing[$0] }) {
                throw DataError(.badArgument, "missing value: a projection (pca) needs every input, impute first", line: ds.sourceLines[r], column: name)
            }
            return v
        }
        let n = ds.rowCount
        var out = [[Double]](repeating: [Double](repeating: 0, count: n), count: k)
        var x = [Double](repeating: 0, count: d)
        for r in 0..<n {
            for j in 0..<d { x[j] = inputs[j][r] }
            let z = projectRow(x, mean, w, k)
            for i in 0..<k { out[i][r] = z[i] }
        }
        let first = ds.columns.firstIndex { cols.contains($0.name) } ?? ds.columns.count
        var res = ds
        let kept = ds.columns.enumerated().filter { !cols.contains($0.element.name) }
        var columns = kept.filter { $0.offset < first }.map(\.element)
        columns += zip(outputs, out).map { Column(name: $0, data: .float($1)) }
        columns += kept.filter { $0.offset > first }.map(\.element)
        res.columns = columns
        if let f = ds.explicitFeatures {
            let at = f.firstIndex { cols.contains($0) } ?? f.count
            var nf = f.enumerated().filter { $0.offset < at && !cols.contains($0.element) }.map(\.element)
            nf += outputs
            nf += f.enumerated().filter { $0.offset > at && !cols.contains($0.element) }.map(\.element)
            res.explicitFeatures = nf
        }
        return withLineage(res, "project", lineageText)
    }
}
