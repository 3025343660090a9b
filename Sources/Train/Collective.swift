import Graph
import Tensor

/// The collective operations data-parallel training needs, across the ranks of one job.
/// `train` knows ranks only through this protocol; the MPI implementation lives in the
/// Distributed target (loaded at run time), so Train links no MPI.
public protocol Collective: AnyObject {
    /// This process's rank in 0..<size.
    var rank: Int { get }
    var size: Int { get }
    /// Sums each buffer element-wise across all ranks, in place (every rank gets the sums).
    /// `ordered`: gather every rank's buffer and add them in rank order, so the bits do not
    /// depend on the reduction algorithm MPI picks.
    func sum(_ buffers: inout [[Float]], ordered: Bool) throws
    /// Element-wise sums of a few doubles (metrics), always added in rank order.
    func sum(_ values: [Double]) throws -> [Double]
    /// Starts summing `count` floats at `buffer` across ranks and returns at once (a
    /// non-blocking collective; `ordered` as in `sum`). The memory must stay valid and
    /// untouched until `waitAll()`. Every rank starts the same collectives in the same order.
    func startSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, ordered: Bool) throws
    /// Lets the collectives started move on without waiting for them (MPI advances a
    /// non-blocking collective only inside MPI calls).
    func progress() throws
    /// Waits for every collective started (under the watchdog's deadline); the buffers then hold the sums.
    func waitAll() throws
}

/// Rows `lo..<hi` of a global batch of `count` rows that `rank` of `size` trains on: contiguous,
/// sizes differing by at most one (the first `count % size` ranks take one more).
public func shardRange(count: Int, rank: Int, size: Int) -> Range<Int> {
    let base = count / size, extra = count % size
    let lo = rank * base + min(rank, extra)
    return lo..<(lo + base + (rank < extra ? 1 : 0))
}

/// Parameter gradients packed into flat buffers ("buckets", as PyTorch DDP's) so one
/// collective moves many small tensors. Parameters go in reverse order (the backward pass
/// finishes the last layers' gradients first), so the first bucket fills first and its sum
/// can run while the backward pass computes the rest. The layout is fixed by the parameter
/// names, shapes and the capacity, identical on every rank.
struct GradientBuckets {
    struct Slot { var name: String; var bucket: Int; var offset: Int; var count: Int; var shape: [Int] }
    var slots: [Slot] = []
    var sizes: [Int] = []
    /// Slot index by parameter name.
    var index: [String: Int] = [:]
    /// Floats at the start of the first bucket for `extra` values (the loss and correct count:
    /// known after the forward pass, before any gradient).
    let extra: Int

    /// `names` in graph order; a bucket closes before it would pass `capacity` floats.
    init(names: [String], params: [String: Tensor], extra: Int, capacity: Int) {
        self.extra = extra
        var bucket = 0, used = extra
        for name in names.reversed() {
            guard let p = params[name] else { continue }
            if used > (bucket == 0 ? extra : 0) && used + p.count > capacity { sizes.append(used); bucket += 1; used = 0 }
            index[name] = slots.count
            slots.append(Slot(name: name, bucket: bucket, offset: used, count: p.count, shape: p.shape))
            used += p.count
        }
        sizes.append(used)
    }

    /// Bucket capacity in floats for `mb` megabytes (at least one float).
    static func capacity(mb: Double) -> Int { max(1, Int(mb * 1_048_576 / 4)) }
}
