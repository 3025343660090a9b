import XCTest
@testable import Tensor

/// The compressed-layer kernels (`qlinear`, `csrLinear`) against slow twins written here.
final class CompressKernelTests: XCTestCase {
    /// The int8 layer computed the obvious way, with the kernel's float operations in the
    /// kernel's order, so the results must be bit-identical.
    func qlinearReference(_ x: [Float], m: Int, k: Int, q: [Int], n: Int, scale: [Float], colSum: [Int], bias: [Float]?,
                          actScale: Float?, actZero: Int, unsigned: Bool, relu: Bool) -> [Float] {
        func rne(_ v: Float) -> Float { (v + 12_582_912) - 12_582_912 }
        var y = [Float](repeating: 0, count: m * n)
        for r in 0..<m {
            let row = Array(x[(r * k)..<((r + 1) * k)])
            var lo: Float = 0, hi: Float = 0
            for v in row { lo = v < lo ? v : lo; hi = v > hi ? v : hi }
            var s: Float, z: Int
            if let actScale { s = actScale; z = actZero } else if unsigned {
                s = (hi - lo) / 255; s = s > 0 ? s : 1
                var t = -lo / s; t = t > 0 ? t : 0; t = t < 255 ? t : 255
                z = Int(rne(t))
            } else { s = (hi > -lo ? hi : -lo) / 127; s = s > 0 ? s : 1; z = 0 }
            let inv = 1 / s
            let xq = row.map { v -> Int in
                var t = v * inv
                if unsigned { t = t + Float(z) }
                let (a, b): (Float, Float) = unsigned ? (0, 255) : (-127, 127)
                t = t > a ? t : a; t = t < b ? t : b
                return Int(rne(t))
            }
            for j in 0..<n {
                var acc = 0
                for i in 0..<k { acc += xq[i] * q[i * n + j] }
                acc -= z * colSum[j]
                var v = (s * (scale.count == n ? scale[j] : scale[0])) * Float(acc)
                if let bias { v = v + bias[j] }
                y[r * n + j] = relu ? (v > 0 ? v : 0) : v
            }
        }
        return y
    }

    func testQLinearBitExactAtEverySIMDLevel() throws {
        defer { Tensor.setSIMD(true) }
        let shapes = [(1, 1, 1), (1, 37, 11), (3, 64, 40), (5, 257, 130), (17, 100, 33), (1, 256, 256), (1, 70, 400), (1, 33, 530), (4, 5, 16), (2, 3, 129), (6, 8, 8)]
        for (m, k, n) in shapes {
            var xv = try Tensor.randn([m, k], seed: UInt64(m * 31 + k)).toFloats()
            xv[0] = 0
            let x = try Tensor(xv, shape: [m, k])
            let w = try Tensor.randn([k, n], seed: UInt64(n + 7))
            let b = try Tensor.randn([n], seed: 3)
            for perChannel in [true, false] {
                let (q, s, cs) = try Tensor.quantizeWeightsInt8(w, perChannel: perChannel)
                for (unsigned, actScale, actZero) in [(false, nil, 0), (true, nil, 0), (false, Float(0.02), 0), (true, Float(0.03), 100)] as [(Bool, Float?, Int)] {
                    for (withBias, relu) in [(true, true), (false, false)] {
                        let ref = qlinearReference(xv, m: m, k: k, q: q.toInts(), n: n, scale: s.toFloats(), colSum: cs.toInts(),
                                                   bias: withBias ? b.toFloats() : nil, actScale: actScale, actZero: actZero, unsigned: unsigned, relu: relu)
                        for level in 0...Tensor.cpuSIMDLevel {
                            Tensor.setSIMDLevel(level)
                            let y = try Tensor.qlinear(x, weight: q, weightScale: s, colSum: cs, bias: withBias ? b : nil,
                                                       actScale: actScale, actZero: actZero, unsigned: unsigned, relu: relu)
                            XCTAssertEqual(y.shape, [m, n])
                            XCTAssertEqual(y.toFloats(), ref, "\(m)x\(k)x\(n) level \(level) unsigned \(unsigned) static \(actScale != nil) perChannel \(perChannel) bias \(withBias)")
                        }
                        Tensor.setSIMD(true)
                    }
                }
            }
        }
    }

