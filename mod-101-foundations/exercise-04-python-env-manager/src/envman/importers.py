"""Import dependencies from an existing `pyproject.toml` or `requirements*.txt` for `init`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from envman.errors import SpecError


@dataclass
class Imported:
    dependencies: list[str] = field(default_factory=list)
    dev: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    python: str | None = None
    name: str | None = None
    sources: list[str] = field(default_factory=list)


def _poetry_constraint(name: str, value: Any) -> str:
    """Poetry's `^1.2` / `~1.2` / `*` / `1.2` into a PEP 508 requirement."""
    # BEGIN SOLUTION: turn ^ ~ * and bare versions into PEP 508 ranges
    if isinstance(value, dict):
        extras = value.get("extras") or []
        if extras:  # the requirement's own extras: uvicorn = {extras = ["standard"]}
            name = f"{name}[{','.join(extras)}]"
        value = value.get("version", "*")
    text = str(value).strip()
    if text in {"*", ""}:
        return name
    if text[0] in "^~" and text[1:2] != "=":
        parts = [int(p) for p in re.findall(r"\d+", text[1:])] or [0]
        if text[0] == "^":
            idx = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        else:
            idx = 0 if len(parts) == 1 else 1
        upper = [*parts[:idx], parts[idx] + 1]
        return f"{name}>={text[1:]},<{'.'.join(map(str, upper))}"
    if re.match(r"^\d", text):
        return f"{name}=={text}"
    return f"{name}{text.replace('~=', '~=')}"
    # END SOLUTION


def _python_from(spec: str) -> str | None:
    match = re.search(r"(\d+\.\d+)", spec)
    return match.group(1) if match else None


def from_pyproject(path: Path) -> Imported:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}:{getattr(exc, 'lineno', '?')}: invalid TOML: "
                        f"{getattr(exc, 'msg', exc)}") from exc
    # BEGIN SOLUTION: read PEP 621, PEP 735 groups and tool.poetry into an Imported
    out = Imported(sources=[str(path.name)])
    project = data.get("project", {})
    out.name = project.get("name")
    out.dependencies += list(project.get("dependencies", []))
    for extra, reqs in project.get("optional-dependencies", {}).items():
        out.groups[extra.lower()] = list(reqs)
    for group, reqs in data.get("dependency-groups", {}).items():
        plain = [r for r in reqs if isinstance(r, str)]
        if group == "dev":
            out.dev += plain
        else:
            out.groups[group.lower()] = plain
    if project.get("requires-python"):
        out.python = _python_from(project["requires-python"])
    poetry = data.get("tool", {}).get("poetry", {})
    optional: dict[str, str] = {}
    for name, value in poetry.get("dependencies", {}).items():
        if name == "python":
            out.python = out.python or _python_from(str(value))
            continue
        if isinstance(value, dict) and value.get("optional"):
            optional[name.lower()] = _poetry_constraint(name, value)
            continue  # only installed through an extra: never a main dependency
        out.dependencies.append(_poetry_constraint(name, value))
    used: set[str] = set()
    for extra, names in poetry.get("extras", {}).items():
        picked = [optional[n.lower()] for n in names if n.lower() in optional]
        used.update(n.lower() for n in names)
        out.groups.setdefault(extra.lower(), []).extend(picked)
    leftover = [req for key, req in optional.items() if key not in used]
    if leftover:  # optional but named by no extra: kept aside, not silently dropped
        out.groups.setdefault("optional", []).extend(leftover)
    for name, value in poetry.get("dev-dependencies", {}).items():
        out.dev.append(_poetry_constraint(name, value))
    for group, table in poetry.get("group", {}).items():
        reqs = [_poetry_constraint(n, v) for n, v in table.get("dependencies", {}).items()]
        if group == "dev":
            out.dev += reqs
        else:
            out.groups.setdefault(group.lower(), []).extend(reqs)
    out.name = out.name or poetry.get("name")
    return out
    # END SOLUTION


def read_requirements(path: Path, seen: set[Path] | None = None) -> list[str]:
    """Requirement lines of a requirements file, following `-r other.txt`."""
    seen = seen if seen is not None else set()
    if path.resolve() in seen:
        return []
    seen.add(path.resolve())
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror})") from exc
    # BEGIN SOLUTION: skip comments/options, follow -r, bad line gives file:line
    reqs: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            reqs += read_requirements(path.parent / line.split(None, 1)[1], seen)
            continue
        if line.startswith("-"):
            continue  # index options and constraints are not dependencies
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise SpecError(f"{path}:{number}: invalid requirement {line!r}: {exc}") from exc
        reqs.append(line)
    return reqs
    # END SOLUTION


def from_requirements(paths: list[Path]) -> Imported:
    out = Imported()
    for path in paths:
        reqs = read_requirements(path)
        is_dev = re.search(r"(dev|test|lint)", path.stem) is not None
        target = out.dev if is_dev else out.dependencies
        target.extend(r for r in reqs if r not in out.dependencies)
        out.sources.append(path.name)
    return out


def discover(directory: Path) -> Imported | None:
    """Auto-import for `init`: pyproject.toml first, else requirements*.txt."""
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        return from_pyproject(pyproject)
    reqs = sorted(directory.glob("requirements*.txt"))
    return from_requirements(reqs) if reqs else None
