"""Our own catalogers: parse package databases from file bytes (no I/O, no image access).

Each takes {path: bytes} of the files its `wanted()` accepts and returns packages. They
parse what syft parses: dpkg `status` stanzas (with `Source: name (version)`), the apk
`installed` database (`P:`/`V:`/`o:` lines), Python `*.dist-info/METADATA` and
`*.egg-info/PKG-INFO`, and `node_modules/**/package.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from email.parser import HeaderParser

from imgsec.catalog.package import Distro, Package

DPKG_STATUS = "var/lib/dpkg/status"
APK_INSTALLED = "lib/apk/db/installed"


def _stanzas(text: str) -> list[dict[str, str]]:
    """RFC 822-style paragraphs separated by blank lines; continuation lines folded."""
    result: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                result.append(current)
            current, last = {}, ""
        elif line[0] in " \t" and last:
            current[last] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip()
            current[last] = value.strip()
    if current:
        result.append(current)
    return result


def parse_dpkg_status(text: str, distro: Distro, path: str = DPKG_STATUS) -> list[Package]:
    """Installed packages of a dpkg status file; `Source: openssl (3.0.11-1)` gives the source
    name and version (the version defaults to the binary's)."""
    packages = []
    # BEGIN SOLUTION: stanzas with "install ok installed"; split Source into name and version
    for stanza in _stanzas(text):
        if "Package" not in stanza or "Version" not in stanza:
            continue
        if "installed" not in stanza.get("Status", "install ok installed").split():
            continue
        source = stanza.get("Source", "")
        match = re.match(r"^(\S+)(?:\s+\((\S+)\))?$", source) if source else None
        source_name = match.group(1) if match else ""
        source_version = (match.group(2) or "") if match else ""
        packages.append(Package(
            name=stanza["Package"], version=stanza["Version"], type="deb",
            ecosystem=distro.debian_ecosystem, path=path,
            source_name=source_name or stanza["Package"],
            source_version=source_version or stanza["Version"],
            arch=stanza.get("Architecture", ""), namespace="debian",
            distro=f"debian-{distro.version_id}" if distro.version_id else ""))
    # END SOLUTION
    return packages


def parse_apk_installed(text: str, distro: Distro, path: str = APK_INSTALLED) -> list[Package]:
    """apk's database: one blank-line-separated record per package, one-letter keys."""
    packages = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if len(line) > 2 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if "P" in fields and "V" in fields:
            packages.append(Package(
                name=fields["P"], version=fields["V"], type="apk",
                ecosystem=distro.alpine_ecosystem, path=path, source_name=fields.get("o", ""),
                arch=fields.get("A", ""), licenses=tuple(fields.get("L", "").split()) if
                fields.get("L") else (), namespace="alpine",
                distro=f"alpine-{distro.alpine_release}" if distro.alpine_release else ""))
    return packages


def normalize_pypi(name: str) -> str:
    """PEP 503: `PyYAML`, `pyyaml` and `py_yaml` are one project... as `pyyaml`/`py-yaml`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_python_metadata(text: str, path: str) -> list[Package]:
    headers = HeaderParser().parsestr(text)
    name, version = headers.get("Name"), headers.get("Version")
    if not name or not version:
        return []
    license_ = headers.get("License-Expression") or headers.get("License") or ""
    return [Package(name=normalize_pypi(name), version=version.strip(), type="pypi",
                    ecosystem="PyPI", path=path,
                    licenses=(license_.strip(),) if license_.strip() else ())]


def parse_npm_package_json(text: str, path: str) -> list[Package]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    if not isinstance(data, dict) or not data.get("name") or not data.get("version"):
        return []
    full = str(data["name"])
    scope, _, name = full.rpartition("/")
    license_ = data.get("license")
    return [Package(name=name, version=str(data["version"]), type="npm", ecosystem="npm",
                    path=path, namespace=scope,
                    licenses=(license_,) if isinstance(license_, str) else ())]


_PY_META = re.compile(r"(?:^|/)[^/]+\.dist-info/METADATA$|(?:^|/)[^/]+\.egg-info(?:/PKG-INFO)?$")
_NPM_PKG = re.compile(r"(?:^|/)node_modules/(?:@[^/]+/)?[^/@][^/]*/package\.json$")


def wanted(path: str) -> bool:
    """Is this path a package database any cataloger reads?"""
    return (path in (DPKG_STATUS, APK_INSTALLED) or path.startswith("var/lib/dpkg/status.d/")
            or bool(_PY_META.search(path)) or bool(_NPM_PKG.search(path)))


def catalog_files(files: Mapping[str, bytes], distro: Distro) -> list[Package]:
    """Run every cataloger over `files` ({path: bytes}, only wanted paths matter)."""
    parsers: list[tuple[Callable[[str], bool], Callable[[str, str], list[Package]]]] = [
        (lambda p: p == DPKG_STATUS or p.startswith("var/lib/dpkg/status.d/"),
         lambda text, p: parse_dpkg_status(text, distro, p)),
        (lambda p: p == APK_INSTALLED, lambda text, p: parse_apk_installed(text, distro, p)),
        (lambda p: bool(_PY_META.search(p)), lambda text, p: parse_python_metadata(text, p)),
        (lambda p: bool(_NPM_PKG.search(p)), lambda text, p: parse_npm_package_json(text, p)),
    ]
    found: list[Package] = []
    for path in sorted(files):
        for accepts, parse in parsers:
            if accepts(path):
                found += parse(files[path].decode("utf-8", "replace"), path)
    return found


def parse_os_release(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values