    func testQLinearSameBitsForAnyThreadCount() throws {
        let x = try Tensor.randn([70, 96], seed: 1), w = try Tensor.randn([96, 300], seed: 2)
        let (q, s, cs) = try Tensor.quantizeWeightsInt8(w, perChannel: true)
        let before = Tensor.threads
        defer { Tensor.setThreads(before) }
        Tensor.setThreads(1)
        let one = try Tensor.qlinear(x, weight: q, weightScale: s, colSum: cs, relu: true).toFloats()
        Tensor.setThreads(2)
        XCTAssertEqual(try Tensor.qlinear(x, weight: q, weightScale: s, colSum: cs, relu: true).toFloats(), one)
    }

    /// The packed copy belongs to one weight: another weight of the same shape, or a view of
    /// a different part of the same storage, gets its own.
    func testPackedWeightFollowsItsTensor() throws {
        let x = try Tensor.randn([2, 8], seed: 1)
        let (q1, s, cs) = try Tensor.quantizeWeightsInt8(try Tensor.randn([8, 4], seed: 2), perChannel: false)
        let (q2, _, _) = try Tensor.quantizeWeightsInt8(try Tensor.randn([8, 4], seed: 3), perChannel: false)
        let y1 = try Tensor.qlinear(x, weight: q1, weightScale: s, colSum: cs)
        let y2 = try Tensor.qlinear(x, weight: q2, weightScale: s, colSum: cs)
        XCTAssertNotEqual(y1.toFloats(), y2.toFloats())
        XCTAssertEqual(try Tensor.qlinear(x, weight: q1, weightScale: s, colSum: cs).toFloats(), y1.toFloats())
        let both = try Tensor.concat([q1, q2], axis: 0)   // [16, 4]: rows 8..<16 are q2
        let lower = try both.slice(axis: 0, start: 8, stop: 16)
        XCTAssertEqual(try Tensor.qlinear(x, weight: lower, weightScale: s, colSum: cs).toFloats(), y2.toFloats())
    }

    /// A pruned weight [in, out] with about `keep` of its entries, as the CSR of Wᵀ.
    func csr(_ inF: Int, _ outF: Int, keep: Double, seed: UInt64) throws -> (w: Tensor, values: Tensor, indices: Tensor, indptr: Tensor) {
        let r = try Tensor.rand([inF, outF], seed: seed).toFloats(), v = try Tensor.randn([inF, outF], seed: seed + 1).toFloats()
        var w = [Float](repeating: 0, count: inF * outF), vals: [Float] = [], ix: [Int] = [], ip = [0]
        for i in 0..<(inF * outF) where Double(r[i]) < keep { w[i] = v[i] }
        for o in 0..<outF {
            for i in 0..<inF where w[i * outF + o] != 0 { vals.append(w[i * outF + o]); ix.append(i) }
            ip.append(vals.count)
        }
        return (try Tensor(w, shape: [inF, outF]), try Tensor(vals, shape: [vals.count]),
                try Tensor(ix, shape: [ix.count], dtype: .int32), try Tensor(ip, shape: [ip.count], dtype: .int32))
    }

