import Frames
import Foundation
import Lang
import Recommend
import Tensor
import Train

/// `interactions(...)`: a user x item matrix with its id maps. Fields users, items, count,
/// explicit, timed.
final class InteractionsValue: NativeValue {
    let x: Interactions
    init(_ x: Interactions) { self.x = x }
    var typeName: String { "interactions" }
    var description: String { x.description }
    var fieldNames: [String] { ["users", "items", "count", "explicit", "timed"] }
    func field(_ name: String) throws -> Value? {
        switch name {
        case "users": return .int(x.users.count)
        case "items": return .int(x.items.count)
        case "count": return .int(x.count)
        case "explicit": return .bool(x.explicit)
        case "timed": return .bool(x.times != nil)
        default: return nil
        }
    }
}

/// The `Recommender` of a model value, made once per model revision (a few kept).
private nonisolated(unsafe) var recommenderCache: [(UInt64, Recommender)] = []
private let recommenderLock = NSLock()

func recommender(_ m: Model) throws -> Recommender {
    recommenderLock.lock(); defer { recommenderLock.unlock() }
    if let hit = recommenderCache.first(where: { $0.0 == m.revision }) { return hit.1 }
    let r = try Recommender(m)
    recommenderCache.append((m.revision, r))
    if recommenderCache.count > 4 { recommenderCache.removeFirst() }
    return r
}

func recommender(_ a: Args, _ name: String = "model") throws -> Recommender {
    let m = try a.native(name, as: ModelValue.self, "model").model
    guard m.blobs[RecommenderMeta.blobName] != nil else { throw a.invalid(name, "is not a recommender (fit one with als, bpr, item_knn or popularity)") }
    return try recommender(m)
}

/// Fields a recommender model adds to `model.NAME` (the hook in ModelValue.field).
func recommenderField(_ name: String, _ m: Model) throws -> Value? {
    guard m.blobs[RecommenderMeta.blobName] != nil else { return nil }
    let r = try recommender(m)
    switch name {
    case "user_factors": return .native(TensorValue(try r.userFactors()))
    case "item_factors": return .native(TensorValue(try r.itemFactors()))
    case "recommender":
        return .record([("kind", .string(r.meta.kind.rawValue)), ("users", .int(r.userCount)), ("items", .int(r.itemCount)),
                        ("factors", .int(r.f)), ("explicit", .bool(r.meta.explicit)), ("int8", .bool(r.quantized != nil)), ("history", .doubles(r.meta.history))])
    default: return nil
    }
}

/// An id as map text: integers as decimal, strings as they are.
func idKey(_ v: Value, _ a: Args, _ name: String) throws -> String {
    switch v {
    case .int(let i): return String(i)
    case .string(let s): return s
    case .float(let d) where d == d.rounded() && Swift.abs(d) < 1e15: return String(Int(d))
    default: throw a.bad(name, "an id (integer or string)", v)
    }
}

func idValue(_ id: String, _ map: IdMap) -> Value {
    if map.integer, let i = Int(id) { return .int(i) }
    return .string(id)
}

/// A dataset column as id texts; integer ids are flagged. Missing cells are an error naming the row.
func idColumn(_ ds: Dataset, _ name: String, _ a: Args, _ param: String) throws -> (ids: [String], integer: Bool) {
    guard let col = ds[name] else { throw a.invalid(param, "no column '\(name)' (columns: \(ds.columnNames.joined(separator: ", ")))") }
    if let r = col.missing.firstIndex(of: true) { throw a.invalid(param, "column '\(name)' is missing a value at row \(r + 1)") }
    switch col.data {
    case .int(let v): return (v.map { String($0) }, true)
    case .string(let v): return (v, false)
    case .category(let codes, let levels): return (codes.map { levels[Int($0)] }, false)
    case .float(let v):
        guard v.allSatisfy({ $0 == $0.rounded() && Swift.abs($0) < 1e15 }) else { throw a.invalid(param, "column '\(name)' holds non-integer numbers; ids must be integers or strings") }
        return (v.map { String(Int($0)) }, true)
    }
}

func numberColumn(_ ds: Dataset, _ name: String, _ a: Args, _ param: String) throws -> [Double] {
    guard let col = ds[name] else { throw a.invalid(param, "no column '\(name)' (columns: \(ds.columnNames.joined(separator: ", ")))") }
    guard let v = col.doubles else { throw a.invalid(param, "column '\(name)' is not numeric") }
    if let r = col.missing.firstIndex(of: true) { throw a.invalid(param, "column '\(name)' is missing a value at row \(r + 1)") }
    return v
}

/// One answer as a record {items, scores, known}.
func answerValue(_ r: Recommender, _ ans: Recommender.Answer) -> Value {
    .record([("items", .list(ans.items.map { idValue(r.meta.items.ids[$0], r.meta.items) })),
             ("scores", .doubles(ans.scores.map { Double($0) })), ("known", .bool(ans.known))])
}
