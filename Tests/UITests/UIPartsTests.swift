import Foundation
import Registry
import XCTest
@testable import UI

/// The pieces behind the pages: the serving numbers from Prometheus text, the filter
/// language, highlighting and the model graph.
final class UIPartsTests: XCTestCase {
    static let metrics = """
    # TYPE mlw_requests_total counter
    mlw_requests_total{model="iris",version="1",endpoint="infer",status="200"} 90
    mlw_requests_total{model="iris",version="1",endpoint="infer",status="400"} 10
    # TYPE mlw_request_duration_seconds histogram
    mlw_request_duration_seconds_bucket{model="iris",endpoint="infer",le="0.001"} 50
    mlw_request_duration_seconds_bucket{model="iris",endpoint="infer",le="0.01"} 90
    mlw_request_duration_seconds_bucket{model="iris",endpoint="infer",le="+Inf"} 100
    mlw_request_duration_seconds_sum{model="iris",endpoint="infer"} 0.4
    mlw_request_duration_seconds_count{model="iris",endpoint="infer"} 100
    mlw_batch_size_bucket{model="iris",version="1",le="1.0"} 20
    mlw_batch_size_bucket{model="iris",version="1",le="2.0"} 20
    mlw_batch_size_bucket{model="iris",version="1",le="4.0"} 40
    mlw_batch_size_bucket{model="iris",version="1",le="+Inf"} 40
    mlw_batch_size_sum{model="iris",version="1"} 100
    mlw_batch_size_count{model="iris",version="1"} 40
    mlw_queue_depth{model="iris",version="1"} 3
    mlw_input_drift_score{model="iris",feature="petal \\"len\\""} 0.25
    garbage line
    """

    func testServingSummaryFromPrometheusText() {
        let samples = parsePrometheusText(Self.metrics)
        XCTAssertEqual(samples.count, 15)
        XCTAssertEqual(samples.last?.labels["feature"], "petal \"len\"")
        let r = summarize(samples, now: 110, previous: (time: 100, totals: ["iris": 50]))
        let iris = r.models.first!
        XCTAssertEqual(iris["requests"] as? Double, 100)
        XCTAssertEqual(iris["errors"] as? Double, 10)
        XCTAssertEqual(iris["rate_per_second"] as? Double, 5)              // (100 - 50) / 10 s
        XCTAssertEqual(iris["latency_ms_p50"] as? Double ?? 0, 1, accuracy: 1e-9)   // rank 50 ends the first bucket
        XCTAssertEqual(iris["latency_ms_p90"] as? Double ?? 0, 10, accuracy: 1e-9)
        XCTAssertEqual(iris["latency_ms_p99"] as? Double ?? 0, 10, accuracy: 1e-9)  // in +Inf: the last finite bound
        XCTAssertEqual(iris["batch_mean"] as? Double, 2.5)
        XCTAssertEqual(iris["batch_p90"] as? Double ?? 0, 2 + 2 * (36.0 - 20) / 20, accuracy: 1e-9)
        XCTAssertEqual(iris["queue_depth"] as? Double, 3)
        XCTAssertEqual(r.drift.first?["score"] as? Double, 0.25)
        XCTAssertNil(histogramQuantile(0.5, []))
    }

    func testServingPageWithoutAndWithAServer() async throws {
        let filled = try UIFixture.fill()
        defer { try? FileManager.default.removeItem(at: filled.root) }
        let off = try UIApp(registry: filled.registry, config: UIConfig())
        let page = await off.servingPage()
        XCTAssertEqual((page.json as? [String: Any])?["serve_url"] is NSNull, true)
        XCTAssertEqual(page.view["configured"] as? Bool, false)
        // Nothing listens on port 9 (discard) here: the page says it cannot read it.
        let down = try UIApp(registry: filled.registry, config: UIConfig(serveURL: URL(string: "http://127.0.0.1:9")!))
        let err = await down.servingPage()
        XCTAssertTrue(((err.json as? [String: Any])?["error"] as? String ?? "").hasPrefix("cannot read http://127.0.0.1:9/metrics"))
    }

    func testFilterSplitsOnAndOutsideQuotes() throws {
        XCTAssertEqual(RunFilterExpression.split("a > 1 and b = 'x and y', c ~ z && d != 2"), ["a > 1", "b = 'x and y'", "c ~ z", "d != 2"])
        let f = try RunFilterExpression("note = 'a and b'", paramKeys: ["note"], metricKeys: [])
        XCTAssertEqual(f.clauses.first?.value, "a and b")
        XCTAssertThrowsError(try RunFilterExpression("= 3", paramKeys: ["lr"], metricKeys: [])) { e in
            XCTAssertEqual("\(e)", "missing name before '=' in '= 3'")
        }
    }

    func testHighlightEscapesEverything() {
        let html = highlightMLW("let s = \"<i>\" # </pre><script>\n1 < 2 & x")
        XCTAssertEqual(html, "<span class=\"k\">let</span> s = <span class=\"s\">&quot;&lt;i&gt;&quot;</span> <span class=\"c\"># &lt;/pre&gt;&lt;script&gt;</span>\n<span class=\"n\">1</span> &lt; <span class=\"n\">2</span> &amp; x")
    }
}
