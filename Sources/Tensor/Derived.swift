#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a derived value is (one kind, one type).
enum DerivedKind: Int {
    case int8Packed = 1, csrChecked
}

/// The derived value of a storage and the view it was made from. A contiguous view of rank
/// <= 2 is fixed by its offset, count and first and last dimensions.
struct DerivedEntry {
    let kind: DerivedKind
    let dtype: DType
    let offset: Int, count: Int, first: Int, last: Int
    let value: AnyObject
}

/// One lock for all derived values: taken twice per lookup, uncontended in practice, and
/// a per-storage lock would cost every tensor a mutex.
nonisolated(unsafe) private let derivedLock: UnsafeMutablePointer<pthread_mutex_t> = {
    let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(m, nil)
    return m
}()

extension Tensor {
    /// A value computed from this tensor's bytes once and kept with its storage, e.g. an
    /// int8 weight in the layout of its kernel: a constant weight is repacked once per
    /// process instead of on every call, and the model (and its file) keeps the plain form.
    /// Writing to the storage in place (`withMutableFloats`) drops it. Only for contiguous
    /// tensors of rank <= 2; each kind must always make the same type `T`.
    /// Example: `let box = w.derived(.int8Packed) { PackedInt8($0) }`.
    func derived<T: AnyObject>(_ kind: DerivedKind, _ make: (Tensor) throws -> T) rethrows -> T {
        precondition(rank <= 2 && isContiguous, "derived values are for contiguous tensors of rank <= 2")
        let s = storage, first = shape.first ?? 1, last = shape.last ?? 1, n = count
        pthread_mutex_lock(derivedLock)
        if let e = s.derived, e.kind == kind, e.dtype == dtype, e.offset == offset, e.count == n, e.first == first, e.last == last {
            let v = e.value
            pthread_mutex_unlock(derivedLock)
            return unsafeDowncast(v, to: T.self)
        }
        pthread_mutex_unlock(derivedLock)
        // Made outside the lock: two threads may both make it the first time; one is kept.
        let v = try make(self)
        pthread_mutex_lock(derivedLock)
        s.derived = DerivedEntry(kind: kind, dtype: dtype, offset: offset, count: n, first: first, last: last, value: v)
        pthread_mutex_unlock(derivedLock)
        return v
    }

    func clearDerived() {
        pthread_mutex_lock(derivedLock)
        storage.derived = nil
        pthread_mutex_unlock(derivedLock)
    }
}
