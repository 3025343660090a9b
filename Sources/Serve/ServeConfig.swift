import Foundation

/// Server settings; `mlw serve` fills them from its options.
///
///     var c = ServeConfig(); c.port = 9000; c.canary = try Canary.parse("digits@canary=10%")
public struct ServeConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Rows gathered into one forward pass at most.
    public var maxBatch = 32
    /// How long the first request of a batch waits for company, in microseconds (0: never).
    public var maxDelayMicros = 500
    /// Event-loop threads accepting connections and parsing HTTP.
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// Larger bodies get 413.
    public var maxBody = 1 << 20
    /// A body over `maxBody` is still read (and dropped) up to this many bytes or
    /// `drainTime`, so clients that send it all before reading see the 413.
    public var drainLimit = 256 << 20
    public var drainTime: Duration = .seconds(10)
    /// A request still unanswered after this gets 503.
    public var timeout: Duration = .seconds(10)
    /// Idle keep-alive connections (and clients that stall mid-request) are closed after this.
    public var idleTimeout: Duration = .seconds(30)
    public var canary: Canary?
    /// How often the registry watcher checks whether aliases moved.
    public var pollInterval: Duration = .milliseconds(500)
    /// With PostgreSQL `LISTEN` active, moves arrive as notifications; this slower poll
    /// only guards against a notification lost in a reconnect.
    public var listenPollInterval: Duration = .seconds(5)
    /// After SIGTERM/SIGINT: readiness answers 503 at once, but requests (in flight and new)
    /// are still served this long, so a load balancer's health checks notice and route
    /// elsewhere; then the listener closes and in-flight requests finish.
    public var shutdownDrain: Duration = .seconds(3)
    /// Drift score above which a feature is reported (in training standard deviations).
    public var driftThreshold = 3.0
    public init() {}
}

/// A second version taking `percent`% of one model's traffic: `digits@canary=10%`.
public struct Canary: Sendable, Equatable {
    public var ref: String
    public var percent: Double
    public init(ref: String, percent: Double) { self.ref = ref; self.percent = percent }

    public static func parse(_ text: String) throws -> Canary {
        guard let eq = text.lastIndex(of: "=") else {
            throw ServeError.badRequest("canary '\(text)' must look like NAME@ALIAS=10%")
        }
        let ref = String(text[..<eq])
        var pct = String(text[text.index(after: eq)...])
        if pct.hasSuffix("%") { pct.removeLast() }
        guard !ref.isEmpty, let p = Double(pct), p >= 0, p <= 100 else {
            throw ServeError.badRequest("canary '\(text)': percent must be between 0 and 100, e.g. NAME@ALIAS=10%")
        }
        return Canary(ref: ref, percent: p)
    }
}

/// Parses sizes like `1MB`, `512KB`, `1048576`.
public func parseByteSize(_ text: String) -> Int? {
    let t = text.uppercased().trimmingCharacters(in: .whitespaces)
    for (suffix, mult) in [("MB", 1 << 20), ("KB", 1 << 10), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)] where t.hasSuffix(suffix) {
        guard let n = Double(t.dropLast(suffix.count)), n >= 0 else { return nil }
        return Int(n * Double(mult))
    }
    return Int(t)
}
