import Distributed
import Lang
import Train

/// The job a script runs in: `mpirun -np N mlw run file.mlw` starts N ranks of one world
/// (Docs/distributed.md); a plain `mlw run` is rank 0 of 1.
let distributedLibrary = Library("distributed", doc: "Data-parallel jobs under mpirun: world() gives this process's rank and the world size; train(...) spreads over the ranks.", [
    NativeFunction("world", [],
                   doc: "This process's place in the job: {rank, size} (rank 0 of 1 outside mpirun). Read from the launcher's environment; MPI itself is loaded only when train needs it.",
                   example: "world()", result: "{rank: 0, size: 1}") { _ in
        let w = World.detected
        return .record([("rank", .int(w.rank)), ("size", .int(w.size))])
    },
])

/// `train`'s data-parallel setting: nil in a world of one (the single-process loop);
/// otherwise the MPI collective (loaded and initialised on first use).
func dataParallel(_ a: Args) throws -> DataParallel? {
    let deterministic = try a.bool("deterministic")
    let bucketMB = try a.double("bucket_mb")
    guard bucketMB > 0, bucketMB <= 4096 else { throw a.invalid("bucket_mb", "must be in (0, 4096] megabytes, got \(bucketMB)") }
    guard World.detected.size > 1 else { return nil }
    do { return DataParallel(try World.collective(), deterministic: deterministic, bucketMB: bucketMB) }
    catch let e as DistributedError { throw NativeError("train: \(e.message)") }
}

/// Ranks other than 0 compute like rank 0 but write nothing to the registry.
var registryWritesSkipped: Bool { World.isSecondary }

extension Workbench {
    /// True under mpirun for every rank but 0 (`mlw run` records the run on rank 0 only).
    public static var isSecondaryRank: Bool { World.isSecondary }
    /// `mlw run` finished the script without error: leave the MPI job cleanly.
    public static func finishDistributed() { World.finish() }
}
