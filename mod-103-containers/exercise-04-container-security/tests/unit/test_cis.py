import pytest

from imgsec.cis import run_checks
from imgsec.layers import flatten
from imgsec.model import FileEntry
from tests.unit.helpers import image, layer


def levels(img) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.id: c.level for c in run_checks(img, flatten(img.layers), [])}


@pytest.mark.points(3)
def test_failing_image() -> None:
    base = layer(0, {"etc/shadow": "root::19000:0:99999:7:::\n",
                     "etc/passwd": "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n",
                     "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease": "x",
                     "app/.git": "x"},
                 modes={"etc/shadow": 0o640})
    base.files["usr/bin/su"] = FileEntry("usr/bin/su", "file", 0o4755, 10)
    base.files["usr/bin/wall"] = FileEntry("usr/bin/wall", "file", 0o2755, 10)
    history = ["/bin/sh -c #(nop) ADD file:abc in /", "/bin/sh -c apt-get update",
               "/bin/sh -c sudo make install", "/bin/sh -c apk add curl",
               "/bin/sh -c apt-get dist-upgrade -y"]
    img = image([base], config={"Env": ["DB_PASSWORD="], "Volumes": {"/etc": {}}},
                history=history, name="example/app:latest")
    assert levels(img) == {
        "CIS-DI-0001": "WARN", "CIS-DI-0002": "SKIP", "CIS-DI-0003": "SKIP",
        "CIS-DI-0004": "SKIP", "CIS-DI-0005": "SKIP", "CIS-DI-0006": "INFO",
        "CIS-DI-0007": "FATAL", "CIS-DI-0008": "INFO", "CIS-DI-0009": "FATAL",
        "CIS-DI-0010": "FATAL", "CIS-DI-0011": "SKIP", "DKL-DI-0001": "FATAL",
        "DKL-DI-0002": "FATAL", "DKL-DI-0003": "WARN", "DKL-DI-0004": "FATAL",
        "DKL-DI-0005": "FATAL", "DKL-DI-0006": "WARN", "DKL-LI-0001": "FATAL",
        "DKL-LI-0002": "WARN", "DKL-LI-0003": "INFO"}
    setuid = next(c for c in run_checks(img, flatten(img.layers), []) if c.id == "CIS-DI-0008")
    assert setuid.evidence == ("/usr/bin/su (setuid, mode 4755)",
                               "/usr/bin/wall (setgid, mode 2755)")


@pytest.mark.points(2)
def test_clean_image_passes_every_decidable_check() -> None:
    base = layer(0, {"etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:10001:10001::/:/bin/sh\n"})
    img = image([base], config={"User": "10001", "Healthcheck": {"Test": ["CMD", "true"]}},
                history=["/bin/sh -c apt-get update && apt-get install -y --no-install-recommends"
                         " curl", "/bin/sh -c apk add --no-cache tini"], name="example/app:1.2.3")
    assert {k: v for k, v in levels(img).items() if v not in ("PASS", "SKIP")} == {}
    skipped = [c for c in run_checks(img, flatten(img.layers), []) if c.level == "SKIP"]
    assert all(c.reason for c in skipped)
