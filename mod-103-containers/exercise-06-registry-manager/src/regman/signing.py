"""Image signing in cosign's format (key-based, no transparency log).

Keys: ECDSA P-256. The private key is PKCS#8 DER encrypted exactly as cosign does it:
scrypt (N=32768, r=8, p=1) derives a 32-byte key from the password, NaCl secretbox
(XSalsa20-Poly1305) encrypts, and the JSON envelope goes into a PEM block
`ENCRYPTED SIGSTORE PRIVATE KEY`. The public key is a plain PKIX `PUBLIC KEY` PEM.

Signatures: a "simple signing" JSON payload naming the manifest digest is signed
(ECDSA-SHA256, DER, base64) and stored as a layer of an OCI manifest tagged
`sha256-<hex>.sig` in the same repository, with the signature in the layer annotation
`dev.cosignproject.cosign/signature`. Several signatures append layers to that manifest.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from regman.adapters.registry import RegistryClient
from regman.errors import NotFoundInRegistryError, PolicyError, SigningKeyError, VerificationError
from regman.oci import OCI_CONFIG, OCI_MANIFEST, Descriptor, sha256_digest
from regman.reference import Reference

SIMPLESIGNING_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PAYLOAD_TYPE = "cosign container image signature"
PEM_PRIVATE = "ENCRYPTED SIGSTORE PRIVATE KEY"
PEM_PRIVATE_LEGACY = "ENCRYPTED COSIGN PRIVATE KEY"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 32768, 8, 1


# --------------------------------------------------------------------------- keys


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=256 * r * n + 1024 * 1024)


def encrypt_private_key(key: ec.EllipticCurvePrivateKey, password: str) -> bytes:
    # BEGIN SOLUTION: PKCS8 DER, scrypt key, NaCl secretbox, cosign JSON envelope in a PEM block
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    box = nacl.secret.SecretBox(_scrypt(password.encode(), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
    ciphertext = box.encrypt(der, nonce).ciphertext
    envelope = {
        "kdf": {"name": "scrypt", "params": {"N": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
                "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    return _pem(PEM_PRIVATE, json.dumps(envelope).encode())
    # END SOLUTION


def _pem(label: str, data: bytes) -> bytes:
    body = base64.b64encode(data).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"
            ).encode()


def _unpem(text: bytes) -> tuple[str, bytes]:
    lines = text.decode("ascii", errors="replace").strip().splitlines()
    if not lines or not lines[0].startswith("-----BEGIN ") or not lines[-1].startswith("-----END"):
        raise SigningKeyError("not a PEM file")
    label = lines[0][len("-----BEGIN "):].rstrip("-")
    return label, base64.b64decode("".join(lines[1:-1]))


def load_private_key(path: Path, password: str) -> ec.EllipticCurvePrivateKey:
    """Decrypt a cosign private key; a wrong password is a clear one-line error."""
    # BEGIN SOLUTION: unwrap the PEM envelope, scrypt the password, open the secretbox, load the key
    try:
        label, data = _unpem(path.read_bytes())
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read key ({exc.strerror})") from exc
    except (SigningKeyError, ValueError) as exc:
        raise SigningKeyError(f"{path}: not a PEM private key") from exc
    if label not in (PEM_PRIVATE, PEM_PRIVATE_LEGACY):
        raise SigningKeyError(f"{path}: expected an {PEM_PRIVATE} PEM block, found {label!r}")
    try:
        envelope = json.loads(data)
        params = envelope["kdf"]["params"]
        secret = _scrypt(password.encode(), base64.b64decode(envelope["kdf"]["salt"]),
                         int(params["N"]), int(params["r"]), int(params["p"]))
        nonce = base64.b64decode(envelope["cipher"]["nonce"])
        ciphertext = base64.b64decode(envelope["ciphertext"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SigningKeyError(f"{path}: malformed encrypted key envelope") from exc
    try:
        der = nacl.secret.SecretBox(secret).decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError as exc:
        raise SigningKeyError(f"{path}: wrong password for the private key") from exc
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SigningKeyError(f"{path}: only ECDSA P-256 keys are supported")
    return key
    # END SOLUTION


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read public key ({exc.strerror})") from exc
    except ValueError as exc:
        raise SigningKeyError(f"{path}: not a PEM public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SigningKeyError(f"{path}: only ECDSA public keys are supported")
    return key


def public_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_key_pair(password: str) -> tuple[bytes, bytes]:
    """(encrypted private PEM, public PEM) -- what `cosign generate-key-pair` writes."""
    key = ec.generate_private_key(ec.SECP256R1())
    return encrypt_private_key(key, password), public_pem(key)


# --------------------------------------------------------------------------- payloads


def signature_tag(digest: str) -> str:
    """`sha256:abc` -> `sha256-abc.sig` (cosign's tag convention)."""
    # BEGIN SOLUTION: sha256:HEX becomes sha256-HEX.sig
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}-{hex_part}.sig"
    # END SOLUTION


