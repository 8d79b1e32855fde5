"""Secret detection in every layer (deleted files included), env, labels and history.

Layers keep the bytes of files that a later layer deleted (trivy#2194): a key copied in and
`rm`-ed in the next RUN is still in the image, so every layer's own files are scanned, not
only the flattened view. Build ARGs leak into history (`|1 TOKEN=... /bin/sh -c ...`).

Rules: detect-secrets' plugins (minus the entropy ones, far too noisy on binaries and
hashes) plus our own for AWS key pairs, private keys and unquoted `*_TOKEN=value` lines that
detect-secrets misses. A secret is never printed: findings keep a 4-character prefix and a
hash prefix, enough to tell two secrets apart and to find the line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from imgsec.layers import FlatView
from imgsec.model import Image

DETECT_SECRETS_PLUGINS = [
    "AWSKeyDetector", "ArtifactoryDetector", "AzureStorageKeyDetector", "BasicAuthDetector",
    "CloudantDetector", "DiscordBotTokenDetector", "GitHubTokenDetector", "GitLabTokenDetector",
    "IbmCloudIamDetector", "JwtTokenDetector", "MailchimpDetector", "NpmDetector",
    "OpenAIDetector", "PrivateKeyDetector", "PypiTokenDetector", "SendGridDetector",
    "SlackDetector", "SoftlayerDetector", "SquareOAuthDetector", "StripeDetector",
    "TelegramBotTokenDetector", "TwilioKeyDetector",
]

AWS_KEY_ID = re.compile(r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b")
AWS_SECRET = re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*[\"']?([A-Za-z0-9/+=]{40})\b")
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
SECRET_NAME = r"[A-Za-z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY)"  # noqa: S105
UNQUOTED_ASSIGNMENT = re.compile(
    rf"^\s*(?:export\s+|ENV\s+|ARG\s+)?(?P<name>{SECRET_NAME})\s*=\s*"
    rf"(?P<value>[^\s'\"#$][^\s'\"#]{{7,}})\s*$",
    re.IGNORECASE)
HISTORY_ARGS = re.compile(r"^\|\d+ (?P<args>(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+)")


@dataclass(frozen=True)
class SecretFinding:
    rule: str
    location: str  # file, env, label, history
    path: str  # file path, or the env/label key, or "history[N]"
    line: int
    redacted: str
    fingerprint: str  # sha256 prefix of the secret: stable, reveals nothing
    layer_index: int | None = None
    layer_digest: str = ""
    instruction: str = ""  # the history step that created the layer
    deleted: bool = False  # the file was removed by a later layer but still ships

    @property
    def key(self) -> tuple[str, str, str, int, int | None]:
        return self.rule, self.location, self.path, self.line, self.layer_index


def redact(secret: str) -> tuple[str, str]:
    """(`AKIA…`, hash prefix): never the secret itself."""
    digest = hashlib.sha256(secret.encode()).hexdigest()[:12]
    keep = 4 if len(secret) >= 12 else 1
    return f"{secret[:keep]}…[{len(secret)} chars]", f"sha256:{digest}"


def _detect_secrets_hits(line: str) -> Iterator[tuple[str, str]]:
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import transient_settings

    config = {"plugins_used": [{"name": name} for name in DETECT_SECRETS_PLUGINS]}
    with transient_settings(config):
        for secret in scan_line(line):
            if secret.secret_value:
                yield f"detect-secrets:{secret.type}", str(secret.secret_value)


def scan_text(text: str, use_detect_secrets: bool = True) -> list[tuple[str, int, str]]:
    """(rule, line number, secret) for every secret in `text`; our rules win on a line."""
    hits: list[tuple[str, int, str]] = []
    # BEGIN SOLUTION: AWS pair (id + secret in one text), private keys, unquoted *_TOKEN=
    lines = text.splitlines()
    key_ids = [(n, m.group(1)) for n, line in enumerate(lines, 1) for m in
               AWS_KEY_ID.finditer(line)]
    secrets = [(n, m.group(1)) for n, line in enumerate(lines, 1) for m in
               AWS_SECRET.finditer(line)]
    if key_ids and secrets:
        hits.append(("aws-access-key-pair", key_ids[0][0], key_ids[0][1] + ":" + secrets[0][1]))
    else:
        hits += [("aws-access-key-id", n, value) for n, value in key_ids]
        hits += [("aws-secret-access-key", n, value) for n, value in secrets]
    for n, line in enumerate(lines, 1):
        if PRIVATE_KEY.search(line):
            hits.append(("private-key", n, "\n".join(lines[n - 1:n + 2])))
        match = UNQUOTED_ASSIGNMENT.match(line)
        if match and not AWS_SECRET.search(line) and not AWS_KEY_ID.search(line):
            hits.append(("unquoted-token", n, match["value"]))
    # END SOLUTION
    if use_detect_secrets:
        ours = {n for _, n, _ in hits}
        for n, line in enumerate(lines, 1):
            if n in ours or len(line) > 4096:
                continue
            seen: set[str] = set()
            for rule, value in _detect_secrets_hits(line):
                if value not in seen:
                    seen.add(value)
                    hits.append((rule, n, value))
    return hits


def _history_text(created_by: str) -> str:
    """Build ARGs of a RUN (`|2 A=1 B=2 /bin/sh -c ...`) as one assignment per line."""
    match = HISTORY_ARGS.match(created_by)
    args = match["args"].split() if match else []
    rest = created_by[match.end():] if match else created_by
    # `ENV API_TOKEN=...` and `export X_TOKEN=...` inside the command: one assignment a line.
    inline = [word for word in rest.split() if "=" in word and not word.startswith("=")]
    return "\n".join([*args, rest, *inline])


def scan_image(image: Image, view: FlatView, use_detect_secrets: bool = True) -> list[
        SecretFinding]:
    deleted = {(d.path, d.added_in) for d in view.deleted}
    findings: dict[tuple[str, str, str, int, int | None], SecretFinding] = {}
    raw: set[str] = set()

    def add(rule: str, location: str, path: str, line: int, secret: str, layer: int | None = None,
            digest: str = "", instruction: str = "", gone: bool = False) -> None:
        redacted, fingerprint = redact(secret)
        raw.update(part for part in secret.split(":") if len(part) >= 4)
        finding = SecretFinding(rule, location, path, line, redacted, fingerprint, layer, digest,
                                instruction, gone)
        findings.setdefault(finding.key, finding)

    for layer in image.layers:
        for path, data in sorted(layer.contents.items()):
            overwritten = view.layer_of(path) not in (layer.index, None)
            gone = (path, layer.index) in deleted or overwritten
            for rule, line, secret in scan_text(data.decode("utf-8", "replace"),
                                                use_detect_secrets):
                add(rule, "file", path, line, secret, layer.index, layer.digest,
                    layer.created_by, gone)
    for key, value in image.env.items():
        for rule, _, secret in scan_text(f"{key}={value}", use_detect_secrets):
            add(rule, "env", key, 0, secret)
    for key, value in image.labels.items():
        for rule, _, secret in scan_text(f"{key}={value}", use_detect_secrets):
            add(rule, "label", key, 0, secret)
    for position, step in enumerate(image.history):
        for rule, line, secret in scan_text(_history_text(step.created_by), use_detect_secrets):
            add(rule, "history", f"history[{position}]", line, secret,
                instruction=step.created_by[:120])
    # Instructions quote build commands, which may hold any secret found anywhere: scrub them.
    scrubbed = [replace(f, instruction=scrub(f.instruction, raw)) for f in findings.values()]
    return sorted(scrubbed, key=lambda f: (f.location, f.path, f.line, f.rule))


def scrub(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
