"""OpenVEX 0.2: statements that suppress findings they name, and only those.

A statement applies to a finding when (1) its vulnerability `name` or one of its `aliases`
equals the finding's id or one of the finding's aliases, (2) one of its products names the
image (by digest: `sha256:...` or `pkg:oci/...@sha256:...`) or the package purl, and (3) if
the product lists subcomponents, one of them names the package. A purl without a version
matches every version, and qualifiers are compared only when the statement gives them: the
mismatch behind grype#1836. `not_affected` and `fixed` suppress; `affected` and
`under_investigation` keep the finding. The last applicable statement wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from packageurl import PackageURL

from imgsec.errors import InvalidInputError, NotFoundError

STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
JUSTIFICATIONS = ("component_not_present", "vulnerable_code_not_present",
                  "vulnerable_code_not_in_execute_path",
                  "vulnerable_code_cannot_be_controlled_by_adversary",
                  "inline_mitigations_already_exist")
SUPPRESSING = ("not_affected", "fixed")


@dataclass(frozen=True)
class Statement:
    vulnerability: str
    aliases: tuple[str, ...]
    products: tuple[tuple[str, tuple[str, ...]], ...]  # (product @id, subcomponent @ids)
    status: str
    justification: str = ""
    impact_statement: str = ""
    document: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"vulnerability": self.vulnerability, "status": self.status,
                "justification": self.justification, "impact_statement": self.impact_statement,
                "products": [p for p, _ in self.products], "document": self.document}


def _ids(items: Any) -> tuple[str, ...]:
    result = []
    for item in items or []:
        value = item.get("@id") if isinstance(item, dict) else item
        if isinstance(value, str) and value:
            result.append(value)
    return tuple(result)


def parse_document(payload: Any, where: str) -> list[Statement]:
    """Validate an OpenVEX document; every error names the file and the statement."""
    if not isinstance(payload, dict) or not str(payload.get("@context", "")).startswith(
            "https://openvex.dev/ns"):
        raise InvalidInputError(f"{where}: not an OpenVEX document (no openvex @context)")
    statements = []
    for n, raw in enumerate(payload.get("statements") or []):
        label = f"{where}: statement {n}"
        vuln = raw.get("vulnerability") if isinstance(raw, dict) else None
        if isinstance(vuln, str):
            vuln = {"name": vuln}
        if not isinstance(vuln, dict) or not vuln.get("name"):
            raise InvalidInputError(f"{label}: needs vulnerability.name")
        status = raw.get("status")
        if status not in STATUSES:
            raise InvalidInputError(f"{label}: unknown status {status!r} "
                                    f"(one of {', '.join(STATUSES)})")
        justification = str(raw.get("justification") or "")
        if status == "not_affected" and not justification:
            raise InvalidInputError(f"{label}: not_affected needs a justification")
        if justification and justification not in JUSTIFICATIONS:
            raise InvalidInputError(f"{label}: unknown justification {justification!r}")
        products = tuple((pid, _ids(p.get("subcomponents")) if isinstance(p, dict) else ())
                         for p in raw.get("products") or []
                         for pid in _ids([p]))
        if not products:
            raise InvalidInputError(f"{label}: needs at least one product")
        statements.append(Statement(
            vulnerability=str(vuln["name"]), aliases=tuple(vuln.get("aliases") or []),
            products=products, status=status, justification=justification,
            impact_statement=str(raw.get("impact_statement") or ""), document=where))
    return statements


def load_vex(path: Path) -> list[Statement]:
    if not path.is_file():
        raise NotFoundError(f"{path}: no such VEX file")
    try:
        payload = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: not valid JSON ({exc})") from exc
    return parse_document(payload, str(path))


def purl_matches(pattern: str, purl: str) -> bool:
    """Does the statement's purl `pattern` name package `purl`? Type, namespace and name
    must agree; version and each qualifier only when the pattern gives them."""
    # BEGIN SOLUTION: parse both; compare type/namespace/name; optional version & qualifiers
    try:
        want, have = PackageURL.from_string(pattern), PackageURL.from_string(purl)
    except ValueError:
        return False
    if (want.type, want.namespace or "", want.name) != (have.type, have.namespace or "",
                                                        have.name):
        return False
    if want.version and unquote(want.version) != unquote(have.version or ""):
        return False
    wanted = want.qualifiers if isinstance(want.qualifiers, dict) else {}
    present = have.qualifiers if isinstance(have.qualifiers, dict) else {}
    return all(present.get(key) == value for key, value in wanted.items())
    # END SOLUTION


def _names_image(product: str, digests: set[str]) -> bool:
    if product in digests:
        return True
    if product.startswith("pkg:oci/"):
        try:
            version = unquote(PackageURL.from_string(product).version or "")
        except ValueError:
            return False
        return version in digests
    return False


def statement_applies(statement: Statement, vuln_ids: set[str], purl: str,
                      image_digests: set[str]) -> bool:
    # BEGIN SOLUTION: vulnerability by id/alias; product = image digest or purl; subcomponents
    if not ({statement.vulnerability, *statement.aliases} & vuln_ids):
        return False
    for product, subcomponents in statement.products:
        names_image = _names_image(product, image_digests)
        names_package = product.startswith("pkg:") and not product.startswith(
            "pkg:oci/") and purl_matches(product, purl)
        if not (names_image or names_package):
            continue
        if not subcomponents or (names_package and not names_image):
            return True
        if any(purl_matches(sub, purl) for sub in subcomponents):
            return True
    return False
    # END SOLUTION


def decide(statements: list[Statement], vuln_ids: set[str], purl: str,
           image_digests: set[str]) -> Statement | None:
    """The statement that suppresses this finding, or None (last applicable one decides)."""
    applicable = [s for s in statements if statement_applies(s, vuln_ids, purl, image_digests)]
    if applicable and applicable[-1].status in SUPPRESSING:
        return applicable[-1]
    return None
