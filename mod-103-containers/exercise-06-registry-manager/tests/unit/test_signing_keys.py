import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from regman.errors import SigningKeyError
from regman.oci import Descriptor
from regman.signing import (
    PEM_PRIVATE,
    SIMPLESIGNING_TYPE,
    SignatureLayer,
    generate_key_pair,
    load_private_key,
    load_public_key,
    signature_tag,
    simple_signing_payload,
    subject_of_signature_tag,
    verify_payload,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    private_pem, public_pem = generate_key_pair("correct horse")
    (folder / "cosign.key").write_bytes(private_pem)
    (folder / "cosign.pub").write_bytes(public_pem)
    return folder / "cosign.key", folder / "cosign.pub"


@pytest.mark.points(4)
def test_private_key_is_cosign_envelope(keys: tuple[Path, Path]) -> None:
    text = keys[0].read_text()
    assert text.startswith(f"-----BEGIN {PEM_PRIVATE}-----")
    body = "".join(text.strip().splitlines()[1:-1])
    envelope = json.loads(base64.b64decode(body))
    assert envelope["kdf"]["name"] == "scrypt"
    assert envelope["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}
    assert envelope["cipher"]["name"] == "nacl/secretbox"
    assert len(base64.b64decode(envelope["cipher"]["nonce"])) == 24


@pytest.mark.points(4)
def test_round_trip_and_wrong_password(keys: tuple[Path, Path]) -> None:
    private = load_private_key(keys[0], "correct horse")
    public = load_public_key(keys[1])
    assert private.public_key().public_numbers() == public.public_numbers()
    with pytest.raises(SigningKeyError, match="wrong password"):
        load_private_key(keys[0], "battery staple")


def _layer(payload: bytes, key: ec.EllipticCurvePrivateKey) -> SignatureLayer:
    signature = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    return SignatureLayer(payload, signature, Descriptor(SIMPLESIGNING_TYPE, "sha256:x", 1))


@pytest.mark.points(5)
def test_payload_verification_rejects_tamper_and_wrong_key(keys: tuple[Path, Path]) -> None:
    private = load_private_key(keys[0], "correct horse")
    public = load_public_key(keys[1])
    payload = simple_signing_payload("reg/app", DIGEST)
    assert json.loads(payload)["critical"]["image"]["docker-manifest-digest"] == DIGEST
    good = _layer(payload, private)
    assert verify_payload(good, public, DIGEST)
    assert not verify_payload(good, public, "sha256:" + "cd" * 32)  # other image
    tampered = SignatureLayer(payload.replace(b"reg/app", b"reg/evil"), good.signature_b64,
                              good.descriptor)
    assert not verify_payload(tampered, public, DIGEST)
    other = ec.generate_private_key(ec.SECP256R1())
    assert not verify_payload(_layer(payload, other), public, DIGEST)


@pytest.mark.points(2)
def test_signature_tag_convention() -> None:
    assert signature_tag(DIGEST) == f"sha256-{'ab' * 32}.sig"
    assert subject_of_signature_tag(signature_tag(DIGEST)) == DIGEST
    assert subject_of_signature_tag("v1.0") is None
