import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a running `mlw serve`'s `/metrics` and keeps the previous reading, so request
/// rates are per second between two readings (the page's script asks every few seconds).
actor ServingMonitor {
    let serveURL: URL?
    private var previous: (time: Double, totals: [String: Double])?
    /// Largest `/metrics` answer read.
    static let maxBytes = 8 << 20

    init(serveURL: URL?) { self.serveURL = serveURL }

    struct Reading {
        var models: [[String: Any]]
        var drift: [[String: Any]]
        var error: String?
    }

    func read() async -> Reading {
        guard let serveURL else { return Reading(models: [], drift: [], error: nil) }
        let text: String
        let url = serveURL
        // A blocking read on its own thread (3 s timeouts), off the server's event loops.
        let got = await withCheckedContinuation { c in
            Thread.detachNewThread { c.resume(returning: httpGetMetrics(url, maxBytes: Self.maxBytes)) }
        }
        switch got {
        case .success(let body): text = body
        case .failure(let e): return Reading(models: [], drift: [], error: "cannot read \(serveURL.absoluteString)/metrics: \(e.message)")
        }
        let now = Date().timeIntervalSince1970
        let r = summarize(parsePrometheusText(text), now: now, previous: previous)
        previous = (now, r.totals)
        return Reading(models: r.models, drift: r.drift, error: nil)
    }
}

/// Per model: requests, errors, rate since the previous reading, latency p50/p90/p99, batch
/// size mean/p50/p90, queue depth; per feature: drift score.
func summarize(_ samples: [PromSample], now: Double, previous: (time: Double, totals: [String: Double])?)
    -> (models: [[String: Any]], drift: [[String: Any]], totals: [String: Double])
{
    var totals: [String: Double] = [:], errors: [String: Double] = [:]
    var latency: [String: [Double: Double]] = [:], batch: [String: [Double: Double]] = [:]
    var batchSum: [String: Double] = [:], batchCount: [String: Double] = [:], queue: [String: Double] = [:]
    var drift: [[String: Any]] = []
    for s in samples {
        let model = s.labels["model"] ?? "?"
        switch s.name {
        case "mlw_requests_total":
            totals[model, default: 0] += s.value
            if let st = Int(s.labels["status"] ?? ""), st >= 400 { errors[model, default: 0] += s.value }
        case "mlw_request_duration_seconds_bucket":
            if let le = s.labels["le"].flatMap(leValue) { latency[model, default: [:]][le, default: 0] += s.value }
        case "mlw_batch_size_bucket":
            if let le = s.labels["le"].flatMap(leValue) { batch[model, default: [:]][le, default: 0] += s.value }
        case "mlw_batch_size_sum": batchSum[model, default: 0] += s.value
        case "mlw_batch_size_count": batchCount[model, default: 0] += s.value
        case "mlw_queue_depth": queue[model, default: 0] += s.value
        case "mlw_input_drift_score":
            drift.append(["model": model, "feature": s.labels["feature"] ?? "?", "score": Format.json(s.value), "text": Format.number(s.value)])
        default: break
        }
    }
    let names = Set(totals.keys).union(latency.keys).union(batch.keys).sorted()
    let models: [[String: Any]] = names.map { m in
        var rate: Double?
        if let p = previous, now > p.time, let t = totals[m] { rate = max(0, t - (p.totals[m] ?? 0)) / (now - p.time) }
        let lat = (latency[m] ?? [:]).map { (le: $0.key, count: $0.value) }
        let bat = (batch[m] ?? [:]).map { (le: $0.key, count: $0.value) }
        func ms(_ q: Double) -> Any { Format.json(histogramQuantile(q, lat).map { $0 * 1000 }) }
        let mean = (batchCount[m] ?? 0) > 0 ? (batchSum[m] ?? 0) / batchCount[m]! : nil
        return ["model": m, "requests": Format.json(totals[m] ?? 0), "errors": Format.json(errors[m] ?? 0),
                "rate_per_second": Format.json(rate), "latency_ms_p50": ms(0.5), "latency_ms_p90": ms(0.9), "latency_ms_p99": ms(0.99),
                "batch_mean": Format.json(mean), "batch_p50": Format.json(histogramQuantile(0.5, bat)),
                "batch_p90": Format.json(histogramQuantile(0.9, bat)), "queue_depth": Format.json(queue[m])]
    }
    return (models, drift.sorted { ("\($0["model"]!)", "\($0["feature"]!)") < ("\($1["model"]!)", "\($1["feature"]!)") }, totals)
}

