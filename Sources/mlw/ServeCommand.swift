import ArgumentParser
import Foundation
import Registry
import Serve
import ServeModels
import Workbench

/// `mlw serve digits@production [--port 8080] [--canary digits@canary=10%]`: KServe V2 over
/// HTTP for registry models (Docs/serving.md, Docs/deploy.md for replicas). SIGTERM/SIGINT: readiness 503,
/// serve on for --drain-seconds, finish in-flight requests, exit 0.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve registry models over HTTP (KServe V2).")

    @Argument(help: "Model references: NAME, NAME:VERSION or NAME@ALIAS.")
    var models: [String]

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(name: .customLong("max-batch"), help: "Rows per forward pass at most.") var maxBatch = 32
    @Option(name: .customLong("max-delay-us"), help: "Microseconds a request waits for others to batch with.") var maxDelayUs = 500
    @Option(help: "HTTP event-loop threads.") var workers = ProcessInfo.processInfo.activeProcessorCount
    @Option(name: .customLong("max-body"), help: "Largest request body, e.g. 1MB.") var maxBody = "1MB"
    @Option(name: .customLong("timeout-ms"), help: "Requests unanswered after this many milliseconds get 503.") var timeoutMs = 10_000
    @Option(help: ArgumentHelp("Send a share of traffic to another version.", valueName: "NAME@ALIAS=10%")) var canary: String?
    @Option(help: ArgumentHelp("The shared registry: postgres://user@host:port/db (default $MLW_REGISTRY, else $MLW_HOME, else ./.mlw).",
                               valueName: "url")) var registry: String?
    @Option(name: .customLong("drain-seconds"),
            help: "After SIGTERM: seconds readiness answers 503 while requests are still served (a second signal ends it early; default $MLW_DRAIN_SECONDS, else 3).")
    var drainSeconds = ProcessInfo.processInfo.environment["MLW_DRAIN_SECONDS"].flatMap(Double.init) ?? 3.0
    @Option(name: .customLong("poll-ms"), help: "How often alias moves are polled (SQLite; PostgreSQL is notified at once).")
    var pollMs = 500

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("give at least one model reference, e.g. digits@production") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard maxBatch >= 1, maxDelayUs >= 0, workers >= 1, timeoutMs >= 1 else {
            throw ValidationError("--max-batch, --workers and --timeout-ms must be positive, --max-delay-us not negative")
        }
        guard drainSeconds >= 0, drainSeconds <= 3600 else { throw ValidationError("--drain-seconds must be between 0 and 3600") }
        guard (10...60_000).contains(pollMs) else { throw ValidationError("--poll-ms must be between 10 and 60000") }
        guard parseByteSize(maxBody) != nil else { throw ValidationError("--max-body: expected a size like 1MB, 512KB or 65536") }
        for m in models { do { _ = try ModelReference.parse(m) } catch { throw ValidationError("\(error)") } }
    }

    func run() throws {
        var config = ServeConfig()
        config.host = host; config.port = port; config.maxBatch = maxBatch; config.maxDelayMicros = maxDelayUs
        config.workers = workers; config.maxBody = parseByteSize(maxBody) ?? config.maxBody
        config.timeout = .milliseconds(timeoutMs)
        config.shutdownDrain = .milliseconds(Int64((drainSeconds * 1000).rounded()))
        config.pollInterval = .milliseconds(pollMs)
        if let canary {
            do { config.canary = try Canary.parse(canary) } catch { throw ValidationError("--canary: \(error)") }
        }
        let registry = try withRegistryErrors { try Registry.open(try RegistryLocation.resolve(self.registry)) }
        // ArgumentParser's `run` is synchronous here (MLW.main is custom); the server runs
        // on the concurrency pool while this thread waits.
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let refs = models
        Task.detached {
            do { try await runServer(models: refs, registry: registry, loader: MLWModelLoader(), config: config) } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let e = outcome.error { throw fail("\(e)", code: 1) }
    }
}

private final class Outcome: @unchecked Sendable { var error: Error? }
