import Frames
import Lang

/// The `shard:` argument of read_csv and read_parquet: a record `{rank: r, size: n}` (what
/// the mpi library's `world()` returns; other fields are ignored), or nil for the whole file.
func shardArg(_ a: Args, _ name: String = "shard") throws -> Shard? {
    if a.isNil(name) { return nil }
    let r = try a.record(name)
    guard case .int(let rank)? = r["rank"], case .int(let size)? = r["size"] else {
        throw a.invalid(name, "must be a record {rank: int, size: int}")
    }
    do { return try Shard(rank: rank, size: size) }
    catch let e as DataError { throw a.invalid(name, e.message) }
}
