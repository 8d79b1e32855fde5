"""Mesh CA and workload certificates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from meshobs import pki
from meshobs.errors import CertificateError, NotFoundError

SPIFFE = "spiffe://cluster.local/ns/serving/sa/model"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def ca() -> pki.KeyPair:
    return pki.create_ca("cluster.local", now=NOW - dt.timedelta(days=1))


@pytest.mark.points(2)
def test_workload_certificate_carries_only_a_spiffe_identity(ca: pki.KeyPair) -> None:
    pair = pki.issue_workload(ca, SPIFFE, ttl=dt.timedelta(hours=1), now=NOW)
    cert = pair.certificate
    assert pki.spiffe_id_of(cert) == SPIFFE
    assert cert.subject == x509.Name([])
    assert cert.not_valid_after_utc == NOW + dt.timedelta(hours=1)
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {u.dotted_string for u in usage} == {"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"}
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert pki.check_workload(cert, ca.certificate, now=NOW) == SPIFFE
    assert pair.bundle_pem.startswith(pair.cert_pem) and pair.bundle_pem.endswith(pair.key_pem)


@pytest.mark.points(2)
def test_expired_and_foreign_certificates_are_rejected(ca: pki.KeyPair) -> None:
    pair = pki.issue_workload(ca, SPIFFE, ttl=dt.timedelta(hours=1), now=NOW)
    with pytest.raises(CertificateError, match="expired at 2026-06-01 13:00:00 UTC"):
        pki.check_workload(pair.certificate, ca.certificate, now=NOW + dt.timedelta(hours=2))
    other = pki.create_ca("cluster.local", now=NOW - dt.timedelta(days=1))
    foreign = pki.issue_workload(other, SPIFFE, now=NOW)
    with pytest.raises(CertificateError, match="not signed by the mesh CA"):
        pki.check_workload(foreign.certificate, ca.certificate, now=NOW)
    with pytest.raises(CertificateError, match="not a SPIFFE ID"):
        pki.issue_workload(ca, "model.serving", now=NOW)


@pytest.mark.points(2)
def test_rotation_is_due_at_half_of_the_lifetime(ca: pki.KeyPair) -> None:
    cert = pki.issue_workload(ca, SPIFFE, ttl=dt.timedelta(minutes=60), now=NOW,
                              not_before=NOW).certificate
    assert not pki.needs_rotation(cert, NOW + dt.timedelta(minutes=29))
    assert pki.needs_rotation(cert, NOW + dt.timedelta(minutes=30))
    assert pki.expiry_timestamp(cert) == (NOW + dt.timedelta(minutes=60)).timestamp()


@pytest.mark.points(1)
def test_ca_on_disk(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="meshobs certs init"):
        pki.MeshCA(tmp_path / "none").load()
    ca = pki.MeshCA.init(tmp_path / "ca", "cluster.local")
    first = ca.cert_path.read_bytes()
    assert pki.MeshCA.init(tmp_path / "ca", "cluster.local").cert_path.read_bytes() == first
    assert oct(ca.key_path.stat().st_mode & 0o777) == "0o600"
    files = ca.issue("gateway", "spiffe://cluster.local/ns/serving/sa/gateway",
                     dt.timedelta(minutes=5))
    assert pki.spiffe_id_of(files.certificate()).endswith("/sa/gateway")
    assert files.bundle_path.read_bytes() == files.cert_path.read_bytes() + \
        files.key_path.read_bytes()
