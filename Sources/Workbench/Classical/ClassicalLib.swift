import Classical
import Foundation
import Graph
import Lang
import Tensor
import Train

/// Classical models, each fitted by its own algorithm into a graph (a `model` like a
/// trained net): predict, evaluate, save/load_model, register, serve and export_onnx take
/// them unchanged. Fitting code: Sources/Classical; guide: Docs/classical.md.
let classicalLibrary = Library("classical", doc: "Classical models as graphs: linear/logistic regression, k-means, PCA, kNN, naive Bayes; cross-validation and search.",
                               classicalFunctions + neighbourFunctions + selectionFunctions)

let iris = "read_csv(\"Scripts/data/iris.csv\", label: \"species\")"

/// Wraps a fitted model: the training-feature statistics travel with it (drift monitoring),
/// as with `train`.
func fitted(_ m: Model, _ data: FitData) throws -> Value {
    var m = m
    m.blobs["stats"] = try statsJSON(try data.x.tensor())
    return .native(ModelValue(m))
}

/// A list of numbers (or a [n] tensor) argument, `n` long.
func numbers(_ a: Args, _ name: String, count n: Int) throws -> [Double] {
    var xs: [Double]
    if case .native(let t as TensorValue) = a[name] { xs = t.t.toDoubles() } else {
        xs = try a.list(name).map { v in
            guard let d = v.asDouble else { throw a.invalid(name, "must be numbers, found \(v.typeName)") }
            return d
        }
    }
    guard xs.count == n else { throw a.invalid(name, "has \(xs.count) entries for \(n) rows") }
    return xs
}

func nonNegative(_ a: Args, _ name: String) throws -> Double {
    let v = try a.finite(name)
    guard v >= 0 else { throw a.invalid(name, "must be >= 0, got \(v)") }
    return v
}

/// A classical error thrown by a fitter, as the message of the function's argument `data`
/// when it is about the data, else as is.
func classical<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ClassicalError { throw NativeError(e.message) }
}