    func testCSRLinearMatchesDense() throws {
        defer { Tensor.setSIMD(true) }
        for simd in [true, false] {
            Tensor.setSIMD(simd)
            // keep 5% (gather kernel) and 40% (dense GEMM on the densified copy)
            for (inF, outF, keep) in [(1, 1, 1.0), (37, 11, 0.05), (256, 64, 0.05), (64, 256, 0.4), (130, 9, 0.1)] {
                let c = try csr(inF, outF, keep: keep, seed: UInt64(inF * outF))
                let b = try Tensor.randn([outF], seed: 5)
                for m in [1, 2, 3, 4, 5, 8, 9, 64, 70] {
                    let x = try Tensor.randn([m, inF], seed: UInt64(m))
                    for relu in [false, true] {
                        var ref = try Tensor.linear(x, weight: c.w, bias: b)
                        if relu { ref = ref.relu() }
                        let y = try Tensor.csrLinear(x, values: c.values, indices: c.indices, indptr: c.indptr, inFeatures: inF, bias: b, relu: relu)
                        assertClose(y.toFloats(), ref.toDoubles(), rtol: 1e-4, atol: 1e-4, "csr \(m)x\(inF)x\(outF) keep \(keep) simd \(simd)")
                    }
                }
            }
        }
    }

    func testCSRLinearRejectsBadArrays() throws {
        let x = try Tensor.randn([1, 4], seed: 1)
        let v = try Tensor([1, 2] as [Float], shape: [2])
        let ip = try Tensor([0, 1, 2], shape: [3], dtype: .int32)
        assertThrows(try Tensor.csrLinear(x, values: v, indices: Tensor([0, 4], shape: [2], dtype: .int32), indptr: ip, inFeatures: 4), contains: "below 4")
        assertThrows(try Tensor.csrLinear(x, values: v, indices: Tensor([0, -1], shape: [2], dtype: .int32), indptr: ip, inFeatures: 4), contains: "below 4")
        assertThrows(try Tensor.csrLinear(x, values: v, indices: Tensor([0, 1], shape: [2], dtype: .int32),
                                          indptr: Tensor([0, 2, 1], shape: [3], dtype: .int32), inFeatures: 4), contains: "indptr")
        // Valid arrays next to the same values storage: checked again, not taken from the cache.
        let good = try Tensor.csrLinear(x, values: v, indices: Tensor([0, 1], shape: [2], dtype: .int32), indptr: ip, inFeatures: 4)
        XCTAssertEqual(good.shape, [1, 2])
        assertThrows(try Tensor.csrLinear(x, values: v, indices: Tensor([0, 9], shape: [2], dtype: .int32), indptr: ip, inFeatures: 4), contains: "below 4")
    }

    /// The densified copy and the ELL form of a CSR layer follow its values: new values give
    /// new results.
    func testDerivedFormsFollowValues() throws {
        for (inF, outF, keep) in [(16, 8, 0.5), (200, 70, 0.1)] {   // dense copy; ELL form (on AVX-512)
            let c = try csr(inF, outF, keep: keep, seed: 9)
            let x = try Tensor.randn([1, inF], seed: 2)
            let y1 = try Tensor.csrLinear(x, values: c.values, indices: c.indices, indptr: c.indptr, inFeatures: inF)
            var v2 = c.values
            try v2.withMutableFloats { p in for i in p.indices { p[i] *= 2 } }
            let y2 = try Tensor.csrLinear(x, values: v2, indices: c.indices, indptr: c.indptr, inFeatures: inF)
            assertClose(y2.toFloats(), y1.toDoubles().map { $0 * 2 }, "doubled values \(inF)x\(outF)")
        }
    }

