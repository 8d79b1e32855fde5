"""mTLS between workloads: CA-signed SPIFFE certificates, identity-based authorization,
rotation without restarts."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from meshobs import pki
from meshobs.stack import meshobs_exe

from .conftest import Live

pytestmark = pytest.mark.integration


def model_url(live: Live) -> str:
    return f"https://127.0.0.1:{live.stack.workloads[('model', 'v1')].port}"


def client_for(live: Live, files: pki.WorkloadFiles | None, ca: Path | None = None
               ) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(ca or live.stack.ca.cert_path))
    if files is not None:
        context.load_cert_chain(str(files.cert_path), str(files.key_path))
    return httpx.Client(verify=context, timeout=5)


@pytest.mark.points(3)
def test_caller_identity_is_checked_against_the_authorization_policy(live: Live) -> None:
    body = {"entity": "authz"}
    with client_for(live, live.stack.ca.workload("gateway")) as gateway:
        allowed = gateway.post(f"{model_url(live)}/predict", json=body)
    assert allowed.status_code == 200, allowed.text
    # features has a valid mesh certificate, but model only admits the gateway.
    with client_for(live, live.stack.ca.workload("features")) as features:
        denied = features.post(f"{model_url(live)}/predict", json=body)
    assert denied.status_code == 403
    assert denied.json() == {"error": "RBAC: access denied",
                             "principal": "spiffe://cluster.local/ns/serving/sa/features"}


@pytest.mark.points(3)
def test_plaintext_and_certificateless_clients_are_refused(live: Live) -> None:
    port = live.stack.workloads[("model", "v1")].port
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"http://127.0.0.1:{port}/predict", json={"entity": "x"}, timeout=5)
    with client_for(live, None) as anonymous, pytest.raises(httpx.HTTPError):
        anonymous.post(f"{model_url(live)}/predict", json={"entity": "x"})


@pytest.mark.points(3)
def test_a_certificate_from_another_ca_is_refused(live: Live, tmp_path: Path) -> None:
    rogue = pki.MeshCA.init(tmp_path / "rogue", "cluster.local")
    files = rogue.issue("gateway", live.stack.spec.spiffe_id("gateway"),
                        dt.timedelta(hours=1))
    # Trust the real server (its CA) but present the rogue client certificate.
    with client_for(live, files) as client, pytest.raises(httpx.HTTPError):
        client.post(f"{model_url(live)}/predict", json={"entity": "x"})
    result = subprocess.run([meshobs_exe(), "certs", "check", str(files.cert_path), "--dir",
                             str(live.stack.ca.directory)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: certificate is not signed by the mesh CA")
    assert "Traceback" not in result.stderr


@pytest.mark.points(2)
@pytest.mark.hidden
def test_an_expired_certificate_is_refused(live: Live, tmp_path: Path) -> None:
    ca = live.stack.ca.load()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    pair = pki.issue_workload(ca, live.stack.spec.spiffe_id("gateway"),
                              ttl=dt.timedelta(hours=1), now=past)
    files = pki.WorkloadFiles(tmp_path / "expired", live.stack.ca.cert_path)
    files.write(pair)
    with client_for(live, files) as client, pytest.raises(httpx.HTTPError):
        client.post(f"{model_url(live)}/predict", json={"entity": "x"})


def served_serial(port: int, ca: Path, files: pki.WorkloadFiles) -> int:
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(files.cert_path), str(files.key_path))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


@pytest.mark.points(4)
def test_workload_certificates_rotate_before_expiry(live: Live, tmp_path: Path,
                                                    service_process: object) -> None:
    """A features workload with 4 s certificates: it renews at half-life and serves the new
    one on new connections, without a restart; its expiry metric follows."""
    from aiinfra_shared.procs import free_port

    port, admin = free_port(), free_port()
    command = [meshobs_exe(), "demo", "serve", "features", "--port", str(port),
               "--admin-port", str(admin), "--ca-dir", str(live.stack.ca.directory),
               "--spiffe-id", live.stack.spec.spiffe_id("features"),
               "--allow", live.stack.spec.spiffe_id("model"), "--cert-ttl", "4",
               "--version", "rot"]
    process = service_process("features-rot", command,  # type: ignore[operator]
                              ready_http=f"http://127.0.0.1:{admin}/healthz")
    caller = live.stack.ca.workload("model")
    first = served_serial(port, live.stack.ca.cert_path, caller)
    deadline = time.monotonic() + 15
    second = first
    while second == first and time.monotonic() < deadline:
        time.sleep(0.5)
        second = served_serial(port, live.stack.ca.cert_path, caller)
    assert second != first, process.log_tail()
    metrics = httpx.get(f"http://127.0.0.1:{admin}/metrics", timeout=5).text
    assert 'meshobs_workload_cert_rotations_total{service="features-rot"}' in metrics
    with client_for(live, caller) as client:
        assert client.get(f"https://127.0.0.1:{port}/features/x").status_code == 200


@pytest.mark.points(2)
@pytest.mark.hidden
def test_haproxy_client_certificate_is_replaced_at_run_time(live: Live) -> None:
    """The gateway sidecar's certificate is swapped through the runtime API; traffic flows."""
    files = live.stack.ca.workload("gateway")
    admin = live.stack.haproxy_admin
    before = admin.certificate_serial(files.bundle_path)
    pair = pki.issue_workload(live.stack.ca.load(), live.stack.spec.spiffe_id("gateway"),
                              dt.timedelta(hours=1))
    admin.update_certificate(files.bundle_path, pair.bundle_pem.decode())
    after = admin.certificate_serial(files.bundle_path)
    assert after != before
    assert after.lstrip("0") == format(pair.certificate.serial_number, "x").lstrip("0")
    response = httpx.post(f"{live.stack.gateway_url}/predict", json={"entity": "rot"},
                          timeout=10)
    assert response.status_code == 200
