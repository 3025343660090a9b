import Foundation
import XCTest
import Yams
@testable import Deploy

/// The manifests `mlw deploy k8s` writes, parsed back with a real YAML parser, field by field.
final class ManifestTests: XCTestCase {
    func parse(_ yaml: YAML) throws -> [String: Any] {
        try XCTUnwrap(try Yams.load(yaml: yaml.text()) as? [String: Any])
    }

    func testDeploymentHasProbesDrainResourcesAndThreads() throws {
        let m = try KubernetesManifests(reference: "digits@production", replicas: 3, registry: "postgres://mlw@db:5432/mlw",
                                        artifactsPVC: "models", image: "registry.local/mlw:1")
        let d = try parse(m.deployment())
        XCTAssertEqual(d["apiVersion"] as? String, "apps/v1")
        XCTAssertEqual(d["kind"] as? String, "Deployment")
        XCTAssertEqual((d["metadata"] as? [String: Any])?["name"] as? String, "mlw-digits")
        let spec = try XCTUnwrap(d["spec"] as? [String: Any])
        XCTAssertEqual(spec["replicas"] as? Int, 3)
        let rolling = try XCTUnwrap((spec["strategy"] as? [String: Any])?["rollingUpdate"] as? [String: Any])
        XCTAssertEqual(rolling["maxUnavailable"] as? Int, 0)
        let template = try XCTUnwrap(spec["template"] as? [String: Any])
        let annotations = try XCTUnwrap((template["metadata"] as? [String: Any])?["annotations"] as? [String: String])
        XCTAssertEqual(annotations, ["prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics"])
        let pod = try XCTUnwrap(template["spec"] as? [String: Any])
        XCTAssertEqual((pod["securityContext"] as? [String: Any])?["runAsNonRoot"] as? Bool, true)
        XCTAssertEqual(pod["terminationGracePeriodSeconds"] as? Int, 30)
        let c = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first)
        XCTAssertEqual(c["image"] as? String, "registry.local/mlw:1")
        XCTAssertEqual(c["args"] as? [String], ["digits@production", "--host", "0.0.0.0", "--port", "8080"])
        let ready = try XCTUnwrap((c["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])
        XCTAssertEqual(ready["path"] as? String, "/v2/health/ready")
        XCTAssertEqual(ready["port"] as? String, "http")
        XCTAssertEqual(((c["livenessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])?["path"] as? String, "/v2/health/live")
        let preStop = try XCTUnwrap((c["lifecycle"] as? [String: Any])?["preStop"] as? [String: Any])
        XCTAssertEqual((preStop["sleep"] as? [String: Any])?["seconds"] as? Int, 5)
        let resources = try XCTUnwrap(c["resources"] as? [String: [String: String]])
        XCTAssertEqual(resources["requests"], ["cpu": "500m", "memory": "512Mi"])
        XCTAssertEqual(resources["limits"], ["cpu": "2", "memory": "1Gi"])
        let env = try XCTUnwrap(c["env"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: env.map { ($0["name"] as! String, $0) })
        let threads = try XCTUnwrap((byName["MLW_THREADS"]?["valueFrom"] as? [String: Any])?["resourceFieldRef"] as? [String: String])
        XCTAssertEqual(threads, ["containerName": "mlw", "resource": "limits.cpu", "divisor": "1"])
        XCTAssertEqual(byName["MLW_REGISTRY"]?["value"] as? String, "postgres://mlw@db:5432/mlw")
        XCTAssertEqual(byName["MLW_ARTIFACTS"]?["value"] as? String, "/mnt/models")
        let mount = try XCTUnwrap((c["volumeMounts"] as? [[String: Any]])?.first)
        XCTAssertEqual(mount["mountPath"] as? String, "/mnt/models")
        XCTAssertEqual(mount["readOnly"] as? Bool, true)
        let volume = try XCTUnwrap((pod["volumes"] as? [[String: Any]])?.first)
        XCTAssertEqual((volume["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String, "models")
    }

    func testServiceAutoscalerBudgetAndKServe() throws {
        let m = try KubernetesManifests(reference: "my_model.v2@canary", replicas: 2, kserve: true)
        XCTAssertEqual(m.appName, "mlw-my-model-v2")
        let s = try parse(m.service())
        XCTAssertEqual(s["kind"] as? String, "Service")
        let sspec = try XCTUnwrap(s["spec"] as? [String: Any])
        XCTAssertEqual(sspec["selector"] as? [String: String], ["app.kubernetes.io/name": "mlw-my-model-v2"])
        let port = try XCTUnwrap((sspec["ports"] as? [[String: Any]])?.first)
        XCTAssertEqual(port["port"] as? Int, 80)
        XCTAssertEqual(port["targetPort"] as? String, "http")
        XCTAssertEqual(((s["metadata"] as? [String: Any])?["annotations"] as? [String: String])?["prometheus.io/scrape"], "true")

        let h = try parse(m.autoscaler())
        XCTAssertEqual(h["apiVersion"] as? String, "autoscaling/v2")
        let hspec = try XCTUnwrap(h["spec"] as? [String: Any])
        XCTAssertEqual(hspec["minReplicas"] as? Int, 2)
        XCTAssertEqual(hspec["maxReplicas"] as? Int, 6)
        XCTAssertEqual((hspec["scaleTargetRef"] as? [String: String])?["name"], "mlw-my-model-v2")
        let target = ((hspec["metrics"] as? [[String: Any]])?.first?["resource"] as? [String: Any])?["target"] as? [String: Any]
        XCTAssertEqual(target?["averageUtilization"] as? Int, 70)

        let p = try parse(m.disruptionBudget())
        XCTAssertEqual(p["apiVersion"] as? String, "policy/v1")
        XCTAssertEqual((p["spec"] as? [String: Any])?["maxUnavailable"] as? Int, 1)

        let k = try parse(m.inferenceService())
        XCTAssertEqual(k["apiVersion"] as? String, "serving.kserve.io/v1beta1")
        XCTAssertEqual(k["kind"] as? String, "InferenceService")
        let predictor = try XCTUnwrap((k["spec"] as? [String: Any])?["predictor"] as? [String: Any])
        XCTAssertEqual(predictor["minReplicas"] as? Int, 2)
        let kc = try XCTUnwrap((predictor["containers"] as? [[String: Any]])?.first)
        XCTAssertEqual(kc["name"] as? String, "kserve-container")
        XCTAssertEqual(kc["args"] as? [String], ["my_model.v2@canary", "--host", "0.0.0.0", "--port", "8080"])
        XCTAssertEqual(m.files().map(\.name), ["Containerfile", "deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml", "inferenceservice.yaml"])
        // Without a PVC or registry the pod has no volume and no such variables.
        let d = try parse(m.deployment())
        let pod = (((d["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        XCTAssertNil(pod?["volumes"])
    }

    func testContainerfileIsMultiStageNonRootServe() throws {
        let text = try KubernetesManifests(reference: "digits@production", replicas: 1).containerfile()
        let froms = text.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        XCTAssertEqual(froms.count, 2)
        XCTAssertTrue(froms[0].contains("swift:6"), text)
        XCTAssertTrue(text.contains("COPY --from=build /out/mlw /usr/local/bin/mlw"))
        XCTAssertTrue(text.contains("USER 10001"))
        XCTAssertTrue(text.contains(#"ENTRYPOINT ["/usr/local/bin/mlw", "serve"]"#))
        XCTAssertTrue(text.contains(#"CMD ["digits@production", "--host", "0.0.0.0", "--port", "8080"]"#))
    }

    func testBadInputsAreClearErrors() {
        XCTAssertThrowsError(try KubernetesManifests(reference: "digits", replicas: 3)) {
            XCTAssertEqual(($0 as? DeployError)?.description, "expected NAME@ALIAS (letters, digits, '_', '.', '-'), got 'digits'")
        }
        XCTAssertThrowsError(try KubernetesManifests(reference: "a@b", replicas: 0))
        XCTAssertThrowsError(try KubernetesManifests(reference: "a@b", replicas: 1, artifactsPVC: "Bad_Name"))
        XCTAssertThrowsError(try KubernetesManifests(reference: "a@b", replicas: 1, registry: "/tmp/x"))
        XCTAssertThrowsError(try PrometheusRules(model: "1x"))
    }

    func testYAMLQuotesEveryStringSoNothingChangesType() throws {
        let doc = YAML.map([("a", .string("true")), ("b", .string("0123")), ("c", .string("x: \"y\"\n#z")), ("d", .list([])),
                            ("e", .list([.list([.int(1)]), .map([("k", .bool(false))])]))])
        let back = try XCTUnwrap(try Yams.load(yaml: doc.text()) as? [String: Any])
        XCTAssertEqual(back["a"] as? String, "true")
        XCTAssertEqual(back["b"] as? String, "0123")
        XCTAssertEqual(back["c"] as? String, "x: \"y\"\n#z")
        XCTAssertEqual((back["d"] as? [Any])?.count, 0)
        let e = try XCTUnwrap(back["e"] as? [Any])
        XCTAssertEqual(e[0] as? [Int], [1])
        XCTAssertEqual((e[1] as? [String: Any])?["k"] as? Bool, false)
    }
}
