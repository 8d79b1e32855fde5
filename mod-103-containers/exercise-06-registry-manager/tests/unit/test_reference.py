import pytest

from regman.errors import BadReferenceError
from regman.reference import parse_reference, registry_base_url


@pytest.mark.points(1)
def test_full_reference_with_tag_and_digest() -> None:
    digest = "sha256:" + "a" * 64
    ref = parse_reference(f"127.0.0.1:5000/apps/api:v1@{digest}")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        "127.0.0.1:5000", "apps/api", "v1", digest)
    assert ref.identifier == digest
    assert str(ref) == f"127.0.0.1:5000/apps/api:v1@{digest}"


@pytest.mark.points(1)
def test_default_registry_and_latest() -> None:
    ref = parse_reference("apps/api", default_registry="http://reg.local:5000")
    assert ref.registry == "reg.local:5000"
    assert ref.identifier == "latest"


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"),
    ("apps/api:v1", "no registry host"),
    ("reg.local/Apps/API:v1", "invalid repository"),
    ("reg.local/apps/api:bad tag", "invalid tag"),
    ("reg.local/apps/api@sha256:xyz", "digest must look like"),
])
@pytest.mark.points(1)
def test_bad_references_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(BadReferenceError, match=fragment):
        parse_reference(text)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_loopback_is_plain_http_others_https() -> None:
    assert registry_base_url("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert registry_base_url("reg.example.com") == "https://reg.example.com"
    assert registry_base_url("reg.lan:5000", ("reg.lan",)) == "http://reg.lan:5000"
