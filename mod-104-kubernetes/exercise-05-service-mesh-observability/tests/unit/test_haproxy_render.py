"""mesh.yaml -> haproxy.cfg: the same policy as the mesh manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshobs.render.haproxy import Endpoint, LocalTopology, render
from meshobs.spec import Fault, default_spec


def topology(**overrides: object) -> LocalTopology:
    values: dict[str, object] = {
        "workloads": {"gateway": {"v1": Endpoint("127.0.0.1", 7001)},
                      "model": {"v1": Endpoint("127.0.0.1", 7002),
                                "v2": Endpoint("127.0.0.1", 7003)},
                      "features": {"v1": Endpoint("127.0.0.1", 7004)}},
        "listeners": {("gateway", "model"): 7101, ("model", "features"): 7102},
        "certs_dir": Path("/certs"), "admin_port": 7200, "metrics_port": 7201}
    values.update(overrides)
    return LocalTopology(**values)  # type: ignore[arg-type]


def section(cfg: str, header: str) -> list[str]:
    lines = cfg.splitlines()
    start = lines.index(header)
    out = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        out.append(line.strip())
    return out


@pytest.mark.points(3)
def test_routes_weights_and_caller_certificates() -> None:
    spec = default_spec().with_weights("model", {"v1": 90, "v2": 10})
    cfg = render(spec, topology())
    assert "stats socket ipv4@127.0.0.1:7200 level admin" in cfg
    assert "http-request use-service prometheus-exporter if { path /metrics }" in cfg
    front = section(cfg, "frontend gateway_to_model")
    assert front[:2] == ["bind 127.0.0.1:7101", "timeout client 3000"]
    assert "acl hdr_route_0 req.hdr(x-canary) -m str always" in front
    assert "use_backend model_via_gateway__v2 if hdr_route_0" in front
    assert front[-1] == "default_backend model_via_gateway"
    back = section(cfg, "backend model_via_gateway")
    servers = [line for line in back if line.startswith("server ")]
    assert servers[0].startswith("server v1 127.0.0.1:7002 weight 90 ssl crt "
                                 "/certs/gateway/bundle.pem ca-file /certs/ca.pem "
                                 "verify required check check-ssl")
    assert servers[1].startswith("server v2 127.0.0.1:7003 weight 10 ")
    # the model's own outbound listener presents the model's certificate
    assert "ssl crt /certs/model/bundle.pem" in section(cfg, "backend features_via_model")[-1]


@pytest.mark.points(2)
def test_retries_timeouts_outlier_detection_and_health_checks() -> None:
    back = section(render(default_spec(), topology()), "backend model_via_gateway")
    assert "retries 2" in back
    assert "retry-on conn-failure empty-response" in back
    assert "timeout server 1000" in back and "timeout queue 3000" in back
    assert "option httpchk GET /healthz" in back and "http-check expect status 200" in back
    server = next(line for line in back if line.startswith("server v1"))
    assert "observe layer7 error-limit 5 on-error mark-down" in server
    assert "maxconn 100 maxqueue 100" in server


@pytest.mark.points(1)
@pytest.mark.hidden
def test_abort_faults_and_runtime_weight_overrides() -> None:
    spec = default_spec()
    model = spec.services["model"]
    faulty = model.model_copy(update={"traffic": model.traffic.model_copy(update={
        "fault": Fault(abort_percent=25, abort_http_status=503)})})
    spec = spec.model_copy(update={"services": {**spec.services, "model": faulty}})
    cfg = render(spec, topology(weights={"model": {"v1": 30, "v2": 70}}))
    assert "http-request return status 503 if { rand(100) lt 25 }" in section(
        cfg, "frontend gateway_to_model")
    assert "weight 70" in next(line for line in section(cfg, "backend model_via_gateway")
                               if line.startswith("server v2"))
