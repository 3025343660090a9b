import Train
#if canImport(Glibc)
import Glibc
#endif

/// The job this process belongs to: its rank and the world size, read from the launcher's
/// environment (Open MPI's mpirun sets OMPI_COMM_WORLD_RANK/SIZE; PMIx launchers PMIX_RANK)
/// without loading MPI, so a plain `mlw run` is rank 0 of 1 and never touches the library.
public enum World {
    public struct Info: Equatable, Sendable {
        public var rank: Int
        public var size: Int
    }

    /// Rank and size from the environment (rank 0 of 1 outside a launcher).
    public static let detected: Info = detect(environment)

    static var environment: [String: String] {
        var out: [String: String] = [:]
        for k in ["OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"] {
            if let v = getenv(k) { out[k] = String(cString: v) }
        }
        return out
    }

    /// Parses the launcher's variables; bounded (a world of more than 2^20 ranks is a typo).
    static func detect(_ env: [String: String]) -> Info {
        func int(_ k: String) -> Int? { env[k].flatMap { Int($0) }.flatMap { $0 >= 0 && $0 < 1 << 20 ? $0 : nil } }
        guard let rank = int("OMPI_COMM_WORLD_RANK") ?? int("PMIX_RANK") ?? int("PMI_RANK") else { return Info(rank: 0, size: 1) }
        let size = int("OMPI_COMM_WORLD_SIZE") ?? int("PMI_SIZE") ?? (rank + 1)
        return Info(rank: min(rank, max(size - 1, 0)), size: max(size, 1))
    }

    /// True for every rank but 0: those train and compute but print nothing and write
    /// nothing to the registry.
    public static var isSecondary: Bool { detected.rank != 0 }

    nonisolated(unsafe) private static var shared: MPICollective?

    /// The job's collective: MPI initialised on first use (loaded then). Throws with the
    /// packages to install when Open MPI is missing.
    public static func collective() throws -> MPICollective {
        if let c = shared { return c }
        let c = try MPICollective(timeout: timeoutSeconds())
        guard c.size == detected.size, c.rank == detected.rank else {
            throw DistributedError("MPI reports rank \(c.rank) of \(c.size), the launcher's environment said \(detected.rank) of \(detected.size)")
        }
        shared = c
        return c
    }

    /// Called when the script finished without error: MPI_Finalize (a no-op when MPI was
    /// never loaded). A process that exits otherwise aborts the job (MPICollective).
    public static func finish() { MPICollective.finish() }

    /// The collective watchdog: MLW_MPI_TIMEOUT seconds (default 300) before a collective
    /// that some rank never joins aborts the job.
    static func timeoutSeconds() throws -> Double {
        guard let raw = getenv("MLW_MPI_TIMEOUT").map({ String(cString: $0) }) else { return 300 }
        guard let t = Double(raw), t > 0, t <= 86_400 else {
            throw DistributedError("MLW_MPI_TIMEOUT must be a number of seconds in (0, 86400], got '\(raw)'")
        }
        return t
    }
}
