import Foundation

/// The differences between two runs, as `compare_runs(a, b)` and `mlw registry diff` show
/// them. Every key present in either run is listed, with `changed` telling which differ.
public struct RunDiff: Codable, Sendable, Equatable {
    /// One compared value; `nil` means the run has no such field.
    public struct Entry: Codable, Sendable, Equatable {
        public var key: String
        public var a: String?
        public var b: String?
        public var changed: Bool { a != b }

        public init(key: String, a: String?, b: String?) { self.key = key; self.a = a; self.b = b }

        enum CodingKeys: String, CodingKey { case key, a, b, changed }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decode(String.self, forKey: .key)
            a = try c.decodeIfPresent(String.self, forKey: .a)
            b = try c.decodeIfPresent(String.self, forKey: .b)
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key, forKey: .key)
            try c.encode(a, forKey: .a)
            try c.encode(b, forKey: .b)
            try c.encode(changed, forKey: .changed)
        }
    }

    /// One compared final metric; `delta` is `b - a` when both exist.
    public struct MetricEntry: Codable, Sendable, Equatable {
        public var key: String
        public var a: Double?
        public var b: Double?
        public var delta: Double? {
            guard let a, let b else { return nil }
            return b - a
        }

        public init(key: String, a: Double?, b: Double?) { self.key = key; self.a = a; self.b = b }

        enum CodingKeys: String, CodingKey { case key, a, b, delta }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decode(String.self, forKey: .key)
            a = try c.decodeIfPresent(Double.self, forKey: .a)
            b = try c.decodeIfPresent(Double.self, forKey: .b)
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key, forKey: .key)
            try c.encode(a, forKey: .a)
            try c.encode(b, forKey: .b)
            try c.encode(delta, forKey: .delta)
        }
    }

    public var runA: RunID
    public var runB: RunID
    /// Script path and hash, seed, git commit, status: what makes runs reproducible.
    public var fields: [Entry]
    /// Every parameter of either run, sorted by name.
    public var params: [Entry]
    /// Every final metric of either run, sorted by name.
    public var metrics: [MetricEntry]

    /// True when nothing differs.
    public var isIdentical: Bool {
        fields.allSatisfy { !$0.changed } && params.allSatisfy { !$0.changed } && metrics.allSatisfy { $0.a == $0.b }
    }

    public init(a: Run, b: Run, metricsA: [String: Double], metricsB: [String: Double]) {
        runA = a.id
        runB = b.id
        fields = [
            Entry(key: "script", a: a.script, b: b.script),
            Entry(key: "script_sha256", a: a.scriptSha256, b: b.scriptSha256),
            Entry(key: "git_commit", a: a.gitCommit, b: b.gitCommit),
            Entry(key: "seed", a: a.seed.map(String.init), b: b.seed.map(String.init)),
            Entry(key: "status", a: a.status.rawValue, b: b.status.rawValue),
            Entry(key: "mlw_version", a: a.mlwVersion, b: b.mlwVersion),
        ]
        params = Set(a.params.keys).union(b.params.keys).sorted().map {
            Entry(key: $0, a: a.params[$0]?.description, b: b.params[$0]?.description)
        }
        metrics = Set(metricsA.keys).union(metricsB.keys).sorted().map {
            MetricEntry(key: $0, a: metricsA[$0], b: metricsB[$0])
        }
    }
}
