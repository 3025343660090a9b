import Foundation

/// `mlw deploy k8s NAME@ALIAS`: the files that run `mlw serve` replicas on Kubernetes — a
/// Containerfile, a Deployment, a Service, a HorizontalPodAutoscaler, a PodDisruptionBudget
/// and optionally a KServe InferenceService (Docs/deploy.md explains each field).
///
///     let files = try KubernetesManifests(reference: "digits@production", replicas: 3).files()
public struct KubernetesManifests: Sendable {
    public var model: String
    public var alias: String
    public var replicas: Int
    /// The shared registry URL (`MLW_REGISTRY`), e.g. postgres://mlw@db:5432/mlw.
    public var registry: String?
    /// A PersistentVolumeClaim holding the artifacts, mounted read-only at `artifactsPath`.
    public var artifactsPVC: String?
    public var image: String
    public var port = 8080
    public var cpuRequest = "500m", cpuLimit = "2", memoryRequest = "512Mi", memoryLimit = "1Gi"
    /// Seconds the pod keeps serving after it is told to stop, while endpoints stop routing to it.
    public var preStopSeconds = 5
    public var kserve = false
    public static let artifactsPath = "/mnt/models"

    /// Parses `NAME@ALIAS`; `replicas` must be 1...100.
    public init(reference: String, replicas: Int, registry: String? = nil, artifactsPVC: String? = nil,
                image: String? = nil, kserve: Bool = false) throws {
        let parts = reference.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, DeployName.isModelName(String(parts[0])), DeployName.isModelName(String(parts[1])) else {
            throw DeployError("expected NAME@ALIAS (letters, digits, '_', '.', '-'), got '\(reference)'")
        }
        guard (1...100).contains(replicas) else { throw DeployError("--replicas must be 1...100, got \(replicas)") }
        if let pvc = artifactsPVC, !DeployName.isDNSLabel(pvc) {
            throw DeployError("--artifacts-pvc must be a Kubernetes name (lowercase letters, digits, '-'), got '\(pvc)'")
        }
        if let registry, !(registry.hasPrefix("postgres://") || registry.hasPrefix("postgresql://")) {
            throw DeployError("--registry must be a postgres:// URL (replicas share one registry), got '\(registry)'")
        }
        model = String(parts[0]); alias = String(parts[1])
        self.replicas = replicas; self.registry = registry; self.artifactsPVC = artifactsPVC
        self.image = image ?? "mlw:latest"; self.kserve = kserve
    }

    /// The Kubernetes name of everything: `mlw-<model>` made a DNS label.
    public var appName: String { DeployName.dnsLabel("mlw-" + model) }

    /// File name -> contents.
    public func files() -> [(name: String, text: String)] {
        var out: [(String, String)] = [
            ("Containerfile", containerfile()),
            ("deployment.yaml", deployment().text()),
            ("service.yaml", service().text()),
            ("hpa.yaml", autoscaler().text()),
            ("pdb.yaml", disruptionBudget().text()),
        ]
        if kserve { out.append(("inferenceservice.yaml", inferenceService().text())) }
        return out
    }

    var serveArgs: [String] { ["\(model)@\(alias)", "--host", "0.0.0.0", "--port", String(port)] }

    public func containerfile() -> String {
        """
        # mlw serve \(model)@\(alias): built from the MLW source tree (podman build -f Containerfile .).
        # Stage 1 builds mlw with Swift 6; stage 2 keeps only the binary and the shared
        # libraries it links, and runs as a non-root user.
        FROM docker.io/library/swift:6.3-noble AS build
        RUN apt-get update && apt-get install -y --no-install-recommends \\
              libreadline-dev libsqlite3-dev libzstd-dev libsnappy-dev zlib1g-dev && rm -rf /var/lib/apt/lists/*
        WORKDIR /src
        COPY . .
        RUN swift build -c release --product mlw --static-swift-stdlib && install -D -m 0755 .build/release/mlw /out/mlw

        FROM docker.io/library/ubuntu:24.04 AS runtime
        RUN apt-get update && apt-get install -y --no-install-recommends \\
              libreadline8t64 libsqlite3-0 libzstd1 libsnappy1v5 zlib1g libcurl4 libxml2 ca-certificates \\
            && rm -rf /var/lib/apt/lists/* && useradd --uid 10001 --create-home --shell /usr/sbin/nologin mlw
        COPY --from=build /out/mlw /usr/local/bin/mlw
        USER 10001
        ENV MLW_HOME=/home/mlw/.mlw
        EXPOSE \(port)
        ENTRYPOINT ["/usr/local/bin/mlw", "serve"]
        CMD [\(serveArgs.map { YAML.quote($0) }.joined(separator: ", "))]

        """
    }

