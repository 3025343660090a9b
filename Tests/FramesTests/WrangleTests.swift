import Foundation
import XCTest
@testable import Frames

/// Group-by, joins, row operations, expressions and windows on small hand-made tables
/// whose answers are worked out by hand in the comments.
final class WrangleTests: XCTestCase {
    /// user: a, b, a, nil, a ; amount: 1, 5, nil, 7, 4 ; merchant: m1, m2, m1, m3, m2
    func tx() -> Dataset {
        Dataset(columns: [
            Column(name: "user", data: .string(["a", "b", "a", "", "a"]), missing: [false, false, false, true, false]),
            Column(name: "amount", data: .float([1, 5, .nan, 7, 4]), missing: [false, false, true, false, false]),
            Column(name: "merchant", data: .category(codes: [0, 1, 0, 2, 1], levels: ["m1", "m2", "m3"])),
        ])
    }

    func cells(_ ds: Dataset, _ name: String) -> [DataValue] {
        let c = ds[name]!
        return (0..<c.count).map { c.value(at: $0) }
    }

    func testGroupByAggregatesSkipNullsAndSortByKey() throws {
        let g = try tx().groupBy(["user"], [("n", .count(nil)), ("c", .count("amount")), ("total", .sum("amount")),
                                            ("avg", .mean("amount")), ("lo", .min("amount")), ("hi", .max("amount")),
                                            ("sd", .std("amount")), ("v", .variance("amount")), ("med", .median("amount")),
                                            ("p90", .quantile("amount", 0.9)), ("f", .first("merchant")), ("l", .last("merchant")),
                                            ("k", .nUnique("merchant"))])
        // The null-key row (amount 7) forms no group.
        XCTAssertEqual(cells(g, "user"), [.string("a"), .string("b")])
        XCTAssertEqual(cells(g, "n"), [.int(3), .int(1)])
        XCTAssertEqual(cells(g, "c"), [.int(2), .int(1)])
        XCTAssertEqual(cells(g, "total"), [.double(5), .double(5)])
        XCTAssertEqual(cells(g, "avg"), [.double(2.5), .double(5)])
        XCTAssertEqual(cells(g, "lo"), [.double(1), .double(5)])
        XCTAssertEqual(cells(g, "hi"), [.double(4), .double(5)])
        // a: values 1, 4 -> mean 2.5, squared deviations 4.5, ddof 1 -> var 4.5.
        XCTAssertEqual(cells(g, "v"), [.double(4.5), .null])
        XCTAssertEqual(cells(g, "sd")[0].number!, 4.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(cells(g, "med"), [.double(2.5), .double(5)])
        XCTAssertEqual(cells(g, "p90")[0].number!, 1 + 0.9 * 3, accuracy: 1e-12)
        XCTAssertEqual(cells(g, "f"), [.string("m1"), .string("m2")])
        XCTAssertEqual(cells(g, "l"), [.string("m2"), .string("m2")])
        XCTAssertEqual(cells(g, "k"), [.int(2), .int(1)])
        XCTAssertEqual(g.lineage.steps.last?.op, "group_by")
        XCTAssertNotEqual(g.lineage.hash, try tx().groupBy(["user"], [("n", .count(nil))]).lineage.hash)
    }

    func testGroupByTwoKeysWithIntsAndTextOrdersNumerically() throws {
        let ds = Dataset(columns: [
            Column(name: "k", data: .int([10, 2, 10, 2, 2])),
            Column(name: "s", data: .string(["b", "b", "a", "b", "a"])),
        ])
        let g = try ds.groupBy(["k", "s"], [("n", .count(nil))])
        XCTAssertEqual(cells(g, "k"), [.int(2), .int(2), .int(10), .int(10)])
        XCTAssertEqual(cells(g, "s"), [.string("a"), .string("b"), .string("a"), .string("b")])
        XCTAssertEqual(cells(g, "n"), [.int(1), .int(2), .int(1), .int(1)])
    }

    func users() -> Dataset {
        Dataset(columns: [
            Column(name: "user", data: .string(["a", "c", "a", ""]), missing: [false, false, false, true]),
            Column(name: "amount", data: .int([100, 200, 300, 400])),
        ])
    }

    func testJoinKinds() throws {
        let l = tx(), r = users()
        let inner = try l.join(r, leftOn: ["user"], rightOn: ["user"], how: .inner)
        // Left rows 0, 2, 4 are "a"; each matches right rows 0 and 2; null keys never match.
        XCTAssertEqual(inner.columnNames, ["user", "amount_x", "merchant", "amount_y"])
        XCTAssertEqual(cells(inner, "amount_y"), [100, 300, 100, 300, 100, 300].map { .int($0) })
        let left = try l.join(r, leftOn: ["user"], rightOn: ["user"], how: .left)
        XCTAssertEqual(left.rowCount, 8)
        XCTAssertEqual(cells(left, "amount_y")[2], .null)  // "b" has no match
        let outer = try l.join(r, leftOn: ["user"], rightOn: ["user"], how: .outer)
        // Left join's 8 rows, then right's "c" and its null-key row.
        XCTAssertEqual(outer.rowCount, 10)
        XCTAssertEqual(cells(outer, "user").suffix(2), [.string("c"), .null])
        XCTAssertEqual(try l.join(r, leftOn: ["user"], rightOn: ["user"], how: .semi).rowCount, 3)
        XCTAssertEqual(cells(try l.join(r, leftOn: ["user"], rightOn: ["user"], how: .anti), "amount"), [.double(5), .double(7)])
        let renamed = try r.rename(["user": "uid"])
        let both = try l.join(renamed, leftOn: ["user"], rightOn: ["uid"])
        XCTAssertEqual(both.columnNames, ["user", "amount_x", "merchant", "uid", "amount_y"])
        XCTAssertEqual(Set(inner.lineage.sources), Set(l.lineage.sources + r.lineage.sources))
        XCTAssertThrowsError(try l.join(r, leftOn: ["user"], rightOn: ["amount"]))  // text vs int
    }

    func testJoinIntAndFloatKeysMatchByValue() throws {
        let a = Dataset(columns: [Column(name: "k", data: .int([1, 2, 3]))])
        let b = Dataset(columns: [Column(name: "k", data: .float([2.0, 3.5])), Column(name: "v", data: .string(["two", "x"]))])
        let j = try a.join(b, leftOn: ["k"], rightOn: ["k"])
        XCTAssertEqual(cells(j, "v"), [.string("two")])
    }

    func testSortByIsStableWithNullsLast() throws {
        let s = try tx().sortBy(["user", "amount"], descending: [false, true])
        XCTAssertEqual(cells(s, "amount"), [.double(4), .double(1), .null, .double(5), .double(7)])
        let d = try tx().sortBy(["merchant"], descending: [true])
        XCTAssertEqual(cells(d, "amount"), [.double(7), .double(5), .double(4), .double(1), .null])
    }

    func testRowOperations() throws {
        let ds = tx()
        XCTAssertEqual(try ds.sample(n: 3, seed: 4).rowCount, 3)
        XCTAssertEqual(try ds.sample(n: 3, seed: 4), try ds.sample(n: 3, seed: 4))
        XCTAssertEqual(try ds.sample(fraction: 0.4, seed: 1).rowCount, 2)
        XCTAssertEqual(cells(try ds.dropDuplicates(on: ["user"]), "amount"), [.double(1), .double(5), .double(7)])
        XCTAssertEqual(try ds.dropNulls().rowCount, 3)
        XCTAssertEqual(cells(try ds.fillNull("amount", .int(0)), "amount")[2], .double(0))
        XCTAssertEqual(cells(try ds.fillNull("user", .string("?")), "user")[3], .string("?"))
        XCTAssertEqual(ds.slice(1, 3).rowCount, 2)
        XCTAssertEqual(ds.slice(-2).rowCount, 2)
        let both = try concatRows([ds, ds.slice(0, 1)])
        XCTAssertEqual(both.rowCount, 6)
        XCTAssertEqual(cells(both, "merchant").last, .string("m1"))
        XCTAssertEqual(cells(try ds.valueCounts("merchant"), "merchant"), [.string("m1"), .string("m2"), .string("m3")])
        XCTAssertEqual(cells(try ds.valueCounts("merchant"), "count"), [.int(2), .int(2), .int(1)])
        XCTAssertEqual(cells(try ds.unique("user"), "user"), [.string("a"), .string("b")])
        XCTAssertEqual(try ds.nUnique("merchant"), 3)
        let wide = try ds.hconcat(Dataset(columns: [Column(name: "z", data: .int([1, 2, 3, 4, 5]))]))
        XCTAssertEqual(wide.columnNames, ["user", "amount", "merchant", "z"])
        XCTAssertThrowsError(try ds.hconcat(ds))
    }

    func testExpressions() throws {
        let ds = tx()
        let e = ColumnExpr.binary("+", .binary("*", .column("amount"), .literal(.int(2))), .literal(.int(1)))
        XCTAssertEqual(cells(try ds.withColumn("y", e), "y"), [.double(3), .double(11), .null, .double(15), .double(9)])
        let big = ColumnExpr.binary("and", .binary(">", .column("amount"), .literal(.int(2))),
                                    .binary("==", .column("merchant"), .literal(.string("m2"))))
        XCTAssertEqual(cells(try ds.filter(big), "amount"), [.double(5), .double(4)])
        XCTAssertEqual(cells(try ds.withColumn("n", .call("is_null", .column("user"), [])), "n"), [0, 0, 0, 1, 0].map { .int($0) })
        XCTAssertEqual(cells(try ds.withColumn("b", .call("bucketize", .column("amount"), [.int(2), .int(5)])), "b"),
                       [.int(0), .int(2), .null, .int(2), .int(1)])
        XCTAssertEqual(cells(try ds.withColumn("s", .call("cast", .column("amount"), [.string("string")])), "s")[0], .string("1"))
        XCTAssertThrowsError(try ds.filter(.binary("+", .column("amount"), .literal(.int(1)))))
        XCTAssertThrowsError(try ds.withColumn("x", .binary("<", .column("user"), .literal(.int(1)))))
        XCTAssertEqual(try ds.withColumn("y", e).lineage.steps.last?.params, "y=((col(\"amount\") * 2) + 1)")
    }

    func testWindowsPivotMeltAndTime() throws {
        let ds = Dataset(columns: [
            Column(name: "u", data: .string(["a", "a", "b", "a", "b"])),
            Column(name: "x", data: .int([1, 2, 10, 3, 20])),
        ])
        let r = try ds.withColumn("r", .call("rolling_mean", .column("x"), [.int(2), .string("u")]))
        XCTAssertEqual(cells(r, "r"), [.null, .double(1.5), .null, .double(2.5), .double(15)])
        let l = try ds.withColumn("p", .call("lag", .column("x"), [.int(1), .string("u")]))
        XCTAssertEqual(cells(l, "p"), [.null, .int(1), .null, .int(2), .int(10)])
        let w = try ds.withColumn("m", .binary("%", .column("x"), .literal(.int(2))))
            .pivot(index: ["u"], columns: "m", values: "x", agg: .sum("x"))
        XCTAssertEqual(w.columnNames, ["u", "0", "1"])
        XCTAssertEqual(cells(w, "0"), [.int(2), .int(30)])
        XCTAssertEqual(cells(w, "1"), [.int(4), .null])
        let long = try ds.melt(idVars: ["u"])
        XCTAssertEqual(long.columnNames, ["u", "variable", "value"])
        XCTAssertEqual(long.rowCount, 5)
        let ts = Column.datetime(name: "ts", micros: ["2024-05-31T23:00:00Z", "2024-06-01", "2024-06-02T07:30:00Z"].map { Datetime.parse($0)! })
        let t = Dataset(columns: [ts])
        let parts = try splitByTime(t, "ts", testFrom: "2024-06-01")
        XCTAssertEqual([parts.train.rowCount, parts.val.rowCount, parts.test.rowCount], [1, 0, 2])
        let h = try t.withColumn("h", .call("hour", .column("ts"), []))
        XCTAssertEqual(cells(h, "h"), [.int(23), .int(0), .int(7)])
        // 2024-06-01 was a Saturday (5 with Monday = 0).
        XCTAssertEqual(cells(try t.withColumn("w", .call("weekday", .column("ts"), [])), "w"), [.int(4), .int(5), .int(6)])
        XCTAssertEqual(cells(try t.filter(.binary(">=", .column("ts"), .literal(.string("2024-06-02")))), "ts").count, 1)
    }
}