private func leValue(_ s: String) -> Double? { s == "+Inf" ? .infinity : Double(s) }

extension UIApp {
    /// `/serving`: the numbers of the `--serve-url` server; the page's script asks for the
    /// JSON form every 3 seconds and rewrites the tables.
    func servingPage() async -> Page {
        let r = await serving.read()
        var json: [String: Any] = ["serve_url": orNull(config.serveURL?.absoluteString), "models": r.models, "drift": r.drift,
                                   "time": Format.iso(Date())]
        if let e = r.error { json["error"] = e }
        func text(_ v: Any?) -> String {
            if let d = v as? Double { return Format.number(d) }
            if let s = v as? String { return s }
            return "-"
        }
        var view: [String: Any] = [
            "serve_url": config.serveURL?.absoluteString ?? "",
            "configured": config.serveURL != nil,
            "models": r.models.map { m in
                ["model": m["model"] as? String ?? "?", "requests": text(m["requests"]), "errors": text(m["errors"]),
                 "rate": text(m["rate_per_second"]), "p50": text(m["latency_ms_p50"]), "p90": text(m["latency_ms_p90"]),
                 "p99": text(m["latency_ms_p99"]), "batch_mean": text(m["batch_mean"]), "batch_p50": text(m["batch_p50"]),
                 "batch_p90": text(m["batch_p90"]), "queue": text(m["queue_depth"])]
            },
            "drift": r.drift, "has_drift": !r.drift.isEmpty,
        ]
        if let e = r.error { view["error"] = e }
        return Page(title: "Serving", template: "serving", json: json, view: view)
    }
}

struct MetricsFetchError: Error { let message: String }

/// `GET {base}/metrics` over plain HTTP/1.0 with POSIX sockets: `mlw serve` speaks plain
/// HTTP on a local or cluster address, and Foundation's URLSession would pull libcurl into
/// the statically linked release binary. The answer must be 200 and at most `maxBytes`.
func httpGetMetrics(_ base: URL, maxBytes: Int) -> Result<String, MetricsFetchError> {
    guard base.scheme == "http", let host = base.host else { return .failure(.init(message: "only http:// URLs are supported")) }
    let port = base.port ?? 80
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
        return .failure(.init(message: "unknown host \(host)"))
    }
    defer { freeaddrinfo(list) }
    var fd: Int32 = -1
    var info: UnsafeMutablePointer<addrinfo>? = first
    while let a = info {
        let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
        if s >= 0 {
            var tv = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { fd = s; break }
            close(s)
        }
        info = a.pointee.ai_next
    }
    guard fd >= 0 else { return .failure(.init(message: "connection refused by \(host):\(port)")) }
    defer { close(fd) }
    var path = base.path
    if path.hasSuffix("/") { path.removeLast() }
    let request = Array("GET \(path)/metrics HTTP/1.1\r\nHost: \(host):\(port)\r\nAccept: text/plain\r\nConnection: close\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
        return .failure(.init(message: "could not send the request"))
    }
    // Read until the server closes or the Content-Length body is complete (a server may keep
    // the connection open despite `Connection: close`).
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    var headerEnd: Int?, bodyLength: Int?
    let crlf2: [UInt8] = [13, 10, 13, 10]
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { break }
        guard n > 0 else { return .failure(.init(message: "no answer within 3 s")) }
        data.append(contentsOf: chunk[0..<n])
        guard data.count <= maxBytes + (16 << 10) else { return .failure(.init(message: "/metrics answer larger than \(maxBytes) bytes")) }
        if headerEnd == nil, let r = data.firstRange(of: crlf2) {
            headerEnd = r.upperBound
            let head = String(decoding: data[..<r.lowerBound], as: UTF8.self).lowercased()
            bodyLength = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
        }
        if let h = headerEnd, let b = bodyLength, data.count >= h + b { break }
    }
    guard let h = headerEnd else { return .failure(.init(message: "malformed HTTP answer")) }
    let head = String(decoding: data[..<h], as: UTF8.self)
    let status = head.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
    guard status == 200 else { return .failure(.init(message: "/metrics answered \(status)")) }
    let end = bodyLength.map { min(data.count, h + $0) } ?? data.count
    return .success(String(decoding: data[h..<end], as: UTF8.self))
}
