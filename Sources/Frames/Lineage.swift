import Foundation

/// Where a dataset came from: the content hash of its sources plus every transform
/// applied since, with parameters. `hash` folds them all together, so the same inputs
/// give the same hash and any change (a byte of a file, a parameter) changes it.
///
///     ds.lineage.hash          // 64 hex chars
///     ds.lineage.steps         // ["read_csv ...", "split part=train seed=42 ...", ...]
public struct Lineage: Equatable, Sendable, Codable {
    /// One step: an operation name and its parameters in a stable text form.
    public struct Step: Equatable, Sendable, Codable, CustomStringConvertible {
        public var op: String
        public var params: String
        public var description: String { params.isEmpty ? op : "\(op) \(params)" }
    }

    /// Content hashes of the source(s): one for a file, several after a merge.
    public private(set) var sources: [String]
    public private(set) var steps: [Step]
    /// The combined hash (hex SHA-256) of sources and steps.
    public private(set) var hash: String

    /// A lineage rooted at one source. `contentHash` is the SHA-256 of the source bytes.
    public init(source: String, contentHash: String, params: String = "") {
        sources = [contentHash]
        steps = [Step(op: source, params: params)]
        hash = ""
        hash = recompute()
    }

    /// A copy with one more step.
    public func appending(_ op: String, _ params: String = "") -> Lineage {
        var l = self
        l.steps.append(Step(op: op, params: params))
        l.hash = l.recompute()
        return l
    }

    private func recompute() -> String {
        var h = SHA256()
        for s in sources { h.update("source:" + s + "\n") }
        for s in steps { h.update("step:" + s.op + "\u{1f}" + s.params + "\n") }
        return h.finalizeHex()
    }
}

extension Lineage {
    /// A copy that also depends on `other` (a join's right side): its sources are added and
    /// the step's parameters should name `other.hash`, so a change on either side changes
    /// the hash.
    public func merging(_ other: Lineage, _ op: String, _ params: String) -> Lineage {
        var l = self
        l.sources += other.sources.filter { !l.sources.contains($0) }
        return l.appending(op, params)
    }
}
