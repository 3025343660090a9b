import Foundation
import Hummingbird
import Registry

// `/`: every run as a table, sorted, filtered and paged in memory from the RunIndex.

extension UIApp {
    /// Parameter and metric columns shown at most (the JSON form has every value).
    static let maxDynamicColumns = 16

    func runsPage(_ req: Request) throws -> Page {
        let q = req.uri.queryParameters
        let snap = try index.snapshot()
        let filterText = String(q.get("q") ?? "")
        let column = RunColumn(String(q.get("sort") ?? "started")) ?? .started
        let descending = (q.get("dir") ?? (column == .started ? "desc" : "asc")) == "desc"
        let per = min(500, max(10, Int(q.get("per") ?? "") ?? config.pageSize))
        var filterError: String?
        var rows = snap.rows
        if !filterText.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                let filter = try RunFilterExpression(filterText, paramKeys: snap.paramKeys, metricKeys: snap.metricKeys)
                rows = rows.filter(filter.matches)
            } catch {
                filterError = "\(error)"
                rows = []
            }
        }
        let now = Date()
        if column != .started || !descending { rows = sortRuns(rows, by: column, descending: descending, now: now) }
        let pages = max(1, (rows.count + per - 1) / per)
        let pageNo = min(pages, max(1, Int(q.get("page") ?? "") ?? 1))
        let pageRows = Array(rows[min(rows.count, (pageNo - 1) * per)..<min(rows.count, pageNo * per)])

        // Columns: the keys the shown rows have (a page of 50 out of 10 k stays narrow).
        var paramKeys = Set<String>(), metricKeys = Set<String>()
        for r in pageRows { paramKeys.formUnion(r.run.params.keys); metricKeys.formUnion(r.finalMetrics.keys) }
        let params = Array(paramKeys.sorted().prefix(Self.maxDynamicColumns))
        let metrics = Array(metricKeys.sorted().prefix(Self.maxDynamicColumns))

        if let filterError, Self.wantsJSON(req) { throw UIError.badRequest("bad filter: \(filterError)") }

        let json: [String: Any] = [
            "total": snap.rows.count, "matched": rows.count, "page": pageNo, "pages": pages, "per_page": per,
            "sort": column.key, "dir": descending ? "desc" : "asc", "filter": filterText,
            "param_keys": snap.paramKeys, "metric_keys": snap.metricKeys,
            "runs": pageRows.map { r -> [String: Any] in
                [
                    "id": r.run.id, "script": r.run.script, "status": r.run.status.rawValue,
                    "started": Format.iso(r.run.startedAt), "ended": Format.iso(r.run.endedAt),
                    "duration_seconds": Format.json(runDuration(r.run, now: now)),
                    "params": r.run.params.mapValues { paramJSON($0) },
                    "metrics": r.finalMetrics.mapValues { Format.json($0) },
                ]
            },
        ]

        func link(sort: String? = nil, dir: String? = nil, page: Int? = nil) -> String {
            var parts: [String] = []
            if !filterText.isEmpty { parts.append("q=\(urlEncode(filterText))") }
            parts.append("sort=\(urlEncode(sort ?? column.key))")
            parts.append("dir=\(dir ?? (descending ? "desc" : "asc"))")
            if per != config.pageSize { parts.append("per=\(per)") }
            if let page { parts.append("page=\(page)") }
            return "/?" + parts.joined(separator: "&")
        }
        func header(_ label: String, _ key: String, kind: String) -> [String: Any] {
            let active = key == column.key
            // A first click sorts metrics best-first for accuracy-like keys, times newest first.
            let dir = active ? (descending ? "asc" : "desc") : (kind == "metric" || key == "started" || key == "duration" ? "desc" : "asc")
            return ["label": label, "key": key, "kind": kind, "href": link(sort: key, dir: dir),
                    "arrow": active ? (descending ? "▼" : "▲") : "", "active": active]
        }
        var headers = [header("run", "id", kind: "fixed"), header("script", "script", kind: "fixed"),
                       header("started", "started", kind: "fixed"), header("duration", "duration", kind: "fixed"),
                       header("status", "status", kind: "fixed")]
        headers += params.map { header($0, "param:\($0)", kind: "param") }
        headers += metrics.map { header($0, "metric:\($0)", kind: "metric") }
        let viewRows: [[String: Any]] = pageRows.map { r in
            var cells: [[String: Any]] = params.map { ["text": r.run.params[$0]?.description ?? "", "kind": "param"] }
            cells += metrics.map { ["text": Format.number(r.finalMetrics[$0]), "kind": "metric num"] }
            return ["id": r.run.id, "script": r.run.script, "status": r.run.status.rawValue,
                    "started": Format.time(r.run.startedAt), "duration": Format.duration(runDuration(r.run, now: now)),
                    "cells": cells]
        }
        var view: [String: Any] = [
            "total": snap.rows.count, "matched": rows.count, "page": pageNo, "pages": pages, "filter": filterText, "has_filter": !filterText.isEmpty,
            "headers": headers, "rows": viewRows, "empty": pageRows.isEmpty, "sort": column.key,
            "dir": descending ? "desc" : "asc", "metric_keys": snap.metricKeys.prefix(12).joined(separator: ", "),
        ]
        if let filterError { view["filter_error"] = filterError }
        if pageNo > 1 { view["prev_href"] = link(page: pageNo - 1); view["first_href"] = link(page: 1) }
        if pageNo < pages { view["next_href"] = link(page: pageNo + 1); view["last_href"] = link(page: pages) }
        return Page(title: "Runs", template: "runs", json: json, view: view)
    }
}

func paramJSON(_ v: ParamValue) -> Any {
    switch v {
    case let .int(i): return i
    case let .double(d): return Format.json(d)
    case let .bool(b): return b
    case let .string(s): return s
    }
}
