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
        for b in buffers.indices {
            try buffers[b].withUnsafeMutableBufferPointer { buf in
                try startSum(buf.baseAddress!, count: buf.count, ordered: ordered)
                try waitAll()
            }
        }
    }

    public func sum(_ values: [Double]) throws -> [Double] {
        var all = [Double](repeating: 0, count: values.count * size)
        try values.withUnsafeBufferPointer { src in
            try all.withUnsafeMutableBufferPointer { dst in
                let p = try begin("MPI_Iallgather") { req in
                    mpi.iallgather(src.baseAddress, Int32(src.count), mpi.double, dst.baseAddress, Int32(src.count), mpi.double, mpi.commWorld, req)
                }
                try wait(for: [p])
            }
        }
        var out = Array(all[0..<values.count])
        for r in 1..<max(size, 1) { for i in values.indices { out[i] += all[r * values.count + i] } }
        return out
    }

    /// A collective in flight: its request, the arrival messages sent with it, and for an
    /// ordered sum the gathered copies to add in rank order once it completes.
    final class Pending {
        let what: String
        let call: Int32
        let deadline: Double
        var collective: MPILibrary.Request = nil
        var done = false
        var sends: [MPILibrary.Request], recvs: [MPILibrary.Request]
        var arrived: [Bool], sendsDone: [Bool]
        let sent = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        let got: UnsafeMutablePointer<Int32>
        /// Ordered sums: every rank's buffer, gathered; added into `target` when done.
        var gather: UnsafeMutableBufferPointer<Float>?
        var target: UnsafeMutablePointer<Float>?
        var count = 0

        init(what: String, call: Int32, peers: Int, size: Int, deadline: Double) {
            self.what = what; self.call = call; self.deadline = deadline
            sends = Array(repeating: nil, count: peers); recvs = Array(repeating: nil, count: peers)
            arrived = Array(repeating: false, count: peers); sendsDone = Array(repeating: false, count: peers)
            sent.initialize(to: call)
            got = .allocate(capacity: max(size, 1)); got.initialize(repeating: -1, count: max(size, 1))
        }
        deinit { sent.deallocate(); got.deallocate(); gather?.deallocate() }
        var finished: Bool { done && !arrived.contains(false) && !sendsDone.contains(false) }
    }
    /// Started and not yet waited for, in start order.
    var pending: [Pending] = []
    lazy var peers: [Int] = (0..<size).filter { $0 != rank }

    public func startSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, ordered: Bool) throws {
        guard count > 0 else { return }
        guard count <= Int(Int32.max) / max(size, 1) else { fail("a gradient bucket of \(count) floats is too large for one MPI call (lower bucket_mb)") }
        if ordered {
            let all = UnsafeMutableBufferPointer<Float>.allocate(capacity: count * size)
            let p = try begin("MPI_Iallgather") { req in
                mpi.iallgather(buffer, Int32(count), mpi.float, all.baseAddress, Int32(count), mpi.float, mpi.commWorld, req)
            }
            p.gather = all; p.target = buffer; p.count = count
        } else {
            _ = try begin("MPI_Iallreduce") { req in
                // MPI_IN_PLACE is (void *) 1 in Open MPI's mpi.h.
                mpi.iallreduce(UnsafeRawPointer(bitPattern: 1), buffer, Int32(count), mpi.float, mpi.sum, mpi.commWorld, req)
            }
        }
    }

    public func progress() throws {
        for p in pending where !p.finished { try poll(p) }
    }

    /// Polls every collective started until all are done, an MPI error, or a deadline.
    public func waitAll() throws { try wait(for: pending) }

    /// Polls `ops` until they are done, an MPI error, or a deadline: the first collective past
    /// its deadline names the ranks that never joined it. Other collectives in flight stay so.
    func wait(for ops: [Pending]) throws {
        var spins = 0
        while true {
            var all = true
            for p in ops where !p.finished {
                try poll(p)
                if !p.finished {
                    all = false
                    if monotonicSeconds() > p.deadline { timedOut(p) }
                }
            }
            if all { break }
            // Spin briefly (collectives of a step finish in microseconds), then yield the core.
            spins += 1
            if spins > 2000 { usleep(spins > 20000 ? 1000 : 50) }
        }
        pending.removeAll { $0.finished }
    }

    /// Rank order, one addition at a time: the same bits whatever MPI does.
    func addInRankOrder(_ a: UnsafeMutableBufferPointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { out[i] = a[i] }
        for r in 1..<size { let base = r * n; for i in 0..<n { out[i] += a[base + i] } }
    }

    /// Starts one non-blocking collective and, with it, an "arrived" message to every peer
    /// (and the receives for theirs): they tell a timed-out rank who never joined.
    func begin(_ what: String, _ start: (UnsafeMutablePointer<MPILibrary.Request>) -> Int32) throws -> Pending {
        calls &+= 1
        let p = Pending(what: what, call: calls, peers: peers.count, size: size, deadline: monotonicSeconds() + timeout)
        for (k, peer) in peers.enumerated() {
            try check("MPI_Irecv", mpi.irecv(p.got + peer, 1, mpi.int, Int32(peer), Self.arrivalTag, mpi.commWorld, &p.recvs[k]))
            try check("MPI_Isend", mpi.isend(p.sent, 1, mpi.int, Int32(peer), Self.arrivalTag, mpi.commWorld, &p.sends[k]))
        }
        try check(what, start(&p.collective))
        pending.append(p)
        return p
    }

    /// One MPI_Test on each of a collective's unfinished requests.
    func poll(_ p: Pending) throws {
        var flag: Int32 = 0
        if !p.done {
            try check(p.what, mpi.test(&p.collective, &flag, nil))
            p.done = flag != 0
            // An ordered sum completes here: add the gathered buffers in rank order.
            if p.done, let g = p.gather, let t = p.target { addInRankOrder(g, into: t, count: p.count) }
        }
        for k in peers.indices {
            if !p.arrived[k] { flag = 0; try check("MPI_Test", mpi.test(&p.recvs[k], &flag, nil)); p.arrived[k] = flag != 0 }
            if !p.sendsDone[k] { flag = 0; try check("MPI_Test", mpi.test(&p.sends[k], &flag, nil)); p.sendsDone[k] = flag != 0 }
        }
    }

    func timedOut(_ p: Pending) -> Never {
        let silent = peers.indices.filter { !p.arrived[$0] }.map { peers[$0] }
        fail("\(p.what) waited more than \(Int(timeout)) s (MLW_MPI_TIMEOUT): "
             + (silent.isEmpty ? "every rank arrived but the collective did not finish"
                               : "rank\(silent.count > 1 ? "s" : "") \(silent.map(String.init).joined(separator: ", ")) never joined collective #\(p.call)"))
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
