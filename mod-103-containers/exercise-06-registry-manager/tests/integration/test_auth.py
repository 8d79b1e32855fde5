"""Auth against real registries: bearer-token flow (registry `auth: token` + a small token
server run in-process here), basic auth (htpasswd), and unreachable registries."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import bcrypt
import pytest
import yaml
from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.process import ServiceProcess
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from regman.adapters.registry import Credentials, RegistryClient
from regman.errors import AuthError, RegistryUnavailableError

from .conftest import invoke, sample_image

pytestmark = pytest.mark.integration
USER, PASSWORD = "robot-ci", "s3cret-robot"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(key: ec.EllipticCurvePublicKey) -> str:
    """Key ID the distribution registry derives from a trusted certificate's key."""
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


class TokenServer:
    """Docker token-auth server: basic credentials in, ES256 JWT with granted scopes out."""

    def __init__(self, work: Path) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regman-test-token")])
        now = datetime.now(UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(1)
                .not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=1)).sign(self.key, hashes.SHA256()))
        self.cert_path = work / "token.crt"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                header = self.headers.get("Authorization", "")
                user = None
                if header.startswith("Basic "):
                    name, _, pw = base64.b64decode(header[6:]).decode().partition(":")
                    if (name, pw) != (USER, PASSWORD):
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = name
                server.requests.append({"user": user, "scope": query.get("scope", [])})
                token = server.issue(user, query.get("service", [""])[0],
                                     query.get("scope", []))
                body = json.dumps({"token": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def issue(self, user: str | None, service: str, scopes: list[str]) -> str:
        access = []
        for scope in (" ".join(scopes)).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = actions.split(",") if user else [a for a in actions.split(",")
                                                       if a == "pull"]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "kid": libtrust_kid(self.key.public_key())}
        claims = {"iss": "regman-test-issuer", "sub": user or "", "aud": service,
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex,
                  "access": access}
        signing_input = f"{b64url(json.dumps(header).encode())}." \
                        f"{b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(),
                                                  ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def stop(self) -> None:
        self.httpd.shutdown()


def start_registry(work: Path, auth: dict[str, Any]) -> tuple[ServiceProcess, str]:
    binary = require_binary("docker-registry", "apt-get install docker-registry")
    port = free_port()
    config = {"version": 0.1, "log": {"level": "warn", "accesslog": {"disabled": True}},
              "storage": {"filesystem": {"rootdirectory": str(work / "storage")},
                          "delete": {"enabled": True}},
              "http": {"addr": f"127.0.0.1:{port}", "secret": "test"}, "auth": auth}
    (work / "config.yml").write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        import httpx

        try:
            return httpx.get(f"{url}/v2/", timeout=1).status_code == 401
        except httpx.HTTPError:
            return False

    process = ServiceProcess("registry-auth", [binary, "serve", str(work / "config.yml")],
                             work / "registry.log", ready_check=ready, timeout=30)
    process.start()
    return process, url


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TokenServer]]:
    work = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(work)
    process, url = start_registry(work, {"token": {
        "realm": tokens.url, "service": "regman-test", "issuer": "regman-test-issuer",
        "rootcertbundle": str(tokens.cert_path)}})
    yield url, tokens
    process.stop()
    tokens.stop()


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("basic-registry")
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
    (work / "htpasswd").write_text(f"{USER}:{hashed}\n")
    process, url = start_registry(work, {"htpasswd": {"realm": "regman",
                                                      "path": str(work / "htpasswd")}})
    yield url
    process.stop()


