import Foundation
import Graph
import Registry
import Tensor
import Train

/// A throw-away registry with three runs of `train.mlw` (different lr, per-epoch loss,
/// val_loss and accuracy, a final test_accuracy), the script stored with each, a model `iris`
/// with two versions and aliases, and a parameter holding markup that must show as text.
enum UIFixture {
    struct Filled {
        let root: URL
        let registry: Registry
        let runs: [RunID]        // oldest first
        let modelSha: String
    }

    static let script = """
    # train a tiny classifier
    param lr = 0.1
    let model = fit("iris.csv", epochs: 3)   # "<b>not bold</b>"
    log_metric("test_accuracy", 0.9)
    """

    static func tempRoot() -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-ui-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    /// x[batch, 4] -> matmul(w[4, 3]) -> relu: a real MLW model file.
    static func modelFile(in dir: URL) throws -> URL {
        var g = Graph()
        let x = try g.input("x", shape: [.batch, .fixed(4)])
        let w = try g.param("w", Tensor.randn([4, 3], seed: 1))
        let h = try g.op(.matmul, [x, w])
        g.outputs = [try g.op(.relu, [h])]
        let url = dir.appendingPathComponent("iris.mlwm")
        try save(Model(graph: g), url.path)
        return url
    }

    /// `registry`: another store (PostgreSQL) to fill instead of a SQLite one under `root`.
    static func fill(root: URL = tempRoot(), registry given: Registry? = nil) throws -> Filled {
        let registry = try given ?? Registry.open(root: root)
        let scriptData = Data(script.utf8)
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        var ids: [RunID] = []
        var modelSha = ""
        let lrs = [0.1, 0.01, 0.001]
        let finalAcc = [0.82, 0.95, 0.91]
        for (k, lr) in lrs.enumerated() {
            let sha = SHA256.hex(scriptData)
            var params: [String: ParamValue] = ["lr": .double(lr), "epochs": 3, "opt": "adam"]
            if k == 0 { params["note"] = "<script>alert(1)</script>" }
            let id = try registry.startRun(script: "train.mlw", scriptHash: sha, params: params, seed: 42 + k,
                                           gitCommit: "3f2a9c1b", startedAt: start.addingTimeInterval(Double(k) * 60))
            _ = try registry.storeArtifact(bytes: scriptData, run: id, label: "script")
            var values: [(key: String, value: Double, step: Int?)] = []
            for e in 0..<3 {
                let loss = 1.0 / Double(e + 1) * (1 + Double(k) / 10)
                values.append(("loss", loss, e)); values.append(("val_loss", loss * 1.2, e))
                values.append(("accuracy", finalAcc[k] - 0.1 * Double(2 - e), e))
            }
            values.append(("test_accuracy", finalAcc[k], 0))
            _ = try registry.logMetrics(run: id, values)
            try registry.recordDataset(run: id, hash: "lineage-\(k)", source: "iris.csv", rows: 150)
            if k < 2 {
                let dir = tempRoot()
                let v = try registry.register(file: try modelFile(in: dir), name: "iris", run: id, metrics: ["test_accuracy": finalAcc[k]],
                                              alias: k == 0 ? "production" : "staging", kind: .model)
                modelSha = v.artifactSha256
            }
            try registry.finishRun(id, status: .finished, endedAt: start.addingTimeInterval(Double(k) * 60 + 12.5))
            ids.append(id)
        }
        return Filled(root: root, registry: registry, runs: ids, modelSha: modelSha)
    }
}
