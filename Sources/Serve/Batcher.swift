import Foundation
import Tensor

/// Dynamic batching for one loaded model version: concurrent requests queue here; one
/// worker task gathers up to `maxBatch` rows or waits `maxDelay`, whichever comes first,
/// runs one forward pass and hands each caller its own rows, in order.
///
/// A lock-protected queue plus continuations instead of an actor: enqueueing is a few
/// instructions under a lock, and the worker sleeps on a continuation (no polling).
/// A reaper task answers requests that outlive `timeout` with 503, even when the model
/// itself is stuck in a forward pass.
final class Batcher: @unchecked Sendable {
    /// One caller's rows and its continuation; `done` guards against resuming twice
    /// (the worker and the reaper may race).
    final class Job {
        let data: [Float]
        let rows: Int
        let deadline: ContinuousClock.Instant
        var cont: CheckedContinuation<ArraySlice<Float>, Error>?
        init(data: [Float], rows: Int, deadline: ContinuousClock.Instant) { self.data = data; self.rows = rows; self.deadline = deadline }
    }

    struct Hooks {
        var batch: (_ rows: Int) -> Void = { _ in }
        var queueDepth: (_ rows: Int) -> Void = { _ in }
        var observe: (_ x: [Float], _ rows: Int) -> Void = { _, _ in }
    }

    let model: ServableModel
    let width: Int
    let maxBatch: Int
    let maxDelay: Duration
    let timeout: Duration
    let hooks: Hooks

    private let lock = NSLock()
    private var queue: [Job] = []
    private var queuedRows = 0
    private var running: [Job] = []
    private var idleWaiter: CheckedContinuation<Bool, Never>?
    private var fullWaiter: CheckedContinuation<Void, Never>?
    private var fullGeneration = 0
    private var closed = false
    /// Set under the lock when the worker exits, so no job is queued after that.
    private var finished = false

    init(model: ServableModel, maxBatch: Int, maxDelay: Duration, timeout: Duration, hooks: Hooks = Hooks()) {
        self.model = model; self.width = model.inputWidth
        self.maxBatch = max(1, maxBatch); self.maxDelay = maxDelay; self.timeout = timeout; self.hooks = hooks
    }

    func start() {
        Task.detached { [self] in await self.workerLoop() }
        Task.detached { [self] in await self.reaperLoop() }
    }

    /// Stops after the queue drains (an old version keeps answering what it accepted).
    func close() {
        lock.lock()
        closed = true
        let idle = idleWaiter; idleWaiter = nil
        lock.unlock()
        idle?.resume(returning: false)  // "look again", never "exit"
    }

    /// Queues `rows` rows (row-major, `width` each) and returns the model's output rows.
    func submit(_ data: [Float], rows: Int) async throws -> ArraySlice<Float> {
        let job = Job(data: data, rows: rows, deadline: .now + timeout)
        return try await withCheckedThrowingContinuation { c in
            lock.lock()
            if finished {
                lock.unlock(); c.resume(throwing: ServeError.retired); return
            }
            job.cont = c
            queue.append(job)
            queuedRows += rows
            let depth = queuedRows
            let idle = idleWaiter; idleWaiter = nil
            var full: CheckedContinuation<Void, Never>?
            if queuedRows >= maxBatch { full = fullWaiter; fullWaiter = nil }
            lock.unlock()
            hooks.queueDepth(depth)
            idle?.resume(returning: false)  // "look again", never "exit"
            full?.resume()
        }
    }

    private func workerLoop() async {
        // Requests that queued up while a forward pass ran have already waited: they go
        // in the next batch at once, without a second `maxDelay` (continuous batching).
        var justRan = false
        while true {
            // Sleep until there is work (or we are closed and drained).
            let exit: Bool = await withCheckedContinuation { c in
                lock.lock()
                if !queue.isEmpty { lock.unlock(); c.resume(returning: false); return }
                if closed { finished = true; lock.unlock(); c.resume(returning: true); return }
                idleWaiter = c
                lock.unlock()
            }
            if exit { break }
            if lock.withLock({ queue.isEmpty }) { justRan = false; continue }
            if maxDelay > .zero && !justRan { await waitFullOrDelay() }
            // Right after a pass, requests whose bodies are being decoded on the other
            // request tasks are about to queue: one yield lets them in, so the next pass
            // takes several requests rather than the one or two already queued (a pass
            // costs about the same for 1 row as for 10).
            else if justRan, lock.withLock({ queuedRows < maxBatch }) { await Task.yield() }
            let jobs = takeBatch()
            justRan = !jobs.isEmpty
            if !jobs.isEmpty { run(jobs) }
        }
    }

