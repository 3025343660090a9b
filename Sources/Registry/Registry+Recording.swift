import Foundation
import GRDB

// What `mlw run` needs beyond the basic run API: a script's parameters are only known once
// its `param` statements have run, so the run is started before and completed after, and
// `mlw reproduce` finds the files a run stored (its script copy, its invocation) by label.

extension Registry {
    /// Ends a running run and records the parameters and seed it ran with, in one
    /// transaction (`mlw run` learns them only after the script ran).
    ///
    ///     try registry.finishRun(id, status: .finished, params: ["epochs": 30], seed: 42)
    public func finishRun(_ id: RunID, status: RunStatus, error: String? = nil,
                          params: [String: ParamValue], seed: Int?, endedAt: Date = Date()) throws {
        try finishRun(id, status: status, error: error, endedAt: endedAt, params: params, seed: seed)
    }

    /// The run's artifact links with their labels ("script", "model", ...), oldest first.
    ///
    ///     let script = try registry.artifactLinks(run: id).first { $0.label == "script" }
    public func artifactLinks(run: RunID) throws -> [RunArtifact] {
        if let postgres { return try pgArtifactLinks(postgres, run: run) }
        return try read { db in
            let id = try resolveRunID(db, run)
            return try RunArtifact.fetchAll(db, sql: """
                SELECT run_artifact.* FROM run_artifact JOIN artifact ON artifact.sha256 = run_artifact.artifact_sha256
                WHERE run_artifact.run_id = ? ORDER BY artifact.stored_at, run_artifact.label
                """, arguments: [id])
        }
    }
}
