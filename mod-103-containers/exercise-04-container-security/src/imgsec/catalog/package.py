"""A package found in an image, with its purl and the layer that added it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from packageurl import PackageURL


@dataclass(frozen=True)
class Distro:
    """From /etc/os-release and /etc/alpine-release: picks the OSV ecosystem of OS packages."""

    id: str = ""
    version_id: str = ""
    alpine_release: str = ""

    @property
    def debian_ecosystem(self) -> str:
        major = self.version_id.split(".")[0] if self.id in ("debian", "") else ""
        return f"Debian:{major}" if major else "Debian"

    @property
    def alpine_ecosystem(self) -> str:
        release = self.alpine_release or (self.version_id if self.id == "alpine" else "")
        parts = release.split(".")
        return f"Alpine:v{parts[0]}.{parts[1]}" if len(parts) >= 2 else "Alpine"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    type: str  # deb, apk, pypi, npm (the purl type)
    ecosystem: str  # OSV ecosystem: Debian:12, Alpine:v3.18, PyPI, npm
    path: str  # the metadata file it was read from
    source_name: str = ""  # dpkg `Source:` (Debian advisories name source packages)
    source_version: str = ""
    arch: str = ""
    licenses: tuple[str, ...] = ()
    namespace: str = ""  # debian / alpine; npm scope
    distro: str = ""  # purl qualifier, e.g. debian-12
    layer_index: int = -1
    layer_digest: str = ""
    shadowed: bool = False  # removed by a later layer but still shipped in a lower one
    removed_in: int | None = field(default=None)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.type, self.name, self.version

    @property
    def purl(self) -> str:
        qualifiers: dict[str, str] = {}
        if self.arch:
            qualifiers["arch"] = self.arch
        if self.distro:
            qualifiers["distro"] = self.distro
        if self.type in ("deb", "apk") and self.source_name and self.source_name != self.name:
            qualifiers["upstream"] = self.source_name
        return PackageURL(type=self.type, namespace=self.namespace or None, name=self.name,
                          version=self.version, qualifiers=qualifiers or None).to_string()

    @property
    def match_name(self) -> str:
        """The name advisories use: Debian's are per source package."""
        return self.source_name or self.name if self.type == "deb" else self.name

    @property
    def match_version(self) -> str:
        return self.source_version or self.version if self.type == "deb" else self.version

    def located(self, layer_index: int, layer_digest: str) -> Package:
        return replace(self, layer_index=layer_index, layer_digest=layer_digest)
