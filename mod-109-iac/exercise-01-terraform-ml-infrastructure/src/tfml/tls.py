"""A private CA and a server certificate for the loopback registry.

Terraform talks to module registries over HTTPS only. The CA file is what a consumer trusts
(`SSL_CERT_FILE` for terraform, which is a Go program); the server certificate names the
registry host, `localhost` and 127.0.0.1 (the `host` block of the CLI config points the
dotted registry name at the loopback address).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from aiinfra_shared.io import atomic_write_bytes
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tfml"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def ensure_tls(directory: Path, host: str, days: int = 30) -> TlsFiles:
    """Create (once) a CA and a certificate for `host`, localhost and 127.0.0.1."""
    directory = Path(directory).resolve()  # consumers run terraform in other directories
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    marker = directory / "host.txt"
    if (all(p.is_file() for p in (files.ca_cert, files.server_cert, files.server_key))
            and marker.is_file() and marker.read_text() == host):
        return files
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder().subject_name(_name("tfml registry CA"))
        .issuer_name(_name("tfml registry CA")).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(host)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName(host), x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    atomic_write_bytes(files.server_key, key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    atomic_write_bytes(files.server_cert, cert.public_bytes(pem))
    atomic_write_bytes(files.ca_cert, ca_cert.public_bytes(pem))
    files.server_key.chmod(0o600)
    atomic_write_bytes(marker, host.encode())
    return files
