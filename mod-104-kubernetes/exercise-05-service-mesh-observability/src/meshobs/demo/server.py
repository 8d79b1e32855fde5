"""Run one workload: its main app (mTLS, or plain HTTP at the edge) and its admin app in one
process, and keep its certificate fresh.

The main port requires a client certificate signed by the mesh CA (TLS handshake fails
otherwise: plaintext and wrong-CA clients never reach the app); the app then checks the
caller's SPIFFE ID. A background task renews the workload certificate at half its lifetime
and loads it into the live SSL context: new connections get the new certificate, no restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import ssl
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import uvicorn
from prometheus_client import CollectorRegistry

from meshobs import pki
from meshobs.demo.app import Metrics, ServiceConfig, create_admin_app, create_app
from meshobs.demo.peers import PeerTable, protocol_with_peers
from meshobs.demo.tracing import setup_tracing

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn.Server without its own signal handling: the process handles signals once for
    both servers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class Identity:
    """Where the workload's certificate comes from and how long each one lives."""

    ca: pki.MeshCA
    name: str
    spiffe_id: str
    ttl: dt.timedelta
    check_every: float = 1.0


def rotate_if_due(identity: Identity, context: ssl.SSLContext | None, metrics: Metrics,
                  now: dt.datetime | None = None) -> bool:
    """Renew the certificate once half its lifetime is gone; True when it did."""
    files = identity.ca.workload(identity.name)
    cert = files.certificate()
    if not pki.needs_rotation(cert, now):
        return False
    files = identity.ca.issue(identity.name, identity.spiffe_id, identity.ttl)
    if context is not None:
        context.load_cert_chain(str(files.cert_path), str(files.key_path))
    new = files.certificate()
    metrics.cert_expiry.labels(identity.name, identity.spiffe_id).set(pki.expiry_timestamp(new))
    metrics.rotations.labels(identity.name).inc()
    log.info("rotated workload certificate", extra={"service": identity.name,
                                                    "expires": new.not_valid_after_utc})
    return True


async def _rotation_loop(identity: Identity, server: _Server, metrics: Metrics) -> None:
    while not server.should_exit:
        await asyncio.sleep(identity.check_every)
        try:
            rotate_if_due(identity, server.config.ssl, metrics)
        except Exception:  # keep serving with the current certificate; retry next tick
            log.exception("certificate rotation failed")


def serve(config: ServiceConfig, host: str, port: int, admin_port: int,
          identity: Identity | None, otlp_endpoints: Sequence[str] = (),
          zipkin_endpoint: str | None = None) -> None:
    """Block serving until SIGTERM/SIGINT."""
    provider = setup_tracing(config.role, config.version, otlp_endpoints, zipkin_endpoint)
    metrics = Metrics(CollectorRegistry())
    peers = PeerTable()
    app = create_app(config, provider, metrics, peers)
    tls: dict[str, object] = {}
    if identity is not None:
        files = identity.ca.workload(identity.name)
        if not files.cert_path.exists():
            identity.ca.issue(identity.name, identity.spiffe_id, identity.ttl)
        cert = files.certificate()
        pki.check_workload(cert, pki.MeshCA(identity.ca.directory).load().certificate)
        metrics.cert_expiry.labels(identity.name, identity.spiffe_id).set(
            pki.expiry_timestamp(cert))
        tls = {"ssl_certfile": str(files.cert_path), "ssl_keyfile": str(files.key_path),
               "ssl_ca_certs": str(identity.ca.cert_path), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    main = _Server(uvicorn.Config(app, host=host, port=port, http=protocol_with_peers(peers),
                                  log_level="warning", access_log=False, lifespan="on",
                                  timeout_graceful_shutdown=1, **tls))  # type: ignore[arg-type]
    admin = _Server(uvicorn.Config(create_admin_app(config, metrics), host=host,
                                   port=admin_port, log_level="warning", access_log=False,
                                   timeout_graceful_shutdown=1))

    async def run() -> None:
        loop = asyncio.get_running_loop()

        def stop() -> None:
            main.should_exit = True
            admin.should_exit = True

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        tasks = [main.serve(), admin.serve()]
        if identity is not None:
            tasks.append(_rotation_loop(identity, main, metrics))
        await asyncio.gather(*tasks)

    try:
        asyncio.run(run())
    finally:
        provider.shutdown()
