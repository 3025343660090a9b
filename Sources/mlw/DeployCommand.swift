import ArgumentParser
import Deploy
import Foundation

/// `mlw deploy k8s NAME@ALIAS` and `mlw deploy prometheus NAME`: files to run and watch
/// `mlw serve` replicas on a cluster (Docs/deploy.md).
struct DeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy", abstract: "Write Kubernetes manifests or Prometheus alerting rules for a served model.",
        subcommands: [Kubernetes.self, Prometheus.self])

    /// Writes `files` into `dir` (created when missing) and lists them.
    static func write(_ files: [(name: String, text: String)], to dir: String) throws {
        let url = URL(fileURLWithPath: dir, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            for f in files {
                try Data(f.text.utf8).write(to: url.appendingPathComponent(f.name), options: .atomic)
                print(url.appendingPathComponent(f.name).path)
            }
        } catch {
            throw fail("cannot write to '\(dir)': \(error.localizedDescription)", code: 1)
        }
    }

    struct Kubernetes: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "k8s", abstract: "Containerfile, Deployment, Service, HPA, PDB (and a KServe InferenceService) for NAME@ALIAS.")
        @Argument(help: ArgumentHelp("The model to serve.", valueName: "NAME@ALIAS")) var reference: String
        @Option(help: "Replicas (the HPA's minimum; its maximum is 3 times this).") var replicas = 3
        @Option(help: ArgumentHelp("The shared registry the replicas read (MLW_REGISTRY).", valueName: "postgres://...")) var registry: String?
        @Option(name: .customLong("artifacts-pvc"), help: "A PersistentVolumeClaim with the artifacts (mounted at /mnt/models).")
        var artifactsPVC: String?
        @Option(help: "Container image the Deployment runs.") var image = "mlw:latest"
        @Flag(help: "Also write a KServe InferenceService.") var kserve = false
        @Option(help: "Folder to write into.") var out = "deploy"

        func run() throws {
            do {
                let m = try KubernetesManifests(reference: reference, replicas: replicas, registry: registry,
                                                artifactsPVC: artifactsPVC, image: image, kserve: kserve)
                try DeployCommand.write(m.files(), to: out)
            } catch let e as DeployError { throw fail(e.description, code: 2) }
        }
    }

    struct Prometheus: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Alerting rules for NAME (error rate, p99 latency, load failures, drift, no traffic) and their promtool tests.")
        @Argument(help: "Model name.") var name: String
        @Option(name: .customLong("error-rate"), help: "Share of failed requests that alerts.") var errorRate = 0.05
        @Option(name: .customLong("p99-seconds"), help: "p99 latency (seconds) that alerts.") var p99Seconds = 0.25
        @Option(name: .customLong("drift"), help: "Drift score that alerts when held 10 minutes.") var drift = 3.0
        @Option(help: "Folder to write into.") var out = "deploy"

        func run() throws {
            do {
                var rules = try PrometheusRules(model: name)
                guard errorRate > 0, errorRate < 1, p99Seconds > 0, drift > 0 else {
                    throw DeployError("--error-rate must be in (0, 1), --p99-seconds and --drift positive")
                }
                rules.errorRate = errorRate; rules.p99Seconds = p99Seconds; rules.driftScore = drift
                try DeployCommand.write(rules.files(), to: out)
            } catch let e as DeployError { throw fail(e.description, code: 2) }
        }
    }
}
