import Foundation

/// Wakes one waiting task early: the registry watcher sleeps until the next poll unless an
/// alias notification arrives first. A signal with nobody waiting is kept for the next wait.
final class Wakeup: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?

    func signal() {
        let w: CheckedContinuation<Void, Never>? = lock.withLock {
            if let w = waiter { waiter = nil; return w }
            pending = true
            return nil
        }
        w?.resume()
    }

    /// Returns after `timeout`, or as soon as `signal()` is called (or was, since the last wait).
    func wait(for timeout: Duration) async {
        if lock.withLock({ defer { pending = false }; return pending }) { return }
        // The timer signals only when its sleep ran to the end (not when cancelled below).
        let timer = Task { if (try? await Task.sleep(for: timeout)) != nil { self.signal() } }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now: Bool = lock.withLock {
                if pending { pending = false; return true }
                waiter = c
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
    }
}

/// A Bool shared between tasks.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag: Bool
    init(_ value: Bool = false) { flag = value }
    var value: Bool { lock.withLock { flag } }
    func set(_ value: Bool) { lock.withLock { flag = value } }
}