def subject_of_signature_tag(tag: str) -> str | None:
    if tag.startswith("sha256-") and tag.endswith(".sig") and len(tag) == 7 + 64 + 4:
        return "sha256:" + tag[7:-4]
    return None


def simple_signing_payload(docker_reference: str, digest: str,
                           annotations: dict[str, str] | None = None) -> bytes:
    payload = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": annotations or None,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass(frozen=True)
class SignatureLayer:
    payload: bytes
    signature_b64: str
    descriptor: Descriptor


def _signature_manifest(layers: list[Descriptor]) -> tuple[bytes, bytes]:
    """(manifest bytes, config bytes) for a signature image holding `layers`."""
    config = {
        "architecture": "", "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
        "rootfs": {"type": "layers", "diff_ids": [d.digest for d in layers]},
        "config": {},
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": Descriptor(OCI_CONFIG, sha256_digest(config_bytes),
                             len(config_bytes)).to_json(),
        "layers": [d.to_json() for d in layers],
    }
    return json.dumps(manifest, separators=(",", ":")).encode(), config_bytes


def fetch_signatures(client: RegistryClient, ref: Reference, digest: str) -> list[SignatureLayer]:
    """Every signature layer stored for `digest` ([] when the image is unsigned)."""
    tag = signature_tag(digest)
    try:
        manifest = client.get_manifest(ref.repository, tag)
    except NotFoundInRegistryError:
        return []
    out = []
    for layer in manifest.layers:
        signature = layer.annotations.get(SIGNATURE_ANNOTATION)
        if layer.media_type != SIMPLESIGNING_TYPE or not signature:
            continue
        out.append(SignatureLayer(client.get_blob(ref.repository, layer.digest), signature,
                                  layer))
    return out


