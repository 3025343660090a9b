import Support
import Train
#if canImport(Glibc)
import Glibc
#endif

/// `Collective` over MPI_COMM_WORLD: non-blocking collectives polled against a deadline.
///
/// Every MPI call's result is checked (the communicator returns errors instead of aborting,
/// MPI_ERRORS_RETURN). Each collective also sends a tiny "arrived" message to every other
/// rank; when the collective has not finished within the timeout, the ranks whose message
/// never came are the silent ones, named in the error before MPI_Abort ends the whole job
/// (a rank left waiting would otherwise hang for ever).
public final class MPICollective: Collective {
    let mpi: MPILibrary
    public let rank: Int
    public let size: Int
    let timeout: Double
    /// Collectives started so far (sent in the arrival messages: tells which one a rank reached).
    var calls: Int32 = 0
    static let arrivalTag: Int32 = 4242

    init(timeout: Double) throws {
        mpi = try MPILibrary()
        self.timeout = timeout
        var flag: Int32 = 0
        _ = mpi.initialized(&flag)
        if flag == 0 {
            var provided: Int32 = 0
            // MPI_THREAD_SERIALIZED (2): the interpreter's thread makes every MPI call.
            let rc = mpi.initThread(nil, nil, 2, &provided)
            guard rc == 0 else { throw DistributedError("MPI_Init_thread failed: \(mpi.message(rc))") }
            atexit { MPICollective.finalizeAtExit() }
            MPICollective.finalizer = mpi
        }
        _ = mpi.commSetErrhandler(mpi.commWorld, mpi.errorsReturn)
        var r: Int32 = 0, s: Int32 = 0
        _ = mpi.commRank(mpi.commWorld, &r); _ = mpi.commSize(mpi.commWorld, &s)
        rank = Int(r); size = Int(s)
    }

    nonisolated(unsafe) static var finalizer: MPILibrary?
    /// Set once a collective failed: MPI_Finalize would wait for ranks that are gone.
    nonisolated(unsafe) static var broken = false

    /// A process leaving without `finish()` (a script error on this rank): the other ranks
    /// may be waiting in a collective or in MPI_Finalize for it, so end the whole job now.
    static func finalizeAtExit() {
        guard let mpi = finalizer, !broken else { return }
        var done: Int32 = 0
        _ = mpi.finalized(&done)
        if done == 0 {
            fputs("mlw: rank \(World.detected.rank) of \(World.detected.size) stopped with an error; aborting the job\n", stderr)
            _ = mpi.abort(mpi.commWorld, 1)
        }
    }

    /// The script ended well: leave MPI in step with the other ranks.
    static func finish() {
        guard let mpi = finalizer, !broken else { return }
        var done: Int32 = 0
        _ = mpi.finalized(&done)
        if done == 0 { _ = mpi.finalize() }
    }

    public func sum(_ buffers: inout [[Float]], ordered: Bool) throws {
        if ordered {
            for b in buffers.indices {
                var all = [Float](repeating: 0, count: buffers[b].count * size)
                try buffers[b].withUnsafeBufferPointer { src in
                    try all.withUnsafeMutableBufferPointer { dst in
                        try run("MPI_Iallgather") { req in
                            mpi.iallgather(src.baseAddress, Int32(src.count), mpi.float, dst.baseAddress, Int32(src.count), mpi.float, mpi.commWorld, req)
                        }
                    }
                }
                // Rank order, one addition at a time: the same bits whatever MPI does.
                let n = buffers[b].count
                all.withUnsafeBufferPointer { a in
                    buffers[b].withUnsafeMutableBufferPointer { out in
                        for i in 0..<n { out[i] = a[i] }
                        for r in 1..<size { let base = r * n; for i in 0..<n { out[i] += a[base + i] } }
                    }
                }
            }
        } else {
            for b in buffers.indices {
                try buffers[b].withUnsafeMutableBufferPointer { buf in
                    try run("MPI_Iallreduce") { req in
                        // MPI_IN_PLACE is (void *) 1 in Open MPI's mpi.h.
                        mpi.iallreduce(UnsafeRawPointer(bitPattern: 1), buf.baseAddress, Int32(buf.count), mpi.float, mpi.sum, mpi.commWorld, req)
                    }
                }
            }
        }
    }

