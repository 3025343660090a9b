/// Lists and records. Lists are values: functions return new lists.
public let collectionLibrary = Library("lists", doc: "Lists and records: length, map/filter/reduce, ranges, sorting, fields.", [
    NativeFunction("len", [Param("x", .oneOf([.list, .string, .record]))], doc: "Number of items, characters or fields.",
                   example: "len([1, 2, 3])", result: "3") { a in
        switch a["x"] {
        case .list(let xs): return .int(xs.count)
        case .string(let s): return .int(s.count)
        case .record(let r): return .int(r.keys.count)
        default: return .int(0)
        }
    },
    NativeFunction("range", [Param("start", .int), Param("stop", .optional(.int), .nil), Param("step", .int, .int(1))],
                   doc: "Integers from start (default 0) up to, not including, stop.", example: "range(1, 10, 3)", result: "[1, 4, 7]") { a in
        var lo = 0, hi = try a.int("start")
        if !a.isNil("stop") { lo = hi; hi = try a.int("stop") }
        let step = try a.int("step")
        guard step != 0 else { throw a.invalid("step", "must not be zero") }
        // Distances as UInt: `hi - lo` can exceed Int.max (range(Int.min, 0)) and
        // `-step` overflows for Int.min.
        let n: UInt
        if step > 0 { n = hi > lo ? (UInt(bitPattern: hi &- lo) - 1) / step.magnitude + 1 : 0 }
        else { n = lo > hi ? (UInt(bitPattern: lo &- hi) - 1) / step.magnitude + 1 : 0 }
        guard n <= UInt(Limits.maxListItems) else {
            throw a.invalid("stop", "range of \(n) items exceeds the list limit of \(Limits.maxListItems) items")
        }
        var out: [Value] = []
        out.reserveCapacity(Int(n))
        var i = lo
        // Every item lies in [lo, hi); only the step after the last may wrap, and it is unused.
        for _ in 0..<Int(n) { out.append(.int(i)); i = i &+ step }
        return .list(out)
    },
    NativeFunction("map", [Param("items", .list), Param("f", .function)], doc: "Apply f to each item.",
                   example: "map([1, 2, 3], |x| x * 2)", result: "[2, 4, 6]") { a in
        let f = a["f"]
        return .list(try a.list("items").map { try a.call(f, [$0]) })
    },
    NativeFunction("filter", [Param("items", .list), Param("f", .function)], doc: "Items for which f returns true.",
                   example: "filter(range(6), |x| x % 2 == 0)", result: "[0, 2, 4]") { a in
        let f = a["f"]
        return .list(try a.list("items").filter { x in
            guard case .bool(let keep) = try a.call(f, [x]) else { throw a.invalid("f", "must return a bool") }
            return keep
        })
    },
    NativeFunction("reduce", [Param("items", .list), Param("f", .function), Param("initial", .any, .undefined)],
                   doc: "Fold the items with f(acc, item), starting from initial or the first item.",
                   example: "reduce([1, 2, 3, 4], |acc, x| acc * x)", result: "24") { a in
        var items = try a.list("items")[...]
        var acc = a["initial"]
        if isUndefined(acc) {
            guard let first = items.first else { throw a.invalid("items", "reduce of an empty list needs 'initial'") }
            acc = first
            items = items.dropFirst()
        }
        for x in items { acc = try a.call(a["f"], [acc, x]) }
        return acc
    },
    NativeFunction("sum", [Param("items", .list)], doc: "Sum of numbers (an integer when all are integers).",
                   example: "sum([1, 2, 3.5])", result: "6.5") { a in
        var acc: Value = .int(0)
        for x in try a.list("items") { acc = try Ops.binary("+", acc, x, at: .none) }
        return acc
    },
    NativeFunction("zip", [Param("a", .list), Param("b", .list)], doc: "Pairs of items at the same position.",
                   example: "zip([1, 2], [\"a\", \"b\"])", result: "[[1, \"a\"], [2, \"b\"]]") { a in
        .list(zip(try a.list("a"), try a.list("b")).map { .list([$0, $1]) })
    },
    NativeFunction("enumerate", [Param("items", .list), Param("start", .int, .int(0))], doc: "Pairs [index, item].",
                   example: "enumerate([\"a\", \"b\"])", result: "[[0, \"a\"], [1, \"b\"]]") { a in
        let s = try a.int("start"), items = try a.list("items")
        // The last index must fit: enumerate(xs, start: Int.max) overflowed on the second item.
        if items.count > 1, s.addingReportingOverflow(items.count - 1).overflow {
            throw a.invalid("start", "\(s) + \(items.count - 1) does not fit in an integer")
        }
        return .list(items.enumerated().map { .list([.int($0.offset &+ s), $0.element]) })
    },
    NativeFunction("sort", [Param("items", .list), Param("reverse", .bool, .bool(false))], doc: "Sorted copy (stable).",
                   example: "sort([3, 1, 2])", result: "[1, 2, 3]") { a in
        .list(try sortValues(try a.list("items"), keys: nil, reverse: try a.bool("reverse")))
    },
    NativeFunction("sort_by", [Param("items", .list), Param("key", .function), Param("reverse", .bool, .bool(false))],
                   doc: "Copy sorted by key(item) (stable).", example: "sort_by([\"ccc\", \"a\", \"bb\"], len)", result: "[\"a\", \"bb\", \"ccc\"]") { a in
        let items = try a.list("items")
        let keys = try items.map { try a.call(a["key"], [$0]) }
        return .list(try sortValues(items, keys: keys, reverse: try a.bool("reverse")))
    },
    NativeFunction("reverse", [Param("items", .list)], doc: "Copy in reverse order.", example: "reverse([1, 2, 3])", result: "[3, 2, 1]") { a in
        .list(try a.list("items").reversed())
    },
    NativeFunction("append", [Param("items", .list), Param("item")], doc: "Copy with one more item at the end.",
                   example: "append([1, 2], 3)", result: "[1, 2, 3]") { a in
        var xs = try a.list("items")
        xs.append(a["item"])
        return .list(xs)
    },
    NativeFunction("any", [Param("items", .list)], doc: "True if some item is true.", example: "any([false, true])", result: "true") { a in
        .bool(try a.list("items").contains { if case .bool(true) = $0 { return true } else { return false } })
    },
    NativeFunction("all", [Param("items", .list)], doc: "True if every item is true.", example: "all([true, false])", result: "false") { a in
        .bool(try a.list("items").allSatisfy { if case .bool(true) = $0 { return true } else { return false } })
    },
    NativeFunction("keys", [Param("r", .any)], doc: "Field names in order (of a record, or of a record-like value such as an evaluation).",
                   example: "keys({lr: 0.1, epochs: 5})", result: "[\"lr\", \"epochs\"]") { a in
        if case .native(let n) = a["r"], !n.fieldNames.isEmpty { return .strings(n.fieldNames) }
        return .strings(try a.record("r").keys)
    },
    NativeFunction("values", [Param("r", .record)], doc: "Field values in order.", example: "values({lr: 0.1, epochs: 5})", result: "[0.1, 5]") { a in
        .list(try a.record("r").values)
    },
    NativeFunction("has", [Param("r", .record), Param("key", .string)], doc: "Whether the record has the field.",
                   example: "has({lr: 0.1}, \"lr\")", result: "true") { a in
        .bool(try a.record("r")[try a.string("key")] != nil)
    },
    NativeFunction("get", [Param("r", .record), Param("key", .string), Param("default", .any, .nil)],
                   doc: "A field's value, or default when missing.", example: "get({lr: 0.1}, \"epochs\", 10)", result: "10") { a in
        try a.record("r")[try a.string("key")] ?? a["default"]
    },
    NativeFunction("items", [Param("r", .record)], doc: "Pairs [name, value] of a record.", example: "items({a: 1})", result: "[[\"a\", 1]]") { a in
        let r = try a.record("r")
        return .list(zip(r.keys, r.values).map { .list([.string($0), $1]) })
    },
])

func sortValues(_ items: [Value], keys: [Value]?, reverse: Bool) throws -> [Value] {
    let ks = keys ?? items
    var failure: NativeError?
    let order = ks.indices.sorted { i, j in
        guard let c = ks[i].compare(ks[j]) else {
            failure = failure ?? NativeError("cannot sort: \(ks[i].typeName) and \(ks[j].typeName) are not comparable")
            return i < j
        }
        return c == 0 ? i < j : (reverse ? c > 0 : c < 0)
    }
    if let failure { throw failure }
    return order.map { items[$0] }
}
