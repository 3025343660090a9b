// Times the tensor engine's kernels and prints one JSON object per line:
//   {"name": "gemm", "size": 1024, "value": 150.3, "unit": "GFLOPS", "seconds": 0.0143}
// Each figure is the median of several runs. Driven by Scripts/bench/tensor, which runs
// numpy on the same machine and prints the ratios. Usage: TensorBench [name ...]
import Foundation
import Support
import Tensor
import CKernels


/// Median seconds of `reps` runs after one warm-up.
func time(reps: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var t: [Double] = []
    for _ in 0..<reps {
        let s = monotonicSeconds()
        try body()
        t.append(monotonicSeconds() - s)
    }
    return t.sorted()[t.count / 2]
}

func emit(_ name: String, _ size: Int, _ value: Double, _ unit: String, _ seconds: Double) {
    print("{\"name\": \"\(name)\", \"size\": \(size), \"value\": \(String(format: "%.3f", value)), \"unit\": \"\(unit)\", \"seconds\": \(String(format: "%.6f", seconds))}")
    fflush(nil)
}

let args = Set(CommandLine.arguments.dropFirst())
func wanted(_ n: String) -> Bool { args.isEmpty || args.contains(n) }

if wanted("gemm") {
    for n in [256, 512, 1024, 2048] {
        let a = try Tensor.randn([n, n], seed: 1), b = try Tensor.randn([n, n], seed: 2)
        let reps = n <= 512 ? 30 : (n == 1024 ? 10 : 5)
        let t = try time(reps: reps) { _ = try Tensor.matmul(a, b) }
        emit("gemm", n, 2 * Double(n * n * n) / t / 1e9, "GFLOPS", t)
    }
}
let big = 10_000_000
if wanted("fma") {
    let a = try Tensor.randn([big], seed: 1), b = try Tensor.randn([big], seed: 2), d = try Tensor.randn([big], seed: 3)
    let t = try time(reps: 10) { _ = try a * b + d }
    emit("fma", big, 4.0 * 4 * Double(big) / t / 1e9, "GB/s", t)
    let tf = try time(reps: 10) { _ = try Tensor.fusedMultiplyAdd(a, b, d) }
    emit("fma_fused", big, 4.0 * 4 * Double(big) / tf / 1e9, "GB/s", tf)
}
if wanted("sum") {
    let a = try Tensor.randn([big], seed: 1)
    let t = try time(reps: 20) { _ = try a.sum() }
    emit("sum", big, 4 * Double(big) / t / 1e9, "GB/s", t)
}
if wanted("exp") {
    let a = try Tensor.randn([big], seed: 1)
    let t = time(reps: 10) { _ = a.exp() }
    emit("exp", big, 8 * Double(big) / t / 1e9, "GB/s", t)
}
if wanted("softmax") {
    let a = try Tensor.randn([4096, 1000], seed: 1)
    let t = try time(reps: 10) { _ = try a.softmax(axis: -1) }
    emit("softmax", 4096, 8 * 4096 * 1000 / t / 1e9, "GB/s", t)
}
if wanted("int8") {
    let n = 1024
    let a = try Tensor.randint(-128, 128, shape: [n, n], seed: 1, dtype: .int8)
    let b = try Tensor.randint(-128, 128, shape: [n, n], seed: 2, dtype: .int8)
    let t = try time(reps: 10) { _ = try Tensor.matmulInt8(a, b) }
    emit("int8_gemm", n, 2 * Double(n * n * n) / t / 1e9, "GOPS", t)
    let au = try Tensor.randint(0, 256, shape: [n, n], seed: 1, dtype: .uint8)
    let tu = try time(reps: 10) { _ = try Tensor.matmulInt8(au, b) }
    emit("u8s8_gemm", n, 2 * Double(n * n * n) / tu / 1e9, "GOPS", tu)
}
if wanted("csr") {
    let n = 1024
    let w = try Tensor.randn([n, n], seed: 1)
    let csr = try CSRMatrix(dense: w, threshold: 1.645)   // |N(0,1)| > 1.645 keeps ~10%
    let x = try Tensor.randn([n, n], seed: 2)
    let t = try time(reps: 10) { _ = try csr.matmul(x) }
    emit("csr_spmm", n, 2 * Double(n * n * n) / t / 1e9, "effective GFLOPS", t)
    let tl = try time(reps: 10) { _ = try csr.linear(x) }
    emit("csr_linear", n, 2 * Double(n * n * n) / tl / 1e9, "effective GFLOPS", tl)
    FileHandle.standardError.write("csr sparsity \(csr.sparsity)\n".data(using: .utf8)!)
}
if wanted("linear1") {
    // Batch-1/64 inference of a 784-256-128-10 MLP (weights [in, out], fused bias+ReLU):
    // small-M GEMMs where packing B used to dominate. µs per call, median of many runs.
    let dims = [784, 256, 128, 10]
    let ws = try (0..<3).map { try Tensor.randn([dims[$0], dims[$0 + 1]], seed: UInt64(10 + $0)) }
    let bs = try (0..<3).map { try Tensor.randn([dims[$0 + 1]], seed: UInt64(20 + $0)) }
    for batch in [1, 64] {
        let x = try Tensor.randn([batch, 784], seed: 1)
        var h = x
        for l in 0..<3 {
            let inp = h
            let t = try time(reps: 2000) { _ = try Tensor.linear(inp, weight: ws[l], bias: bs[l], activation: l < 2 ? .relu : .none) }
            emit("linear_b\(batch)_\(dims[l])x\(dims[l + 1])", batch, t * 1e6, "us", t)
            h = try Tensor.linear(inp, weight: ws[l], bias: bs[l], activation: l < 2 ? .relu : .none)
        }
        let t = try time(reps: 2000) {
            var y = x
            for l in 0..<3 { y = try Tensor.linear(y, weight: ws[l], bias: bs[l], activation: l < 2 ? .relu : .none) }
        }
        emit("mlp_b\(batch)", batch, t * 1e6, "us", t)
    }
}
if wanted("smallm") {
    // Crossover of the small-M path (no packing) vs the packed GEMM: µs for both per M.
    for (k, n) in [(784, 256), (256, 128), (1024, 1024), (4096, 4096)] {
        for tw in [false, true] {
        let w = try Tensor.randn(tw ? [n, k] : [k, n], seed: 2)
        for m in [1, 2, 4, 8, 16, 32, 48, 64, 96, 128] {
            let x = try Tensor.randn([m, k], seed: 1)
            var us: [Double] = []
            for rows in [128, 0] {
                mlw_sgemm_set_small_m(Int32(rows))
                us.append(try time(reps: k * n > 1 << 22 ? 50 : 1000) { _ = try Tensor.linear(x, weight: w, transposedWeight: tw) } * 1e6)
            }
            mlw_sgemm_set_small_m(64)
            print("\(tw ? "x@Wᵀ" : "x@W") k \(k) n \(n) m \(m): small-M \(String(format: "%.2f", us[0])) µs, packed \(String(format: "%.2f", us[1])) µs")
        }
        }
    }
}
