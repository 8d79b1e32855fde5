"""The project spec, `envman.toml`: what the environment should contain.

Example:

    [project]
    name = "demo"
    python = "3.11"
    backend = "uv"                 # venv | uv | poetry | conda
    dependencies = ["numpy>=2"]
    dev-dependencies = ["pytest"]

    [groups]                       # optional groups, installed with --group NAME
    plot = ["matplotlib"]

    [env]                          # exported by `envman run` and the Docker files
    HF_HOME = "/cache/hf"

    [docker]
    base-image = "python:3.11-slim-bookworm"

    [settings]                     # per-project overrides of the user config
    index-url = "https://pypi.org/simple"

Errors name the file, the line and the key, because that is what a person fixes.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from aiinfra_shared.io import atomic_write_text
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from envman.errors import NoProjectError, SpecError

SPEC_FILE = "envman.toml"
BACKENDS = ("venv", "uv", "poetry", "conda")
Backend = Literal["venv", "uv", "poetry", "conda"]
_PY_RE = re.compile(r"^3\.\d+(\.\d+)?$")


def _check_requirements(values: list[str]) -> list[str]:
    for index, value in enumerate(values):
        try:
            Requirement(value)
        except InvalidRequirement as exc:
            raise ValueError(f"item {index}: invalid requirement {value!r}: {exc}") from exc
    return values


class ProjectTable(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1)
    python: str
    backend: Backend = "uv"
    dependencies: list[str] = Field(default_factory=list)
    dev_dependencies: list[str] = Field(default_factory=list, alias="dev-dependencies")

    @field_validator("python")
    @classmethod
    def _python(cls, value: str) -> str:
        if not _PY_RE.match(value):
            raise ValueError("must look like 3.11 or 3.11.7")
        return value

    @field_validator("dependencies", "dev_dependencies")
    @classmethod
    def _reqs(cls, value: list[str]) -> list[str]:
        return _check_requirements(value)


class DockerTable(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    base_image: str | None = Field(default=None, alias="base-image")
    # The image's platform: exports resolve the lock for it (see target.py).
    platform: Literal["linux/amd64", "linux/arm64"] | None = None


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    project: ProjectTable
    groups: dict[str, list[str]] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    docker: DockerTable = Field(default_factory=DockerTable)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, reqs in value.items():
            if not re.match(r"^[a-z0-9][a-z0-9_-]*$", name) or name in {"main", "dev"}:
                raise ValueError(f"invalid group name {name!r} (lowercase, not main/dev)")
            _check_requirements(reqs)
        return value

    @property
    def base_image(self) -> str:
        return self.docker.base_image or f"python:{self.python_minor}-slim-bookworm"

    @property
    def python_minor(self) -> str:
        return ".".join(self.project.python.split(".")[:2])

    def to_toml(self) -> str:
        data = self.model_dump(by_alias=True, exclude_none=True)
        for table in ("groups", "env", "settings"):
            if not data[table]:
                del data[table]
        if not data["docker"]:
            del data["docker"]
        return tomli_w.dumps(data)

    def content_hash(self) -> str:
        """Hash of what a lock depends on, so `doctor` can tell the lock is stale."""
        # BEGIN SOLUTION: hash python minor, backend and the sorted requirement lists
        payload = {
            "python": self.python_minor,
            "backend": self.project.backend,
            "dependencies": sorted(self.project.dependencies),
            "dev": sorted(self.project.dev_dependencies),
            "groups": {k: sorted(v) for k, v in sorted(self.groups.items())},
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
        # END SOLUTION

    def declared_names(self, dev: bool = True, groups: tuple[str, ...] = ()) -> set[str]:
        """Canonical names of the direct requirements selected by `dev` and `groups`."""
        # BEGIN SOLUTION: canonical names of main, dev if asked, selected groups
        reqs = list(self.project.dependencies)
        if dev:
            reqs += self.project.dev_dependencies
        for group in groups:
            reqs += self.groups.get(group, [])
        return {canonicalize_name(Requirement(r).name) for r in reqs}
        # END SOLUTION


def _line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best-effort line number of the key at `loc` in TOML `text` (1-based)."""
    # BEGIN SOLUTION: track table headers; first line whose key path matches loc
    keys = [str(part) for part in loc if not isinstance(part, int)]
    if not keys:
        return None
    lines = text.splitlines()
    table: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        header = re.match(r"^\[+\s*([^\]]+?)\s*\]+$", line)
        if header:
            table = [part.strip().strip('"') for part in header.group(1).split(".")]
            if table == keys:
                return number
            continue
        match = re.match(r'^"?([A-Za-z0-9_.-]+)"?\s*=', line)
        if not match:
            continue
        full = table + [part.strip('"') for part in match.group(1).split(".")]
        if full == keys[: len(full)] and len(full) >= min(len(keys), len(table) + 1):
            return number
    return None
    # END SOLUTION


def _toml_error(exc: tomllib.TOMLDecodeError, text: str, source: str) -> SpecError:
    """`file:line: key K: invalid TOML: ...` for a file that is not valid TOML."""
    # BEGIN SOLUTION: take the line from the decoder message and name the key on it
    found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    line = int(found.group(1)) if found else getattr(exc, "lineno", None)
    where = f"{source}:{line}" if line else source
    key = ""
    if line and line <= len(text.splitlines()):
        match = re.match(r'^\s*"?([A-Za-z0-9_.-]+)"?\s*=', text.splitlines()[line - 1])
        key = f" key {match.group(1)}:" if match else ""
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    return SpecError(f"{where}:{key} invalid TOML: {message}")
    # END SOLUTION


def _validation_error(exc: ValidationError, text: str, source: str) -> SpecError:
    """`file:line: key a.b: problem (got value)` for the first validation error."""
    # BEGIN SOLUTION: first error: dotted key, its line via _line_of, the bad value
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "<root>"
    line = _line_of(text, loc)
    where = f"{source}:{line}" if line else source
    got = f" (got {err['input']!r})" if err["type"] not in {"missing"} and "input" in err \
        and not isinstance(err["input"], dict) else ""
    message = err["msg"].removeprefix("Value error, ")
    more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return SpecError(f"{where}: key {key}: {message}{got}{more}")
    # END SOLUTION


def parse_spec(text: str, source: str) -> Spec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, text, source) from exc
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, text, source) from exc


def load_spec(path: Path) -> Spec:
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise NoProjectError(f"{path}: no such file; run `envman init` first") from exc
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_spec(text, path.name if path.parent == Path.cwd() else str(path))


def save_spec(path: Path, spec: Spec) -> None:
    atomic_write_text(path, spec.to_toml())


def find_project(start: Path) -> Path:
    """The directory holding envman.toml: `start` or its nearest parent."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / SPEC_FILE).is_file():
            return candidate
    raise NoProjectError(f"no {SPEC_FILE} in {start} or any parent directory; "
                    "run `envman init` to create one")
