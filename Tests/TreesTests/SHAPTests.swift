import Foundation
import XCTest
@testable import Trees

final class SHAPTests: XCTestCase {
    /// E[f(x) | x_S] with the covers as background (the value function TreeSHAP uses).
    func conditional(_ t: Tree, _ x: [Float], _ s: Set<Int>, _ n: Int = 0) -> Double {
        if t.feature[n] < 0 { return t.value[n] }
        let f = Int(t.feature[n]), l = Int(t.left[n]), r = Int(t.right[n])
        if s.contains(f) {
            let v = x[f]
            return conditional(t, x, s, (v.isNaN ? t.missingLeft[n] != 0 : v <= t.threshold[n]) ? l : r)
        }
        return (t.cover[l] * conditional(t, x, s, l) + t.cover[r] * conditional(t, x, s, r)) / t.cover[n]
    }

    func bruteForce(_ e: Ensemble, _ x: [Float]) -> [Double] {
        let f = e.features
        var phi = [Double](repeating: 0, count: f)
        func fact(_ n: Int) -> Double { n <= 1 ? 1 : Double(n) * fact(n - 1) }
        for t in e.trees {
            for i in 0..<f {
                for mask in 0..<(1 << f) where mask & (1 << i) == 0 {
                    let s = Set((0..<f).filter { mask & (1 << $0) != 0 })
                    let weight = fact(s.count) * fact(f - s.count - 1) / fact(f)
                    phi[i] += weight * (conditional(t, x, s.union([i])) - conditional(t, x, s))
                }
            }
        }
        return phi
    }

    func testMatchesBruteForceShapleyAndSumsToTheRawScore() throws {
        let d = TreeFixtures.classification(rows: 1500, features: 5, missing: true)
        var o = BoostOptions(); o.trees = 8; o.grow.maxLeaves = 12
        let e = try gradientBoosting(d, objective: .binary, classes: 2, options: o).ensemble
        for r in [0, 7, 31, 200] {
            let x = Array(d.x[(r * 5)..<(r * 5 + 5)])
            let c = e.contributions(x, rows: 1)
            let raw = e.rawScores(x, rows: 1)[0]
            XCTAssertEqual(c.reduce(0, +), raw, accuracy: 1e-5)
            let want = bruteForce(e, x)
            for f in 0..<5 { XCTAssertEqual(c[f], want[f], accuracy: 1e-9, "row \(r) feature \(f)") }
        }
    }

    func testMulticlassAndForestContributionsAdd() throws {
        let d = TreeFixtures.multiclass(rows: 600)
        var o = BoostOptions(); o.trees = 5
        let e = try gradientBoosting(d, objective: .softmax, classes: 3, options: o).ensemble
        let x = Array(d.x[0..<10])
        let c = e.contributions(x, rows: 2), raw = e.rawScores(x, rows: 2)
        for i in 0..<2 { for k in 0..<3 { XCTAssertEqual(c[((i * 3 + k) * 6)..<((i * 3 + k) * 6 + 6)].reduce(0, +), raw[i * 3 + k], accuracy: 1e-5) } }
        var fo = ForestOptions(); fo.trees = 5
        let rf = try randomForest(TreeFixtures.regression(rows: 300), classes: 0, options: fo).ensemble
        let rx = Array(TreeFixtures.regression(rows: 300).x[0..<6])
        XCTAssertEqual(rf.contributions(rx, rows: 1).reduce(0, +), rf.rawScores(rx, rows: 1)[0], accuracy: 1e-5)
    }
}
