import Foundation

/// One sample of the Prometheus text format: `name{label="v",...} value`.
struct PromSample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// Parses the Prometheus text exposition format (what `mlw serve`'s `/metrics` answers);
/// comment lines and lines that do not parse are skipped, at most `maxSamples` are kept.
func parsePrometheusText(_ text: String, maxSamples: Int = 100_000) -> [PromSample] {
    var out: [PromSample] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
        if out.count >= maxSamples { break }
        if line.hasPrefix("#") { continue }
        let chars = Array(line)
        var i = 0
        while i < chars.count, chars[i] != "{", chars[i] != " " { i += 1 }
        let name = String(chars[0..<i])
        guard !name.isEmpty else { continue }
        var labels: [String: String] = [:]
        if i < chars.count, chars[i] == "{" {
            i += 1
            var ok = true
            while i < chars.count, chars[i] != "}" {
                var k = ""
                while i < chars.count, chars[i] != "=" { k.append(chars[i]); i += 1 }
                guard i + 1 < chars.count, chars[i + 1] == "\"" else { ok = false; break }
                i += 2
                var v = ""
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count {
                        i += 1
                        v.append(chars[i] == "n" ? "\n" : chars[i])
                    } else { v.append(chars[i]) }
                    i += 1
                }
                i += 1
                labels[k.trimmingCharacters(in: CharacterSet(charactersIn: ", "))] = v
                if i < chars.count, chars[i] == "," { i += 1 }
            }
            guard ok, i < chars.count else { continue }
            i += 1
        }
        let rest = String(chars[i...]).split(separator: " ")
        guard let first = rest.first else { continue }
        let value: Double?
        switch first {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default: value = Double(first)
        }
        if let value { out.append(PromSample(name: name, labels: labels, value: value)) }
    }
    return out
}

/// The q-quantile of a cumulative histogram (`le` upper bounds, counts), interpolated
/// within the bucket as Prometheus' `histogram_quantile` does; nil when it is empty.
func histogramQuantile(_ q: Double, _ buckets: [(le: Double, count: Double)]) -> Double? {
    let b = buckets.sorted { $0.le < $1.le }
    guard let total = b.last?.count, total > 0 else { return nil }
    let rank = q * total
    var prevLe = 0.0, prevCount = 0.0
    for (le, count) in b {
        if count >= rank {
            if le.isInfinite { return prevLe }
            let width = count - prevCount
            return width > 0 ? prevLe + (le - prevLe) * (rank - prevCount) / width : le
        }
        prevLe = le; prevCount = count
    }
    return prevLe
}
