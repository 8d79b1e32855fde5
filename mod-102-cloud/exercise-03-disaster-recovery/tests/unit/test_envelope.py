from __future__ import annotations

import pytest

from drkit.envelope import generate_identity, parse_identity, parse_recipients, seal, unseal
from drkit.errors import IntegrityError, KeyMismatchError

MARKER = b"SECRET-ROW-MARKER-42" * 50


@pytest.fixture(scope="module")
def pair() -> tuple[str, str]:
    return generate_identity()


@pytest.mark.points(2)
def test_round_trip_compresses_and_hides_plaintext(pair: tuple[str, str]) -> None:
    identity_text, public = pair
    sealed = seal(MARKER, parse_recipients([public]))
    assert b"SECRET-ROW-MARKER" not in sealed.data
    assert len(sealed.data) < len(MARKER)  # compressed before encryption
    assert unseal(sealed.data, sealed.sha256, parse_identity(identity_text)) == MARKER


@pytest.mark.points(3)
def test_flipped_byte_is_caught_by_the_checksum(pair: tuple[str, str]) -> None:
    identity_text, public = pair
    sealed = seal(MARKER, parse_recipients([public]))
    broken = bytearray(sealed.data)
    broken[len(broken) // 2] ^= 0x01
    with pytest.raises(IntegrityError, match="checksum mismatch"):
        unseal(bytes(broken), sealed.sha256, parse_identity(identity_text))


@pytest.mark.points(2)
def test_wrong_key_and_bad_keys_are_one_line_errors(pair: tuple[str, str]) -> None:
    _, public = pair
    other, _ = generate_identity()
    sealed = seal(MARKER, parse_recipients([public]))
    with pytest.raises(KeyMismatchError, match="cannot decrypt"):
        unseal(sealed.data, sealed.sha256, parse_identity(other))
    with pytest.raises(KeyMismatchError, match="invalid age recipient"):
        parse_recipients(["age1nope"])
    with pytest.raises(KeyMismatchError, match="no age recipients"):
        parse_recipients([])
    with pytest.raises(KeyMismatchError, match="no age key"):
        parse_identity("# only a comment\n")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_any_recipient_can_decrypt(pair: tuple[str, str]) -> None:
    first_text, first = pair
    second_text, second = generate_identity()
    sealed = seal(MARKER, parse_recipients([first, second]))
    assert unseal(sealed.data, sealed.sha256, parse_identity(first_text)) == MARKER
    assert unseal(sealed.data, sealed.sha256, parse_identity(second_text)) == MARKER
