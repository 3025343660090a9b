import Foundation
import XCTest
@testable import Frames

/// group_by/agg, every join kind, sort_by and pivot against pandas on random tables with
/// nulls, strings and duplicate keys. Both sides read the same CSV files; pandas' answers
/// come back as JSON rows. Needs MLW_PYTHON (a Python with pandas); skipped without it.
final class PandasCrossCheckTests: XCTestCase {
    static var python: String? {
        guard let p = ProcessInfo.processInfo.environment["MLW_PYTHON"], FileManager.default.isExecutableFile(atPath: p) else { return nil }
        return p
    }

    /// A random table: user (text, ~12 values, nulls), k2 (int 0-3, nulls), amount (float,
    /// nulls), qty (int), merchant (text, 4 values), rid (row id).
    func table(rows: Int, seed: UInt64, userPrefix: String = "u") -> String {
        var rng = SplitMix64(seed: seed)
        var lines = ["rid,user,k2,amount,qty,merchant"]
        for r in 0..<rows {
            let user = rng.below(10) == 0 ? "" : "\(userPrefix)\(rng.below(12))"
            let k2 = rng.below(8) == 0 ? "" : "\(rng.below(4))"
            let amount = rng.below(7) == 0 ? "" : String(Double(rng.below(100_000)) / 100 - 300)
            let qty = "\(rng.below(20))"
            let merchant = ["m_a", "m_b", "M_c", "m d"][rng.below(4)]
            lines.append("\(r),\(user),\(k2),\(amount),\(qty),\(merchant)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs `script` with `a` and `b` (paths of two CSV files) defined; it prints
    /// JSON: a record of named results, each a list of rows.
    func pandas(_ script: String, _ a: String, _ b: String) throws -> [String: [[Any?]]] {
        guard let python = Self.python else { throw XCTSkip("no Python with pandas (set MLW_PYTHON)") }
        let prelude = """
        import json, sys, math
        import pandas as pd
        A = pd.read_csv(sys.argv[1], keep_default_na=True)
        B = pd.read_csv(sys.argv[2], keep_default_na=True)
        out = {}
        def rows(df):
            return [[None if (isinstance(v, float) and math.isnan(v)) else (v.item() if hasattr(v, "item") else v) for v in r] for r in df.itertuples(index=False)]
        """
        let path = tempFile(prelude + "\n" + script + "\nprint(json.dumps(out))\n", name: "check.py")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [path, a, b]
        let pipe = Pipe(), err = Pipe()
        p.standardOutput = pipe
        p.standardError = err
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            XCTFail("pandas failed: " + String(decoding: errData, as: UTF8.self)); return [:]
        }
        let obj = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return obj.mapValues { ($0 as! [[Any]]).map { $0.map { $0 is NSNull ? nil : $0 } } }
    }

    func rows(_ ds: Dataset) -> [[Any?]] {
        (0..<ds.rowCount).map { r in
            ds.columns.map { c -> Any? in
                switch c.value(at: r) {
                case .null: return nil
                case .int(let i): return Double(i)
                case .double(let d): return d
                case .bool(let b): return b ? 1.0 : 0.0
                case .string(let s): return s
                }
            }
        }
    }

    func same(_ x: Any?, _ y: Any?) -> Bool {
        switch (x, y) {
        case (nil, nil): return true
        case (let a as String, let b as String): return a == b
        case (let a as Double, let b as NSNumber), (let b as NSNumber, let a as Double):
            let v = b.doubleValue
            return abs(a - v) <= 1e-9 * max(1, abs(a), abs(v))
        default: return false
        }
    }

    func assertRowsEqual(_ mlw: [[Any?]], _ pd: [[Any?]]?, _ what: String, sorted: Bool = false,
                         file: StaticString = #filePath, line: UInt = #line) {
        guard let pd else { return XCTFail("pandas gave no \(what)", file: file, line: line) }
        func key(_ r: [Any?]) -> String {
            r.map { v -> String in
                if let d = v as? Double { return String(format: "%.6f", d) }
                if let n = v as? NSNumber { return String(format: "%.6f", n.doubleValue) }
                return v.map { "\($0)" } ?? "∅"
            }.joined(separator: "|")
        }
        let m = sorted ? mlw.sorted { key($0) < key($1) } : mlw
        let p = sorted ? pd.sorted { key($0) < key($1) } : pd
        XCTAssertEqual(m.count, p.count, "\(what): row count", file: file, line: line)
        for (i, (a, b)) in zip(m, p).enumerated() {
            guard a.count == b.count, zip(a, b).allSatisfy({ same($0, $1) }) else {
                return XCTFail("\(what): row \(i) differs\n  mlw:    \(a)\n  pandas: \(b)", file: file, line: line)
            }
        }
    }

    func read(_ path: String) throws -> Dataset {
        var o = CSVOptions()
        o.types = ["user": .string, "merchant": .string]
        return try readCSV(path, options: o)
    }

    func testGroupByAggMatchesPandas() throws {
        for seed in [1, 2, 3] as [UInt64] {
            let a = tempFile(table(rows: 400, seed: seed), name: "a.csv"), b = tempFile(table(rows: 50, seed: seed + 10), name: "b.csv")
            let got = try pandas("""
            g = A.groupby(["user", "k2"], dropna=True).agg(n=("amount", "size"), c=("amount", "count"), total=("amount", "sum"),
                avg=("amount", "mean"), lo=("amount", "min"), hi=("amount", "max"), sd=("amount", "std"), v=("amount", "var"),
                med=("amount", "median"), p90=("amount", lambda s: s.quantile(0.9)), f=("merchant", "first"),
                l=("merchant", "last"), k=("merchant", "nunique"), q=("qty", "sum")).reset_index()
            out["g"] = rows(g)
            """, a, b)
            let ds = try read(a)
            let g = try ds.groupBy(["user", "k2"], [("n", .count(nil)), ("c", .count("amount")), ("total", .sum("amount")),
                                                    ("avg", .mean("amount")), ("lo", .min("amount")), ("hi", .max("amount")),
                                                    ("sd", .std("amount")), ("v", .variance("amount")), ("med", .median("amount")),
                                                    ("p90", .quantile("amount", 0.9)), ("f", .first("merchant")), ("l", .last("merchant")),
                                                    ("k", .nUnique("merchant")), ("q", .sum("qty"))])
            assertRowsEqual(rows(g), got["g"], "group_by seed \(seed)")
        }
    }

    func testEveryJoinKindMatchesPandas() throws {
        let a = tempFile(table(rows: 300, seed: 7), name: "a.csv"), b = tempFile(table(rows: 60, seed: 8), name: "b.csv")
        // pandas matches NaN keys with each other; MLW never matches null keys. So pandas
        // joins against B without null keys, and the outer join adds B's null-key rows.
        let got = try pandas("""
        keys = ["user", "k2"]
        Bn = B.dropna(subset=keys)
        Bnull = B[B[keys].isna().any(axis=1)]
        for how in ["inner", "left"]:
            out[how] = rows(pd.merge(A, Bn, on=keys, how=how))
        o = pd.merge(A, Bn, on=keys, how="outer")
        extra = Bnull.rename(columns={c: c + "_y" for c in B.columns if c not in keys})
        out["outer"] = rows(pd.concat([o, extra], ignore_index=True)[o.columns])
        matched = set(pd.merge(A, Bn, on=keys, how="inner")["rid_x"])
        out["semi"] = rows(A[A["rid"].isin(matched)])
        out["anti"] = rows(A[~A["rid"].isin(matched)])
        B2 = B.rename(columns={"user": "uid"})
        out["lr"] = rows(pd.merge(A, B2.dropna(subset=["uid"]), left_on=["user"], right_on=["uid"], how="inner"))
        """, a, b)
        let l = try read(a), r = try read(b)
        for how in JoinKind.allCases {
            let j = try l.join(r, leftOn: ["user", "k2"], rightOn: ["user", "k2"], how: how)
            assertRowsEqual(rows(j), got[how.rawValue], "join \(how.rawValue)", sorted: how == .inner || how == .outer || how == .left)
        }
        let lr = try l.join(try r.rename(["user": "uid"]), leftOn: ["user"], rightOn: ["uid"])
        assertRowsEqual(rows(lr), got["lr"], "join left_on/right_on", sorted: true)
    }

    func testSortByMatchesPandas() throws {
        let a = tempFile(table(rows: 500, seed: 11), name: "a.csv"), b = tempFile(table(rows: 5, seed: 12), name: "b.csv")
        let got = try pandas("""
        out["s1"] = rows(A.sort_values(["user", "amount"], ascending=[True, False], kind="stable", na_position="last"))
        out["s2"] = rows(A.sort_values(["k2", "merchant", "qty"], ascending=[False, True, False], kind="stable", na_position="last"))
        """, a, b)
        let ds = try read(a)
        assertRowsEqual(rows(try ds.sortBy(["user", "amount"], descending: [false, true])), got["s1"], "sort_by 1")
        assertRowsEqual(rows(try ds.sortBy(["k2", "merchant", "qty"], descending: [true, false, true])), got["s2"], "sort_by 2")
    }

    func testPivotMatchesPandas() throws {
        let a = tempFile(table(rows: 300, seed: 21), name: "a.csv"), b = tempFile(table(rows: 5, seed: 22), name: "b.csv")
        let got = try pandas("""
        for f in ["sum", "mean", "max"]:
            out[f] = rows(pd.pivot_table(A, index="user", columns="merchant", values="qty", aggfunc=f).reset_index())
        """, a, b)
        let ds = try read(a)
        for (name, agg) in [("sum", Aggregation.sum("qty")), ("mean", .mean("qty")), ("max", .max("qty"))] {
            assertRowsEqual(rows(try ds.pivot(index: ["user"], columns: "merchant", values: "qty", agg: agg)), got[name], "pivot \(name)")
        }
    }
}