    public func sum(_ values: [Double]) throws -> [Double] {
        var all = [Double](repeating: 0, count: values.count * size)
        try values.withUnsafeBufferPointer { src in
            try all.withUnsafeMutableBufferPointer { dst in
                try run("MPI_Iallgather") { req in
                    mpi.iallgather(src.baseAddress, Int32(src.count), mpi.double, dst.baseAddress, Int32(src.count), mpi.double, mpi.commWorld, req)
                }
            }
        }
        var out = Array(all[0..<values.count])
        for r in 1..<max(size, 1) { for i in values.indices { out[i] += all[r * values.count + i] } }
        return out
    }

    /// Starts one non-blocking collective (and the arrival messages), then polls them all
    /// until done, an MPI error, or the deadline.
    func run(_ what: String, _ start: (UnsafeMutablePointer<MPILibrary.Request>) -> Int32) throws {
        calls &+= 1
        let peers = (0..<size).filter { $0 != rank }
        var sent = [Int32](repeating: calls, count: 1)
        var got = [Int32](repeating: -1, count: size)
        var sends = [MPILibrary.Request](repeating: nil, count: peers.count)
        var recvs = [MPILibrary.Request](repeating: nil, count: peers.count)
        var collective: MPILibrary.Request = nil
        try sent.withUnsafeMutableBufferPointer { s in
            try got.withUnsafeMutableBufferPointer { g in
                for (k, p) in peers.enumerated() {
                    try check("MPI_Irecv", mpi.irecv(g.baseAddress! + p, 1, mpi.int, Int32(p), Self.arrivalTag, mpi.commWorld, &recvs[k]))
                    try check("MPI_Isend", mpi.isend(s.baseAddress, 1, mpi.int, Int32(p), Self.arrivalTag, mpi.commWorld, &sends[k]))
                }
                try check(what, start(&collective))
                let deadline = monotonicSeconds() + timeout
                var arrived = [Bool](repeating: false, count: peers.count)
                var done = false, sendsDone = [Bool](repeating: false, count: peers.count)
                var spins = 0
                while true {
                    var flag: Int32 = 0
                    if !done { try check(what, mpi.test(&collective, &flag, nil)); done = flag != 0 }
                    for k in peers.indices {
                        if !arrived[k] { flag = 0; try check("MPI_Test", mpi.test(&recvs[k], &flag, nil)); arrived[k] = flag != 0 }
                        if !sendsDone[k] { flag = 0; try check("MPI_Test", mpi.test(&sends[k], &flag, nil)); sendsDone[k] = flag != 0 }
                    }
                    if done && !arrived.contains(false) && !sendsDone.contains(false) { return }
                    if monotonicSeconds() > deadline {
                        let silent = peers.indices.filter { !arrived[$0] }.map { peers[$0] }
                        fail("\(what) waited more than \(Int(timeout)) s (MLW_MPI_TIMEOUT): "
                             + (silent.isEmpty ? "every rank arrived but the collective did not finish"
                                               : "rank\(silent.count > 1 ? "s" : "") \(silent.map(String.init).joined(separator: ", ")) never joined collective #\(calls)"))
                    }
                    // Spin briefly (collectives of a step finish in microseconds), then yield the core.
                    spins += 1
                    if spins > 2000 { usleep(spins > 20000 ? 1000 : 50) }
                }
            }
        }
    }

    func check(_ what: String, _ rc: Int32) throws {
        guard rc != 0 else { return }
        fail("\(what) failed on rank \(rank): \(mpi.message(rc))")
    }

    /// Reports and ends the whole job: the other ranks may be blocked where no error can reach them.
    func fail(_ why: String) -> Never {
        MPICollective.broken = true
        fputs("mlw: rank \(rank) of \(size): \(why); aborting the job\n", stderr)
        fflush(stderr)
        _ = mpi.abort(mpi.commWorld, 70)
        exit(70)
    }
}
