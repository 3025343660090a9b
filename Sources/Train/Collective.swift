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
}

/// Rows `lo..<hi` of a global batch of `count` rows that `rank` of `size` trains on: contiguous,
/// sizes differing by at most one (the first `count % size` ranks take one more).
public func shardRange(count: Int, rank: Int, size: Int) -> Range<Int> {
    let base = count / size, extra = count % size
    let lo = rank * base + min(rank, extra)
    return lo..<(lo + base + (rank < extra ? 1 : 0))
}

/// Parameter gradients packed into a few flat buffers ("buckets", as PyTorch DDP's) so one
/// collective moves many small tensors. The layout is fixed by the parameter names and
/// shapes, identical on every rank.
struct GradientBuckets {
    struct Slot { var name: String; var bucket: Int; var offset: Int; var count: Int; var shape: [Int] }
    var slots: [Slot] = []
    var sizes: [Int] = []
    /// Buckets close at about 1 Mi floats (4 MiB): large enough to amortise a collective's
    /// latency, small enough to keep a few in flight.
    static let capacity = 1 << 20

    init(names: [String], params: [String: Tensor], extra: Int) {
        var bucket = 0, used = 0
        for name in names {
            guard let p = params[name] else { continue }
            if used > 0 && used + p.count > Self.capacity { sizes.append(used); bucket += 1; used = 0 }
            slots.append(Slot(name: name, bucket: bucket, offset: used, count: p.count, shape: p.shape))
            used += p.count
        }
        // The loss and correct-count ride in the last bucket (so every rank sees the global loss).
        sizes.append(used + extra)
    }

    /// The gradients scaled by `scale` (this shard's share of the global batch) in bucket
    /// layout; a parameter with no gradient contributes zeros.
    func pack(_ grads: [String: Tensor], scale: Float, into buffers: inout [[Float]]) throws {
        if buffers.count != sizes.count { buffers = sizes.map { [Float](repeating: 0, count: $0) } }
        for s in slots {
            try buffers[s.bucket].withUnsafeMutableBufferPointer { b in
                let dst = b.baseAddress! + s.offset
                guard let g = grads[s.name], g.count == s.count else { dst.update(repeating: 0, count: s.count); return }
                try g.astype(.float32).contiguous().withFloats { src in for i in 0..<s.count { dst[i] = src[i] * scale } }
            }
        }
    }

    /// The summed gradients as tensors, by parameter name.
    func unpack(_ buffers: [[Float]]) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for s in slots {
            out[s.name] = try Tensor(Array(buffers[s.bucket][s.offset..<(s.offset + s.count)]), shape: s.shape)
        }
        return out
    }
}
