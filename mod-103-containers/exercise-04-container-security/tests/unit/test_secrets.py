import pytest

from imgsec.layers import flatten
from imgsec.secrets import redact, scan_image, scan_text
from tests.unit.helpers import image, layer

AWS = ("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
       "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
       "-----END OPENSSH PRIVATE KEY-----\n")


@pytest.mark.points(2)
def test_own_rules() -> None:
    assert [(r, n) for r, n, _ in scan_text(AWS, use_detect_secrets=False)] == [
        ("aws-access-key-pair", 2)]
    assert [(r, n) for r, n, _ in scan_text(KEY, use_detect_secrets=False)] == [
        ("private-key", 1)]
    text = "APP_ENV=production\nDEPLOY_TOKEN=dpl-7f3a9c1e5b2d8f4a\nexport DB_PASSWORD=s3cr3tpass\n"
    assert [(r, n, s) for r, n, s in scan_text(text, use_detect_secrets=False)] == [
        ("unquoted-token", 2, "dpl-7f3a9c1e5b2d8f4a"), ("unquoted-token", 3, "s3cr3tpass")]
    assert scan_text("GITHUB_TOKEN=$GITHUB_TOKEN\nshort_TOKEN=abc\n", False) == []


@pytest.mark.points(1)
def test_detect_secrets_plugins_run_too() -> None:
    rules = {r for r, _, _ in scan_text("token = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'")}
    assert "detect-secrets:GitHub Token" in rules


@pytest.mark.points(3)
def test_deleted_files_env_labels_history_and_redaction() -> None:
    layers = [layer(0, {"root/.aws/credentials": AWS}, created_by="COPY creds /root/.aws/"),
              layer(1, whiteouts={"root/.aws"},
                    created_by="|1 BUILD_TOKEN=arg-secret-123456 /bin/sh -c rm -rf /root/.aws")]
    img = image(layers, config={"Env": ["API_TOKEN=env-secret-abcdef", "PATH=/bin"],
                                "Labels": {"ci.token": "x", "NPM_TOKEN": "label-secret-998877"}})
    findings = scan_image(img, flatten(layers), use_detect_secrets=False)
    summary = {(f.rule, f.location, f.path, f.layer_index, f.deleted) for f in findings}
    assert summary == {
        ("aws-access-key-pair", "file", "root/.aws/credentials", 0, True),
        ("unquoted-token", "env", "API_TOKEN", None, False),
        ("unquoted-token", "label", "NPM_TOKEN", None, False),
        ("unquoted-token", "history", "history[1]", None, False),
    }
    rendered = repr(findings)
    for secret in ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "arg-secret-123456",
                   "env-secret-abcdef", "label-secret-998877"):
        assert secret not in rendered
    assert "***" in next(f.instruction for f in findings if f.location == "history")


@pytest.mark.points(1)
def test_redaction_keeps_prefix_and_hash_only() -> None:
    shown, fingerprint = redact("imgsec-planted-env-4f9c2e7a1b")
    assert shown == "imgs…[29 chars]" and fingerprint.startswith("sha256:")
    assert redact("short")[0] == "s…[5 chars]"
