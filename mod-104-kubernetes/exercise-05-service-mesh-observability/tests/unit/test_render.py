"""mesh.yaml -> Istio, Linkerd, install values and kustomize: content and validity."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshobs.render import install, istio, kustomize, linkerd
from meshobs.spec import Fault, default_spec
from meshobs.validate import validate_all

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def by_kind(manifests: list[dict], kind: str, name: str) -> dict:
    return next(m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name)


@pytest.mark.points(2)
def test_istio_mtls_destination_rule_and_authorization() -> None:
    spec = default_spec()
    out = istio.render(spec)
    assert by_kind(out, "PeerAuthentication", "default")["spec"] == {"mtls": {"mode": "STRICT"}}
    rule = by_kind(out, "DestinationRule", "model")["spec"]
    assert rule["host"] == "model.serving.svc.cluster.local"
    assert rule["trafficPolicy"]["tls"] == {"mode": "ISTIO_MUTUAL"}
    assert rule["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] == 5
    assert rule["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 100
    assert rule["subsets"] == [{"name": "v1", "labels": {"version": "v1"}},
                               {"name": "v2", "labels": {"version": "v2"}}]
    authz = by_kind(out, "AuthorizationPolicy", "model")["spec"]
    assert authz["action"] == "ALLOW"
    assert authz["rules"] == [{"from": [{"source": {
        "principals": ["cluster.local/ns/serving/sa/gateway"]}}]}]
    telemetry = by_kind(out, "Telemetry", "mesh-tracing")["spec"]["tracing"][0]
    assert telemetry == {"providers": [{"name": "otel-collector"}],
                         "randomSamplingPercentage": 10.0}


@pytest.mark.points(3)
def test_istio_virtual_service_routes_headers_first_then_weights() -> None:
    spec = default_spec().with_weights("model", {"v1": 90, "v2": 10})
    http = by_kind(istio.render(spec), "VirtualService", "model")["spec"]["http"]
    assert http[0]["match"] == [{"headers": {"x-canary": {"exact": "always"}}}]
    assert http[0]["route"] == [{"destination": {"host": "model.serving.svc.cluster.local",
                                                 "subset": "v2"}, "weight": 100}]
    assert [(r["destination"]["subset"], r["weight"]) for r in http[1]["route"]] == [
        ("v1", 90), ("v2", 10)]
    assert http[1]["retries"] == {"attempts": 2, "perTryTimeout": "1s",
                                  "retryOn": "connect-failure,refused-stream"}
    assert http[1]["timeout"] == "3s"
    assert "fault" not in http[1]


@pytest.mark.points(1)
@pytest.mark.hidden
def test_fault_injection_is_rendered_when_enabled() -> None:
    spec = default_spec()
    model = spec.services["model"]
    faulty = model.model_copy(update={"traffic": model.traffic.model_copy(update={
        "fault": Fault(abort_percent=5, abort_http_status=503, delay_percent=10)})})
    vs = istio.virtual_service(spec, "model", faulty)
    assert vs["spec"]["http"][-1]["fault"] == {
        "delay": {"percentage": {"value": 10}, "fixedDelay": "1s"},
        "abort": {"percentage": {"value": 5}, "httpStatus": 503}}
    assert validate_all([vs]) == []


@pytest.mark.points(3)
def test_linkerd_route_and_policy() -> None:
    spec = default_spec().with_weights("model", {"v1": 75, "v2": 25})
    out = linkerd.render(spec)
    route = by_kind(out, "HTTPRoute", "model")
    assert route["metadata"]["annotations"] == {"retry.linkerd.io/http": "5xx",
                                                "retry.linkerd.io/limit": "2",
                                                "retry.linkerd.io/timeout": "1s"}
    assert route["spec"]["parentRefs"] == [{"group": "", "kind": "Service", "name": "model",
                                           "port": 8080}]
    header_rule, weighted = route["spec"]["rules"]
    assert header_rule["matches"] == [{"headers": [{"type": "Exact", "name": "x-canary",
                                                    "value": "always"}]}]
    assert [(b["name"], b["weight"]) for b in weighted["backendRefs"]] == [
        ("model-v1", 75), ("model-v2", 25)]
    assert weighted["timeouts"] == {"request": "3s"}
    mtls = by_kind(out, "MeshTLSAuthentication", "model-callers")
    assert mtls["spec"] == {"identityRefs": [{"kind": "ServiceAccount", "name": "gateway"}]}
    policy = by_kind(out, "AuthorizationPolicy", "model")["spec"]
    assert policy["targetRef"] == {"group": "policy.linkerd.io", "kind": "Server",
                                   "name": "model"}
    assert not [m for m in out if m["metadata"]["name"] == "gateway"]  # edge: default policy


@pytest.mark.points(3)
def test_every_rendered_manifest_validates() -> None:
    spec = default_spec().with_weights("model", {"v1": 50, "v2": 50})
    manifests = istio.render(spec) + linkerd.render(spec) + kustomize.workloads(spec)
    assert len(manifests) == 31
    assert validate_all(manifests) == []


@pytest.mark.points(1)
def test_install_values_match_the_rendered_policies() -> None:
    spec = default_spec()
    operator = install.istio_operator(spec)
    provider = operator["spec"]["meshConfig"]["extensionProviders"][0]
    telemetry = by_kind(istio.render(spec), "Telemetry", "mesh-tracing")
    assert provider["name"] == telemetry["spec"]["tracing"][0]["providers"][0]["name"]
    assert provider["opentelemetry"]["port"] == 4318
    assert operator["spec"]["meshConfig"]["trustDomain"] == "cluster.local"
    values = install.linkerd_values(spec)
    assert values["identityTrustDomain"] == "cluster.local"
    assert values["policyController"]["defaultAllowPolicy"] == "all-authenticated"


@pytest.mark.points(2)
def test_kustomize_bundle_layout_and_committed_copy() -> None:
    files = kustomize.bundle(default_spec())
    for mesh in ("istio", "linkerd"):
        kust = yaml.safe_load(files[f"overlays/{mesh}/kustomization.yaml"])
        assert kust["resources"] == ["../../base", "mesh.yaml"]
        patch = yaml.safe_load(kust["patches"][0]["patch"])
        assert patch[0]["op"] == "add"
    assert yaml.safe_load(files["base/kustomization.yaml"])["resources"] == ["workloads.yaml"]
    deployments = [d for d in yaml.safe_load_all(files["base/workloads.yaml"])
                   if d["kind"] == "Deployment"]
    assert sorted(d["metadata"]["name"] for d in deployments) == [
        "features-v1", "gateway-v1", "model-v1", "model-v2"]
    for name, text in files.items():  # deploy/mesh is what `meshobs render` writes
        assert (DEPLOY / "mesh" / name).read_text() == text, name