@pytest.mark.points(5)
def test_bearer_token_flow_push_and_list(token_registry: tuple[str, TokenServer]) -> None:
    from regman.images import push_image

    url, tokens = token_registry
    with RegistryClient(url, Credentials(USER, PASSWORD)) as client:
        digest = push_image(client, "secure/app", "v1", sample_image(1))
        assert client.tags("secure/app") == ["v1"]
        assert client.head_manifest("secure/app", "v1") == digest
        assert "secure/app" in client.catalog()
    # the registry lists a scope's actions in map order: "pull,push" or "push,pull"
    granted = {(s.rsplit(":", 1)[0], frozenset(s.rsplit(":", 1)[1].split(",")))
               for r in tokens.requests for s in r["scope"]}
    assert ("repository:secure/app", frozenset({"pull", "push"})) in granted
    assert all(r["user"] == USER for r in tokens.requests)
    result = invoke(["--registry", url, "tags", "secure/app", "--json"],
                    env={"REGMAN_USERNAME": USER, "REGMAN_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["digest"] == digest


@pytest.mark.points(2)
@pytest.mark.hidden
def test_bearer_wrong_password_and_anonymous_push(token_registry: tuple[str,
                                                                         TokenServer]) -> None:
    from regman.images import push_image

    url, _ = token_registry
    result = invoke(["--registry", url, "repos"],
                    env={"REGMAN_USERNAME": USER, "REGMAN_PASSWORD": "wrong"})
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "wrong username or password" in result.output
    with RegistryClient(url) as anonymous, pytest.raises(AuthError, match="unauthorized"):
        push_image(anonymous, "secure/anon", "v1", sample_image(2))  # token grants pull only


@pytest.mark.points(3)
def test_basic_auth(basic_registry: str) -> None:
    from regman.images import push_image

    with RegistryClient(basic_registry, Credentials(USER, PASSWORD)) as client:
        digest = push_image(client, "basic/app", "v1", sample_image(3))
        assert client.head_manifest("basic/app", "v1") == digest
    result = invoke(["--registry", basic_registry, "repos"])
    assert result.exit_code == 1
    assert "requires a login" in result.output
    result = invoke(["--registry", basic_registry, "repos"],
                    env={"REGMAN_USERNAME": USER, "REGMAN_PASSWORD": "nope"})
    assert result.exit_code == 1 and "credentials rejected" in result.output


@pytest.mark.points(3)
@pytest.mark.hidden
def test_unreachable_registry_retries_then_names_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with RegistryClient(url, retries=2, backoff=0.05) as client, \
            pytest.raises(RegistryUnavailableError, match=f"{url} unreachable after 3"):
        client.catalog()
    result = invoke(["--registry", url, "repos"],
                    env={"REGMAN_RETRIES": "1", "REGMAN_BACKOFF": "0.01"})
    assert result.exit_code == 5
    assert result.output.startswith(f"error: registry {url} unreachable after 2 attempts")


@pytest.mark.points(1)
def test_bad_reference_is_usage_error(tmp_path: Path) -> None:
    result = invoke(["inspect", "127.0.0.1:5000/Bad Repo:v1"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "invalid" in result.output




@pytest.mark.points(3)
def test_each_registry_gets_its_own_credentials_from_docker_config(tmp_path: Path) -> None:
    from regman.images import push_image

    hosts, processes = {}, []
    for name in ("alice", "bob"):
        work = tmp_path / name
        work.mkdir()
        hashed = bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(rounds=5)).decode()
        (work / "htpasswd").write_text(f"{name}:{hashed}\n")
        process, url = start_registry(work, {"htpasswd": {"realm": name,
                                                          "path": str(work / "htpasswd")}})
        processes.append(process)
        hosts[name] = url.split("://", 1)[1]
    try:
        with RegistryClient(f"http://{hosts['alice']}", Credentials("alice", "alice-pw")) as a:
            digest = push_image(a, "team/app", "v1", sample_image(41))
        helper = tmp_path / "bin" / "docker-credential-regmantest"
        helper.parent.mkdir()
        helper.write_text('#!/bin/sh\nread server\necho "$1 $server" >> "$0.log"\n'
                          'printf \'{"ServerURL":"%s","Username":"bob","Secret":"bob-pw"}\' '
                          '"$server"\n')
        helper.chmod(0o755)
        config = tmp_path / "docker" / "config.json"
        config.parent.mkdir()
        config.write_text(json.dumps({
            "auths": {f"http://{hosts['alice']}/v2/": {
                "auth": base64.b64encode(b"alice:alice-pw").decode()}},
            "credHelpers": {hosts["bob"]: "regmantest"}}))
        env = {"DOCKER_CONFIG": str(config.parent), "REGMAN_USERNAME": None,
               "REGMAN_PASSWORD": None,
               "PATH": f"{helper.parent}:{os.environ.get('PATH', '')}"}
        result = invoke(["copy", f"{hosts['alice']}/team/app:v1", f"{hosts['bob']}/team/app:v1"],
                        env=env)  # type: ignore[arg-type]
        assert result.exit_code == 0, result.output  # bob's registry rejects alice's login
        assert Path(f"{helper}.log").read_text().split() == ["get", hosts["bob"]]
        with RegistryClient(f"http://{hosts['bob']}", Credentials("bob", "bob-pw")) as b:
            assert b.head_manifest("team/app", "v1") == digest
        # REGMAN_USERNAME/PASSWORD are the default registry's login only, never sent elsewhere
        env.update(REGMAN_REGISTRY=f"http://{hosts['alice']}", REGMAN_USERNAME="alice",
                   REGMAN_PASSWORD="alice-pw")
        again = invoke(["copy", f"{hosts['alice']}/team/app:v1",
                        f"{hosts['bob']}/team/copy:v1"], env=env)  # type: ignore[arg-type]
        assert again.exit_code == 0, again.output
    finally:
        for process in processes:
            process.stop()


@pytest.mark.points(1)
@pytest.mark.hidden
def test_malformed_docker_config_is_a_config_error(tmp_path: Path, basic_registry: str) -> None:
    (tmp_path / "config.json").write_text("{not json")
    result = invoke(["--registry", basic_registry, "repos"],
                    env={"DOCKER_CONFIG": str(tmp_path)})
    assert result.exit_code == 3, result.output
    assert result.output.startswith(f"error: {tmp_path / 'config.json'}: invalid JSON")
    assert result.output.count("\n") == 1
