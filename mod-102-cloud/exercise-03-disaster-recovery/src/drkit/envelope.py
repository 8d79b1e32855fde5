"""What goes into the bucket: zstd-compressed, age-encrypted bytes with a SHA-256.

Order matters: compress first (encrypted bytes do not compress), then encrypt to every
recipient (so any one of several keys, e.g. the on-call key and the break-glass key in a
safe, can restore). The checksum is over the stored bytes, so a flipped byte is caught
before anything is decrypted, and S3's own SHA-256 checksum is checked on upload too.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pyrage
import zstandard

from drkit.errors import IntegrityError, KeyMismatchError


@dataclass(frozen=True)
class Sealed:
    data: bytes
    sha256: str  # hex, of `data`
    plain_size: int

    @property
    def sha256_b64(self) -> str:
        """The form S3's `ChecksumSHA256` uses."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_recipients(keys: list[str]) -> list[pyrage.x25519.Recipient]:
    """age public keys (`age1...`); a bad one is a one-line error naming it."""
    recipients = []
    for key in keys:
        try:
            recipients.append(pyrage.x25519.Recipient.from_str(key.strip()))
        except Exception as exc:  # pyrage raises its own RecipientError types
            raise KeyMismatchError(f"invalid age recipient {key[:12]}...: {exc}") from exc
    if not recipients:
        raise KeyMismatchError("no age recipients configured (set DRKIT_RECIPIENTS; "
                               "drkit keygen makes a key pair)")
    return recipients


def parse_identity(text: str) -> pyrage.x25519.Identity:
    """An age identity file's contents (comment lines allowed)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise KeyMismatchError("the identity file holds no age key")
    try:
        return pyrage.x25519.Identity.from_str(lines[0])
    except Exception as exc:
        raise KeyMismatchError(f"the identity file does not hold a valid age key: {exc}") from exc


def seal(plain: bytes, recipients: list[pyrage.x25519.Recipient], level: int = 3) -> Sealed:
    """Compress then encrypt; returns the stored bytes and their checksum."""
    # BEGIN SOLUTION: zstd compress, age-encrypt to all recipients, checksum the result
    compressed = zstandard.ZstdCompressor(level=level).compress(plain)
    data = pyrage.encrypt(compressed, list(recipients))
    return Sealed(data, sha256_hex(data), len(plain))
    # END SOLUTION


def unseal(data: bytes, expected_sha256: str, identity: pyrage.x25519.Identity,
           what: str = "object") -> bytes:
    """Check the checksum, decrypt, decompress; each failure is a distinct one-line error."""
    # BEGIN SOLUTION: checksum (IntegrityError), decrypt (KeyMismatchError), decompress
    actual = sha256_hex(data)
    if actual != expected_sha256:
        raise IntegrityError(f"{what}: checksum mismatch (expected sha256 "
                             f"{expected_sha256[:12]}..., got {actual[:12]}...)")
    try:
        compressed = pyrage.decrypt(data, [identity])
    except Exception as exc:
        raise KeyMismatchError(f"{what}: cannot decrypt with this key (wrong identity?)") from exc
    try:
        return zstandard.ZstdDecompressor().decompress(compressed)
    except zstandard.ZstdError as exc:
        raise IntegrityError(f"{what}: decompression failed: {exc}") from exc
    # END SOLUTION


def generate_identity() -> tuple[str, str]:
    """A new age key pair: (identity file text, public recipient)."""
    identity = pyrage.x25519.Identity.generate()
    public = str(identity.to_public())
    return f"# public key: {public}\n{identity}\n", public