    /// On AVX-512 CPUs batches of 1-7 rows run the ELL form: each row must come out with the
    /// same bits as in a batch of 8 or more (the xᵀ axpy path, same sums in the same order),
    /// over several 64-input blocks, partial groups of 16 outputs, empty rows, and rows with
    /// an infinite input that only pruned weights meet (they run the masked twin, which must
    /// not turn it into NaN; finite rows run the zero-padded kernel).
    func testCSRSmallBatchesMatchBatchPathBits() throws {
        try XCTSkipIf(Tensor.cpuSIMDLevel < 2, "the ELL form needs AVX-512")
        defer { Tensor.setSIMD(true) }
        for (inF, outF, keep) in [(64, 256, 0.3), (256, 256, 0.05), (300, 37, 0.1), (20, 50, 0.1), (130, 90, 0.02)] {
            let c = try csr(inF, outF, keep: keep, seed: UInt64(inF + outF))
            let csr = try Tensor.checkedCSR(c.values, c.indices, c.indptr, inFeatures: inF)
            XCTAssertNotNil(csr.ell, "ELL form for \(inF)x\(outF) keep \(keep)")
            let used = Set(c.indices.toInts())
            let unused = (0..<inF).first { !used.contains($0) }
            var xs = try Tensor.randn([9, inF], seed: 4).toFloats()
            if let unused { for r in [0, 3, 8] { xs[r * inF + unused] = .infinity } }   // these rows run the masked twin
            let x9 = try Tensor(xs, shape: [9, inF]), b = try Tensor.randn([outF], seed: 6)
            for relu in [false, true] {
                let big = try Tensor.csrLinear(x9, values: c.values, indices: c.indices, indptr: c.indptr, inFeatures: inF, bias: b, relu: relu).toFloats()
                XCTAssertFalse(big.contains { $0.isNaN }, "no NaN from pruned weights")
                Tensor.setSIMDLevel(1)   // the AVX2 batch path: the same sums, so the same bits
                let avx2 = try Tensor.csrLinear(x9, values: c.values, indices: c.indices, indptr: c.indptr, inFeatures: inF, bias: b, relu: relu).toFloats()
                Tensor.setSIMD(true)
                XCTAssertEqual(avx2.map(\.bitPattern), big.map(\.bitPattern), "AVX2 and AVX-512 batch paths, \(inF)x\(outF)")
                for m in 1...7 {
                    let y = try Tensor.csrLinear(try x9.slice(axis: 0, start: 0, stop: m).contiguous(), values: c.values, indices: c.indices,
                                                 indptr: c.indptr, inFeatures: inF, bias: b, relu: relu).toFloats()
                    XCTAssertEqual(y.map(\.bitPattern), big[0..<(m * outF)].map(\.bitPattern), "\(m) rows of \(inF)x\(outF) keep \(keep) relu \(relu)")
                }
            }
        }
    }

    /// Rows whose indices are not sorted get no ELL form (its blocks would reorder their sums)
    /// and still compute the right layer.
    func testUnsortedCSRRowsUseTheGatherKernel() throws {
        let x = try Tensor([1, 2, 3] as [Float], shape: [1, 3])
        let v = try Tensor([10, 100, 1000] as [Float], shape: [3])
        let ix = try Tensor([2, 0, 1], shape: [3], dtype: .int32), ip = try Tensor([0, 2, 3], shape: [3], dtype: .int32)
        XCTAssertNil(try Tensor.checkedCSR(v, ix, ip, inFeatures: 3).ell)
        XCTAssertEqual(try Tensor.csrLinear(x, values: v, indices: ix, indptr: ip, inFeatures: 3).toFloats(), [130, 2000])
    }

    /// Derived values live and die with their tensor's storage (no reference cycle).
    func testDerivedValuesDoNotKeepStorageAlive() throws {
        weak var packedStorage: TensorStorage?, valuesStorage: TensorStorage?
        do {
            let x = try Tensor.randn([1, 16], seed: 1)
            let (q, s, cs) = try Tensor.quantizeWeightsInt8(try Tensor.randn([16, 8], seed: 2), perChannel: true)
            _ = try Tensor.qlinear(x, weight: q, weightScale: s, colSum: cs)
            packedStorage = q.storage
            let dense = try csr(16, 8, keep: 0.5, seed: 3)   // runs on the dense copy
            _ = try Tensor.csrLinear(x, values: dense.values, indices: dense.indices, indptr: dense.indptr, inFeatures: 16)
            valuesStorage = dense.values.storage
            XCTAssertNotNil(packedStorage); XCTAssertNotNil(valuesStorage)
        }
        XCTAssertNil(packedStorage)
        XCTAssertNil(valuesStorage)
    }
}
