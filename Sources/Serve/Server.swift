import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Registry

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
/// each with `loader`, follows alias moves, then on the signal stops accepting, lets
/// in-flight requests finish (Hummingbird's graceful shutdown via swift-service-lifecycle)
/// and returns normally, so the process exits 0.
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
    try await app.runService()
    server.stopAccepting()
    server.retireAll()
    logger.info("stopped")
}
