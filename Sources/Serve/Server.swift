import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Registry
import ServiceLifecycle
import UnixSignals

extension InferenceServer {
    /// The Hummingbird application (in-process tests: `app.test(.router) { ... }`).
    /// `workers` event-loop threads; idle or stalled connections close after `idleTimeout`.
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        let idle = TimeAmount.nanoseconds(Int64(config.idleTimeout.components.seconds) * 1_000_000_000
            + config.idleTimeout.components.attoseconds / 1_000_000_000)
        return Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "mlw"),
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: max(1, config.workers))),
            logger: logger
        )
    }
}

/// Serves registry references (`digits@production`, `iris:3`) until SIGTERM/SIGINT: loads
/// and warms each with `loader` before the port opens (so a replica is never ready without
/// its models), follows alias moves (LISTEN/NOTIFY on PostgreSQL, else polling). On the
/// signal, readiness answers 503 at once while requests are still served for
/// `config.shutdownDrain` (a load balancer's health check sees it and routes elsewhere; a
/// second signal ends the drain early); then the listener closes, in-flight requests finish
/// (Hummingbird's graceful shutdown) and this returns normally, so the process exits 0.
///
///     try await runServer(models: ["digits@production"], registry: reg, loader: MLWModelLoader(), config: c)   // the loader is injected (ServeModels', for mlw serve)
public func runServer(models refs: [String], registry: Registry, loader: any ModelLoader, config: ServeConfig,
                      logger: Logger = Logger(label: "mlw.serve"),
                      onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    let server = InferenceServer(config: config, logger: logger)
    try server.load(refs: refs, registry: registry, loader: loader)
    let watcher = Task.detached { await server.watch(registry: registry, loader: loader) }
    defer { watcher.cancel() }
    let app = server.application { channel in
        let port = channel.localAddress?.port ?? config.port
        logger.info("listening", metadata: ["host": "\(config.host)", "port": "\(port)", "models": "\(refs)"])
        await onServerRunning(port)
    }
    // The signals are ours (not the service group's): shutdown waits for the drain.
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger))
    let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        tasks.addTask {
            var drain: Task<Void, Never>?
            for await signal in signals {
                if drain == nil {
                    server.stopAccepting()
                    logger.info("draining: readiness now 503, still serving", metadata: ["signal": "\(signal)", "seconds": "\(config.shutdownDrain)"])
                    drain = Task {
                        // Cancelled: a second signal already triggered the shutdown.
                        if (try? await Task.sleep(for: config.shutdownDrain)) != nil { await group.triggerGracefulShutdown() }
                    }
                } else {
                    logger.info("second signal: ending the drain now", metadata: ["signal": "\(signal)"])
                    drain?.cancel()
                    await group.triggerGracefulShutdown()
                }
            }
        }
        // The server ends (after the drain and graceful shutdown, or on an error): stop listening for signals.
        try await tasks.next()
        tasks.cancelAll()
    }
    server.stopAccepting()
    server.retireAll()
    logger.info("stopped")
}
