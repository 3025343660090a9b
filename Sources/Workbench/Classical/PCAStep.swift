import Classical
import Frames
import Foundation

/// `pca(components: ...)` without data: a transform step for `fit_transforms`. Frames
/// knows nothing of PCA; the step's fit (here, through the Classical fitter) hands back a
/// plain-data `FittedStep.project` (mean and the d×k weights, whitening folded in), which
/// saves with the pipeline and replays on datasets and on raw `/predict` records.
func pcaTransform(components: Double, whiten: Bool, solver: String, seed: UInt64, columns: [String]?) -> Transform {
    Transform.custom("pca") { ds in
        let cols = columns ?? ds.featureNames.filter { n in ds[n].map { $0.type == .int || $0.type == .float } ?? false }
        guard !cols.isEmpty else { throw DataError(.badArgument, "pca: the data has no numeric feature columns") }
        let n = ds.rowCount
        var x = [Double](repeating: 0, count: n * cols.count)
        for (j, name) in cols.enumerated() {
            let c = try ds.column(name)
            guard let v = c.doubles else {
                throw DataError(.badArgument, "pca: column is \(c.type.rawValue), a numeric column is needed (one_hot_encode it first)", column: name)
            }
            for r in 0..<n {
                if v[r].isNaN || c.missing[r] {
                    throw DataError(.badArgument, "pca: missing value (impute before pca)", line: ds.sourceLines[r], column: name)
                }
                x[r * cols.count + j] = v[r]
            }
        }
        let p: PCAProjection
        do {
            p = try pcaProjection(Matrix(rows: n, cols: cols.count, data: x), components: components, whiten: whiten, solver: solver, seed: seed)
        } catch let e as ClassicalError { throw DataError(.badArgument, e.message) }
        return [.project(columns: cols, mean: p.mean, weights: p.weights, outputs: (1...p.k).map { "pc\($0)" })]
    }
}