    private func waitFullOrDelay() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if queuedRows >= maxBatch || closed { lock.unlock(); c.resume(); return }
            fullGeneration += 1
            let gen = fullGeneration
            fullWaiter = c
            lock.unlock()
            Task.detached { [self] in
                try? await Task.sleep(for: maxDelay)
                fireTimer(gen)
            }
        }
    }

    private func fireTimer(_ gen: Int) {
        lock.lock()
        let w = fullGeneration == gen ? fullWaiter : nil
        if w != nil { fullWaiter = nil }
        lock.unlock()
        w?.resume()
    }

    /// Whole requests, oldest first, up to `maxBatch` rows (always at least one request,
    /// so a request larger than `maxBatch` still runs, alone).
    private func takeBatch() -> [Job] {
        lock.lock(); defer { lock.unlock() }
        var n = 0, total = 0
        while n < queue.count, n == 0 || total + queue[n].rows <= maxBatch { total += queue[n].rows; n += 1 }
        let jobs = Array(queue[0..<n])
        queue.removeFirst(n)
        queuedRows -= total
        running = jobs
        return jobs
    }

    private func run(_ jobs: [Job]) {
        let rows = jobs.reduce(0) { $0 + $1.rows }
        var x: [Float]
        if jobs.count == 1 { x = jobs[0].data } else {
            x = []; x.reserveCapacity(rows * width)
            for j in jobs { x.append(contentsOf: j.data) }
        }
        hooks.batch(rows)
        var result: Result<[Float], Error>
        var outWidth = 0
        do {
            let y = try model.predict(try Tensor(x, shape: [rows, width]))
            guard y.rank == 2, y.shape[0] == rows else {
                throw ServeError(500, "model returned shape \(y.shape) for \(rows) rows")
            }
            outWidth = y.shape[1]
            result = .success(y.toFloats())
        } catch let e as ServeError { result = .failure(e) } catch { result = .failure(ServeError(500, "model failed: \(error)")) }
        var start = 0
        lock.lock()
        var resumes: [(CheckedContinuation<ArraySlice<Float>, Error>, Result<ArraySlice<Float>, Error>)] = []
        for j in jobs {
            let r = result.map { $0[start * outWidth ..< (start + j.rows) * outWidth] }
            start += j.rows
            if let c = j.cont { j.cont = nil; resumes.append((c, r)) }
        }
        running = []
        let depth = queuedRows
        lock.unlock()
        for (c, r) in resumes { c.resume(with: r) }
        hooks.queueDepth(depth)
        hooks.observe(x, rows)
    }

    private func reaperLoop() async {
        let tick = max(min(timeout / 4, .milliseconds(100)), .milliseconds(1))
        while true {
            try? await Task.sleep(for: tick)
            if !reap() { return }
        }
    }

    /// Answers expired requests with 503; false once the worker has exited and nothing runs.
    private func reap() -> Bool {
            let now = ContinuousClock.now
            lock.lock()
            if finished && running.isEmpty { lock.unlock(); return false }
            var expired: [CheckedContinuation<ArraySlice<Float>, Error>] = []
            for j in queue + running where j.deadline <= now {
                if let c = j.cont { j.cont = nil; expired.append(c) }
            }
            // Expired queued jobs leave the queue; running ones finish but nobody waits.
            if !expired.isEmpty {
                let keep = queue.filter { $0.cont != nil }
                queuedRows = keep.reduce(0) { $0 + $1.rows }
                queue = keep
            }
            lock.unlock()
            for c in expired { c.resume(throwing: ServeError.unavailable("request timed out after \(timeout)")) }
            return true
    }
}

