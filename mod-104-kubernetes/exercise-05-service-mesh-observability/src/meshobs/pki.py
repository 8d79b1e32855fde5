"""A mesh certificate authority and short-lived workload certificates with SPIFFE IDs.

What istiod (or Linkerd's identity controller) does for every pod: one CA for the trust
domain; each workload gets a certificate whose only identity is a URI SAN
`spiffe://<trust-domain>/ns/<ns>/sa/<service-account>`, valid for hours, not years, and
renewed before it expires (Istio renews at half its lifetime). Services authorise callers by
that URI, never by IP or hostname. Pure functions over PEM bytes; `WorkloadFiles` is the only
part that touches the filesystem (atomic writes, so a reader never sees half a key).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from aiinfra_shared.io import atomic_write_bytes
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from meshobs.errors import CertificateError, NotFoundError

ROTATE_AT_FRACTION = 0.5  # renew once half of the lifetime is used (Istio's grace ratio)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @property
    def bundle_pem(self) -> bytes:
        """Certificate followed by its key: the single file HAProxy's `crt` wants."""
        return self.cert_pem + self.key_pem


def create_ca(trust_domain: str, ttl: dt.timedelta = dt.timedelta(days=365),
              now: dt.datetime | None = None) -> KeyPair:
    """A self-signed root for `trust_domain` (EC P-256)."""
    now = now or _now()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, trust_domain),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{trust_domain} mesh CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + ttl)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def issue_workload(ca: KeyPair, spiffe_id: str, ttl: dt.timedelta = dt.timedelta(hours=24),
                   now: dt.datetime | None = None, not_before: dt.datetime | None = None
                   ) -> KeyPair:
    """A workload certificate: URI SAN = `spiffe_id`, usable as TLS server and client.

    Loopback SANs (127.0.0.1, localhost) are added because every workload here listens on
    loopback and clients verify the server's name; in a cluster the URI alone would do.
    """
    # BEGIN SOLUTION
    if not spiffe_id.startswith("spiffe://"):
        raise CertificateError(f"not a SPIFFE ID: {spiffe_id!r}")
    now = now or _now()
    ca_cert = ca.certificate
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(spiffe_id), x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(seconds=30))
            .not_valid_after(now + ttl)
            .add_extension(x509.SubjectAlternativeName(sans), critical=True)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))
    # END SOLUTION


def spiffe_id_of(cert: x509.Certificate) -> str | None:
    """The certificate's SPIFFE ID (its `spiffe://` URI SAN), if any."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    uris = [u for u in sans.get_values_for_type(x509.UniformResourceIdentifier)
            if u.startswith("spiffe://")]
    return uris[0] if uris else None


def check_workload(cert: x509.Certificate, ca_cert: x509.Certificate,
                   now: dt.datetime | None = None) -> str:
    """Raise CertificateError unless `cert` is signed by `ca_cert`, currently valid and has a
    SPIFFE ID; return that ID."""
    # BEGIN SOLUTION
    now = now or _now()
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise CertificateError("certificate is not signed by the mesh CA "
                               f"({ca_cert.subject.rfc4514_string()})") from exc
    if now < cert.not_valid_before_utc:
        raise CertificateError(f"certificate not valid before {cert.not_valid_before_utc}")
    if now >= cert.not_valid_after_utc:
        expired = cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S")
        raise CertificateError(f"certificate expired at {expired} UTC")
    spiffe = spiffe_id_of(cert)
    if spiffe is None:
        raise CertificateError("certificate has no spiffe:// URI SAN")
    return spiffe
    # END SOLUTION


def needs_rotation(cert: x509.Certificate, now: dt.datetime | None = None,
                   fraction: float = ROTATE_AT_FRACTION) -> bool:
    """True once `fraction` of the lifetime has elapsed (renew well before expiry)."""
    now = now or _now()
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    return now >= cert.not_valid_before_utc + lifetime * fraction


def expiry_timestamp(cert: x509.Certificate) -> float:
    return cert.not_valid_after_utc.timestamp()


@dataclass(frozen=True)
class MeshCA:
    """The CA on disk: `ca.pem` (shared trust bundle) and `ca-key.pem` (never leaves the CA)."""

    directory: Path

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def key_path(self) -> Path:
        return self.directory / "ca-key.pem"

    @classmethod
    def init(cls, directory: Path, trust_domain: str) -> MeshCA:
        ca = cls(Path(directory))
        if not ca.cert_path.exists():
            pair = create_ca(trust_domain)
            atomic_write_bytes(ca.key_path, pair.key_pem)
            ca.key_path.chmod(0o600)
            atomic_write_bytes(ca.cert_path, pair.cert_pem)
        return ca

    def load(self) -> KeyPair:
        try:
            return KeyPair(self.cert_path.read_bytes(), self.key_path.read_bytes())
        except FileNotFoundError as exc:
            raise NotFoundError(f"no mesh CA in {self.directory} "
                                "(run `meshobs certs init`)") from exc

    def workload(self, name: str) -> WorkloadFiles:
        return WorkloadFiles(self.directory / name, self.cert_path)

    def issue(self, name: str, spiffe_id: str, ttl: dt.timedelta) -> WorkloadFiles:
        """Sign a fresh certificate for workload `name` and store it (what the agent does)."""
        files = self.workload(name)
        files.write(issue_workload(self.load(), spiffe_id, ttl))
        return files


@dataclass(frozen=True)
class WorkloadFiles:
    """One workload's certificate files, as its sidecar agent keeps them."""

    directory: Path
    ca_path: Path

    @property
    def cert_path(self) -> Path:
        return self.directory / "cert.pem"

    @property
    def key_path(self) -> Path:
        return self.directory / "key.pem"

    @property
    def bundle_path(self) -> Path:
        return self.directory / "bundle.pem"

    def write(self, pair: KeyPair) -> None:
        # Key first, then the certificate: a reader that sees the new cert finds its key.
        atomic_write_bytes(self.key_path, pair.key_pem)
        self.key_path.chmod(0o600)
        atomic_write_bytes(self.bundle_path, pair.bundle_pem)
        self.bundle_path.chmod(0o600)
        atomic_write_bytes(self.cert_path, pair.cert_pem)

    def certificate(self) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        except FileNotFoundError as exc:
            raise NotFoundError(f"no certificate at {self.cert_path}") from exc