let classicalFunctions: [NativeFunction] = [
    NativeFunction("linear_regression", [Param("data"), Param("l2", .number, .float(0)), Param("l1", .number, .float(0)),
                                         Param("fit_intercept", .bool, .bool(true)), Param("weights", .any, .nil)],
                   doc: "Least squares / ridge / lasso / elastic net fitted exactly (Cholesky on the normal equations, pivoted QR when X'X is ill-conditioned, coordinate descent when l1 > 0) into a dense-node model with a regression task. Objective: 1/(2n)·Σ wᵢ rᵢ² + l1·‖β‖₁ + l2/(2n)·‖β‖² (so l2 is scikit-learn's Ridge alpha, l1 its Lasso alpha). weights: one per row (a list or tensor).",
                   example: "abs(linear_regression(dataset(tensor([[0.0], [1.0], [2.0]]), y: tensor([1.0, 3.0, 5.0]))).coefficients[0] - 2) < 1e-5",
                   result: "true") { a in
        let data = try fitData(a)
        var o = LinearOptions(l2: try nonNegative(a, "l2"), l1: try nonNegative(a, "l1"), fitIntercept: try a.bool("fit_intercept"))
        if !a.isNil("weights") { o.sampleWeights = try numbers(a, "weights", count: data.x.rows) }
        return try fitted(try classical { try linearRegression(data, o) }, data)
    },
    NativeFunction("logistic_regression", [Param("data"), Param("l2", .number, .float(1)), Param("l1", .number, .float(0)),
                                           Param("max_iter", .int, .int(100)), Param("tol", .number, .float(1e-4)),
                                           Param("class_weights", .any, .nil)],
                   doc: "Binary or multinomial logistic regression: the optimum of Σ sᵢ·loss + l2/2·‖W‖² + l1·‖W‖₁ (scikit-learn's LogisticRegression(C = 1/l2)); L-BFGS, or proximal gradient when l1 > 0. The model is one dense node giving logits (one for two classes, like a binary_cross_entropy net; C otherwise). class_weights: \"balanced\" or one number per class.",
                   example: "logistic_regression(\(iris)).task", result: "\"multiclass\"") { a in
        let data = try fitData(a)
        let (codes, names) = try classical { try data.classCodesForBinding() }
        var o = LogisticOptions(l2: try nonNegative(a, "l2"), l1: try nonNegative(a, "l1"), maxIter: try a.count("max_iter", min: 1, max: 1_000_000),
                                tol: try nonNegative(a, "tol"))
        o.classWeights = try classWeights(a, try Tensor(codes.map(Double.init), shape: [codes.count], dtype: .float64), classes: names.count)
        return try fitted(try classical { try logisticRegression(data, o) }, data)
    },
    NativeFunction("kmeans", [Param("data"), Param("k", .int), Param("init", .string, .string("k-means++")), Param("n_init", .int, .int(3)),
                              Param("max_iter", .int, .int(300)), Param("tol", .number, .float(1e-4)), Param("seed", .int, .int(0))],
                   doc: "k-means clustering (Lloyd: Hamerly bounds up to 16 features, else distances as one float32 GEMM per block of rows; greedy k-means++ starts, best of n_init by exact float64 inertia). The model's graph is sq_dist → argmin: predict gives each row's cluster; fields centroids, labels (training rows), inertia, sizes.",
                   example: "kmeans(\(iris), k: 3, seed: 1).sizes |> sum", result: "150") { a in
        let data = try fitData(a)
        let o = KMeansOptions(k: try a.count("k", min: 1), initMethod: try a.string("init"), nInit: try a.count("n_init", min: 1, max: 1000),
                              maxIter: try a.count("max_iter", min: 1, max: 1_000_000), tol: try nonNegative(a, "tol"), seed: try seedArg(a))
        let (m, fit) = try classical { try kmeansModel(data, o) }
        let v = try fitted(m, data)
        if case .native(let mv as ModelValue) = v { FitLabels.shared.put(mv.model.revision, fit.labels) }
        return v
    },
    NativeFunction("pca", [Param("data", .any, .nil), Param("components", .number, .int(2)), Param("whiten", .bool, .bool(false)),
                           Param("solver", .string, .string("full")), Param("seed", .int, .int(0)), Param("columns", .optional(.list), .nil)],
                   doc: "Principal components: solver \"full\" decomposes the covariance (Jacobi), components a count or a fraction of the variance to keep (0.95); \"randomized\" (Halko et al., seeded; a count only) sketches the centred data, for wide data. The model is one dense node (x − mean)·W, so predict (or transform) gives the scores; fields explained_variance, explained_variance_ratio, components, mean; inverse_transform maps scores back. Without data, a transform step: fit_transforms(ds, [standardize(), pca(components: 2)]) replaces the numeric features (or columns) by pc1..pck, saved with the model and applied at predict and serve time.",
                   example: "pca(\(iris), components: 2).explained_variance_ratio[0] > 0.9", result: "true") { a in
        if a.isNil("data") {
            // No data: a transform step, fitted by fit_transforms on its training rows.
            let comps = try a.finite("components"), cols = try optionalColumns(a)
            let text = "pca(components: \(comps == comps.rounded() && abs(comps) < 1e9 ? String(Int(comps)) : String(comps))\(columnsText(cols)))"
            return .native(TransformValue(pcaTransform(components: comps, whiten: try a.bool("whiten"), solver: try a.string("solver"),
                                                       seed: try seedArg(a), columns: cols), text))
        }
        if !a.isNil("columns") { throw a.invalid("columns", "is for the transform step pca(components: ...) without data") }
        let data = try fitData(a)
        let (m, _) = try classical { try pcaModel(data, components: try a.finite("components"), whiten: try a.bool("whiten"),
                                                  solver: try a.string("solver"), seed: try seedArg(a)) }
        return try fitted(m, data)
    },
    NativeFunction("transform", [Param("model", .native("model")), Param("x")],
                   doc: "The model's outputs for x (a dataset, {x} record or tensor): a PCA's component scores; the same as predict.",
                   example: "transform(pca(\(iris), components: 2), \(iris)).shape", result: "[150, 2]") { a in
        try predictValue(a)
    },
    NativeFunction("inverse_transform", [Param("model", .native("model")), Param("scores")],
                   doc: "A PCA's scores [n, k] mapped back to feature space: scores·Wᵀ + mean (the whitening undone).",
                   example: "let p = pca(\(iris), components: 4); let d = \(iris); abs(sum(inverse_transform(p, transform(p, d)) - to_tensors(d).x)) < 0.01", result: "true") { a in
        let m = try a.native("model", as: ModelValue.self, "model").model
        guard let info = ClassicalInfo.stored(in: m), info.kind == "pca" else { throw a.invalid("model", "is not a PCA (fit one with pca(...))") }
        let (z, _) = try xy(a["scores"], "scores", a)
        return wrap(try classical { try pcaInverse(info, try Matrix(z)).tensor() })
    },
    NativeFunction("silhouette", [Param("data"), Param("labels")],
                   doc: "Mean silhouette coefficient of a clustering (Euclidean), as scikit-learn's silhouette_score: labels are one cluster id per row (a list, a tensor, or a k-means model's predictions).",
                   example: "let d = \(iris); silhouette(d, kmeans(d, k: 3, seed: 1).labels) > 0.5", result: "true") { a in
        let data = try fitData(a)
        let labels = try numbers(a, "labels", count: data.x.rows).map { Int($0) }
        return .float(try classical { try silhouetteScore(data.x.data, rows: data.x.rows, cols: data.x.cols, labels: labels) })
    },
]

extension FitData {
    /// Class codes and names, as the logistic fitter reads them (for class_weights).
    func classCodesForBinding() throws -> ([Int], [String]) {
        guard let y else { throw ClassicalError("logistic_regression: the data has no labels (give a dataset with a label)") }
        var codes: [Int] = []
        for (i, v) in y.enumerated() {
            guard v >= 0, v == v.rounded(), v < 65_536 else { throw ClassicalError("logistic_regression: label \(v) at row \(i) is not a class code (0, 1, 2...)") }
            codes.append(Int(v))
        }
        let c = Swift.max(classes?.count ?? 0, (codes.max() ?? 0) + 1, 2)
        return (codes, (0..<c).map(String.init))
    }
}