    var labels: YAML { .map([("app.kubernetes.io/name", .string(appName)), ("app.kubernetes.io/component", .string("serving"))]) }
    var selector: YAML { .map([("app.kubernetes.io/name", .string(appName))]) }

    /// Prometheus scrape annotations (what the prometheus-operator's ServiceMonitor and the
    /// classic `kubernetes_sd` scrape configs look for).
    var prometheusAnnotations: YAML {
        .map([("prometheus.io/scrape", .string("true")), ("prometheus.io/port", .string(String(port))),
              ("prometheus.io/path", .string("/metrics"))])
    }

    var env: YAML {
        var items: [YAML] = [
            // The kernels use as many threads as the CPU limit allows (rounded up to whole CPUs).
            .map([("name", .string("MLW_THREADS")), ("valueFrom", .map([("resourceFieldRef", .map([
                ("containerName", .string("mlw")), ("resource", .string("limits.cpu")), ("divisor", .string("1"))]))]))]),
        ]
        if let registry { items.append(.map([("name", .string("MLW_REGISTRY")), ("value", .string(registry))])) }
        if artifactsPVC != nil { items.append(.map([("name", .string("MLW_ARTIFACTS")), ("value", .string(Self.artifactsPath))])) }
        return .list(items)
    }

    func container(name: String) -> [(String, YAML)] {
        var c: [(String, YAML)] = [
            ("name", .string(name)),
            ("image", .string(image)),
            ("args", .list(serveArgs.map { .string($0) })),
            ("ports", .list([.map([("name", .string("http")), ("containerPort", .int(port)), ("protocol", .string("TCP"))])])),
            ("env", env),
            ("resources", .map([
                ("requests", .map([("cpu", .string(cpuRequest)), ("memory", .string(memoryRequest))])),
                ("limits", .map([("cpu", .string(cpuLimit)), ("memory", .string(memoryLimit))])),
            ])),
        ]
        if artifactsPVC != nil {
            c.append(("volumeMounts", .list([.map([("name", .string("artifacts")), ("mountPath", .string(Self.artifactsPath)),
                                                   ("readOnly", .bool(true))])])))
        }
        return c
    }