def sign_image(client: RegistryClient, ref: Reference, key: ec.EllipticCurvePrivateKey,
               annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """Sign the manifest `ref` resolves to and store the signature next to it."""
    # BEGIN SOLUTION: sign the payload for the digest, add a layer to the .sig manifest
    digest = ref.digest or client.head_manifest(ref.repository, ref.identifier)
    if not digest:
        raise NotFoundInRegistryError(f"{ref}: no such manifest to sign")
    payload = simple_signing_payload(ref.name, digest, annotations)
    signature = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    layer = Descriptor(SIMPLESIGNING_TYPE, sha256_digest(payload), len(payload),
                       annotations={SIGNATURE_ANNOTATION: signature})
    existing = [s.descriptor for s in fetch_signatures(client, ref, digest)]
    # Same payload from several keys = same blob digest, different annotation: keep all.
    layers = [d for d in existing if d.annotations.get(SIGNATURE_ANNOTATION) != signature]
    layers.append(layer)
    for descriptor in existing:  # make sure re-used payload blobs are present
        if not client.blob_exists(ref.repository, descriptor.digest):
            raise VerificationError(f"signature blob {descriptor.digest} missing in {ref.name}")
    if not client.blob_exists(ref.repository, layer.digest):
        client.upload_blob(ref.repository, layer.digest, payload)
    manifest, config = _signature_manifest(layers)
    config_digest = sha256_digest(config)
    if not client.blob_exists(ref.repository, config_digest):
        client.upload_blob(ref.repository, config_digest, config)
    tag = signature_tag(digest)
    client.put_manifest(ref.repository, tag, manifest, OCI_MANIFEST)
    return {"reference": str(ref), "digest": digest, "signature_tag": tag,
            "signatures": len(layers)}
    # END SOLUTION


@dataclass(frozen=True)
class VerifiedSignature:
    key: str
    payload: dict[str, Any]


def verify_payload(layer: SignatureLayer, key: ec.EllipticCurvePublicKey, digest: str) -> bool:
    """True when the signature is valid for `key` AND the payload names `digest`."""
    # BEGIN SOLUTION: the signature must verify AND the payload must name this digest
    try:
        key.verify(base64.b64decode(layer.signature_b64), layer.payload,
                   ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    try:
        payload = json.loads(layer.payload)
        critical = payload["critical"]
        return bool(critical["image"]["docker-manifest-digest"] == digest
                    and critical["type"] == PAYLOAD_TYPE)
    except (ValueError, KeyError, TypeError):
        return False
    # END SOLUTION


def verify_image(client: RegistryClient, ref: Reference,
                 keys: dict[str, ec.EllipticCurvePublicKey]) -> dict[str, Any]:
    """Check `ref` has a valid signature for EVERY key in `keys`; raise otherwise."""
    # BEGIN SOLUTION: every key needs one valid signature layer, else VerificationError
    digest = ref.digest or client.head_manifest(ref.repository, ref.identifier)
    if not digest:
        raise NotFoundInRegistryError(f"{ref}: no such manifest")
    layers = fetch_signatures(client, ref, digest)
    if not layers:
        raise VerificationError(f"{ref} ({digest}) has no signatures "
                                f"(expected tag {signature_tag(digest)})")
    verified: dict[str, list[dict[str, Any]]] = {}
    for name, key in keys.items():
        good = [json.loads(layer.payload) for layer in layers
                if verify_payload(layer, key, digest)]
        if not good:
            raise VerificationError(f"{ref} ({digest}): no valid signature for key {name} "
                                    f"({len(layers)} signature(s) checked)")
        verified[name] = good
    return {"reference": str(ref), "digest": digest, "verified_keys": sorted(verified),
            "fingerprints": {name: key_fingerprint(key) for name, key in keys.items()},
            "signatures": len(layers)}
    # END SOLUTION


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class PolicyKey:
    """A public key of a policy: `name` as the policy wrote it, identity = `fingerprint`."""

    name: str
    fingerprint: str
    key: ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class PolicyRule:
    pattern: str
    keys: tuple[Path, ...]
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class SigningPolicy:
    rules: list[PolicyRule]
    default: str = "deny"  # for repositories no rule covers: "deny" or "allow"


def key_fingerprint(key: ec.EllipticCurvePublicKey) -> str:
    """`sha256:<hex>` of the key's PKIX (SubjectPublicKeyInfo) DER, as cosign/sigstore do."""
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def load_policy(path: Path) -> SigningPolicy:
    """`policy.yaml`: `default: deny|allow` and `rules: [{repositories: "prod/*",
    keys: [a.pub, b.pub]}]`.

    Key paths are relative to the policy file. Every key of the FIRST matching rule must
    have signed the image; a repository no rule covers is denied unless `default: allow`.
    """
    from regman.policyfile import load_yaml_mapping

    data = load_yaml_mapping(path)
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        raise PolicyError(f"{path}: 'rules' must be a non-empty list")
    default = data.get("default", "deny")
    if default not in ("deny", "allow"):
        raise PolicyError(f"{path}: 'default' must be 'deny' or 'allow', not {default!r}")
    out = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("repositories"), str) or \
                not isinstance(rule.get("keys"), list) or not rule["keys"]:
            raise PolicyError(f"{path}: rules[{i}] needs 'repositories' (glob) and 'keys' "
                              "(non-empty list of public key files)")
        out.append(PolicyRule(rule["repositories"],
                              tuple(path.parent / str(k) for k in rule["keys"]),
                              tuple(str(k) for k in rule["keys"])))
    return SigningPolicy(out, default)


def policy_keys(policy: SigningPolicy, repository: str) -> list[PolicyKey] | None:
    """The keys the first rule matching `repository` requires, each distinct by fingerprint;
    None when no rule covers the repository (then `policy.default` decides)."""
    # BEGIN SOLUTION: first matching rule; identify keys by fingerprint, a repeat is an error
    for rule in policy.rules:
        if not fnmatch.fnmatchcase(repository, rule.pattern):
            continue
        keys: dict[str, PolicyKey] = {}
        for path, name in zip(rule.keys, rule.names or tuple(p.name for p in rule.keys),
                              strict=True):
            key = load_public_key(path)
            fingerprint = key_fingerprint(key)
            if fingerprint in keys:
                raise PolicyError(f"policy rule {rule.pattern!r}: {name} is the same key as "
                                  f"{keys[fingerprint].name} ({fingerprint[:19]}): list each "
                                  "signer's key once")
            keys[fingerprint] = PolicyKey(name, fingerprint, key)
        return list(keys.values())
    return None
    # END SOLUTION


def keys_for(policy: SigningPolicy, repository: str) -> dict[str, ec.EllipticCurvePublicKey]:
    """name -> key for `repository` ({} when no rule covers it)."""
    return {k.name: k.key for k in policy_keys(policy, repository) or []}


class SignatureVerifier:
    """Decides whether a digest is *signed*: a signature every key of the signing policy's
    rule for the repository verifies. A `.sig` tag alone proves nothing (anyone who can
    push can create one). Verdicts are cached by (repository, image digest, signature
    manifest digest), so an unchanged signature is verified once per process."""

    def __init__(self, policy: SigningPolicy) -> None:
        self.policy = policy
        self._keys: dict[str, list[PolicyKey] | None] = {}
        self._verdicts: dict[tuple[str, str, str], bool] = {}

    def is_signed(self, client: RegistryClient, repository: str, digest: str,
                  signature_manifest: str) -> bool:
        # BEGIN SOLUTION: policy keys of the repository; every key needs a valid layer; cache
        cache_key = (repository, digest, signature_manifest)
        if cache_key in self._verdicts:
            return self._verdicts[cache_key]
        if repository not in self._keys:
            self._keys[repository] = policy_keys(self.policy, repository)
        keys = self._keys[repository]
        verdict = False
        if keys:
            layers = fetch_signatures(client, Reference(client.host, repository, None,
                                                        digest), digest)
            verdict = bool(layers) and all(
                any(verify_payload(layer, k.key, digest) for layer in layers) for k in keys)
        self._verdicts[cache_key] = verdict
        return verdict
        # END SOLUTION