    public func deployment() -> YAML {
        var c = container(name: "mlw")
        c += [
            // Ready only once the models are loaded and warmed; 503 from the moment SIGTERM arrives.
            ("readinessProbe", .map([("httpGet", .map([("path", .string("/v2/health/ready")), ("port", .string("http"))])),
                                     ("periodSeconds", .int(2)), ("failureThreshold", .int(1))])),
            ("livenessProbe", .map([("httpGet", .map([("path", .string("/v2/health/live")), ("port", .string("http"))])),
                                    ("periodSeconds", .int(10)), ("failureThreshold", .int(3))])),
            // Endpoints are removed asynchronously: keep serving a few seconds before SIGTERM.
            ("lifecycle", .map([("preStop", .map([("sleep", .map([("seconds", .int(preStopSeconds))]))]))])),
            ("securityContext", .map([("allowPrivilegeEscalation", .bool(false))])),
        ]
        var podSpec: [(String, YAML)] = [
            ("securityContext", .map([("runAsNonRoot", .bool(true)), ("runAsUser", .int(10001))])),
            ("terminationGracePeriodSeconds", .int(30)),
            ("containers", .list([.map(c)])),
        ]
        if let pvc = artifactsPVC {
            podSpec.append(("volumes", .list([.map([("name", .string("artifacts")), ("persistentVolumeClaim",
                                                      .map([("claimName", .string(pvc)), ("readOnly", .bool(true))]))])])))
        }
        return .map([
            ("apiVersion", .string("apps/v1")),
            ("kind", .string("Deployment")),
            ("metadata", .map([("name", .string(appName)), ("labels", labels)])),
            ("spec", .map([
                ("replicas", .int(replicas)),
                ("selector", .map([("matchLabels", selector)])),
                ("strategy", .map([("type", .string("RollingUpdate")),
                                   ("rollingUpdate", .map([("maxUnavailable", .int(0)), ("maxSurge", .int(1))]))])),
                ("template", .map([
                    ("metadata", .map([("labels", labels), ("annotations", prometheusAnnotations)])),
                    ("spec", .map(podSpec)),
                ])),
            ])),
        ])
    }

    public func service() -> YAML {
        .map([
            ("apiVersion", .string("v1")),
            ("kind", .string("Service")),
            ("metadata", .map([("name", .string(appName)), ("labels", labels), ("annotations", prometheusAnnotations)])),
            ("spec", .map([
                ("type", .string("ClusterIP")),
                ("selector", selector),
                ("ports", .list([.map([("name", .string("http")), ("port", .int(80)), ("targetPort", .string("http")),
                                       ("protocol", .string("TCP"))])])),
            ])),
        ])
    }

    public func autoscaler() -> YAML {
        .map([
            ("apiVersion", .string("autoscaling/v2")),
            ("kind", .string("HorizontalPodAutoscaler")),
            ("metadata", .map([("name", .string(appName)), ("labels", labels)])),
            ("spec", .map([
                ("scaleTargetRef", .map([("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")), ("name", .string(appName))])),
                ("minReplicas", .int(replicas)),
                ("maxReplicas", .int(replicas * 3)),
                ("metrics", .list([.map([("type", .string("Resource")), ("resource", .map([
                    ("name", .string("cpu")), ("target", .map([("type", .string("Utilization")), ("averageUtilization", .int(70))]))]))])])),
            ])),
        ])
    }

    public func disruptionBudget() -> YAML {
        .map([
            ("apiVersion", .string("policy/v1")),
            ("kind", .string("PodDisruptionBudget")),
            ("metadata", .map([("name", .string(appName)), ("labels", labels)])),
            // One replica at a time may be evicted (a node drain), never the last one.
            ("spec", .map([("maxUnavailable", .int(replicas > 1 ? 1 : 0)), ("selector", .map([("matchLabels", selector)]))])),
        ])
    }

    public func inferenceService() -> YAML {
        .map([
            ("apiVersion", .string("serving.kserve.io/v1beta1")),
            ("kind", .string("InferenceService")),
            ("metadata", .map([("name", .string(appName)), ("labels", labels), ("annotations", prometheusAnnotations)])),
            ("spec", .map([("predictor", .map([
                ("minReplicas", .int(replicas)),
                ("maxReplicas", .int(replicas * 3)),
                // A custom predictor: mlw serve speaks the V2 (Open Inference) protocol KServe routes.
                ("containers", .list([.map(container(name: "kserve-container"))])),
            ]))])),
        ])
    }
}

public struct DeployError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ message: String) { description = message }
}

enum DeployName {
    static func isModelName(_ s: String) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter, s.count <= 64 else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }

    static func isDNSLabel(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 63, s.first != "-", s.last != "-" else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    /// Lowercased, other characters as '-', at most 63 characters, no '-' at either end.
    static func dnsLabel(_ s: String) -> String {
        let mapped = String(s.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }.prefix(63))
        return String(mapped.drop(while: { $0 == "-" }).reversed().drop(while: { $0 == "-" }).reversed())
    }
}
