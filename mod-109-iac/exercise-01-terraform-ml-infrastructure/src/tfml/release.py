"""`tfml release MODULE`: semver gate, CHANGELOG, tag `MODULE/vX.Y.Z`, archive for the registry.

Order matters so that a refusal leaves nothing behind: the tree must be clean, the interface
of the last release (read from its tag with `git show`) is diffed against the working tree,
the bump is checked, and only then the CHANGELOG is written and committed, the tag made and
the archive built (`git archive` of the tagged subtree, written to a temp file and renamed).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aiinfra_shared.io import atomic_write_bytes, atomic_write_text
from packaging.version import Version

from tfml.errors import ConfigurationError, ConflictError, NotFoundError, UnavailableError
from tfml.hcl import ModuleInterface, load_module
from tfml.layout import Module
from tfml.registry import archive_path
from tfml.semver import (
    Bump,
    Change,
    bump_version,
    diff,
    parse_version,
    required_bump,
)

FIRST_VERSION = Version("1.0.0")


@dataclass
class ReleasePlan:
    module: Module
    previous: Version | None
    version: Version
    bump: Bump | None
    required: Bump
    changes: list[Change] = field(default_factory=list)
    tag: str = ""
    archive: Path | None = None
    commits: list[str] = field(default_factory=list)


def git(repo: Path, *args: str, check: bool = True) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                                check=False, timeout=60)
    except FileNotFoundError:
        raise UnavailableError("git is not installed") from None
    if check and result.returncode != 0:
        message = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise UnavailableError(f"git {' '.join(args)} failed: {message[-1] if message else '?'}")
    return result.stdout


def repo_root(path: Path) -> Path:
    out = git(path, "rev-parse", "--show-toplevel", check=False).strip()
    if not out:
        raise ConfigurationError(f"{path} is not inside a git repository")
    return Path(out)


def released_versions(repo: Path, module: Module) -> list[Version]:
    tags = git(repo, "tag", "--list", f"{module.key}/v*").split()
    versions = []
    for tag in tags:
        try:
            versions.append(parse_version(tag.rsplit("/v", 1)[1]))
        except ConfigurationError:
            continue
    return sorted(versions)


def interface_at(repo: Path, ref: str, module_rel: str) -> ModuleInterface:
    """The module's interface as of `ref`, read with `git show` into a scratch directory."""
    names = git(repo, "ls-tree", "--name-only", f"{ref}:{module_rel}").split()
    with tempfile.TemporaryDirectory(prefix="tfml-release-") as scratch:
        for name in names:
            if name.endswith(".tf"):
                text = git(repo, "show", f"{ref}:{module_rel}/{name}")
                (Path(scratch) / name).write_text(text)
        return load_module(Path(scratch), require_versions=False)


def plan_release(module: Module, *, bump: Bump | None = None,
                 version: str | None = None) -> ReleasePlan:
    """What `release` would do, or ConflictError with the reasons when the bump is too small."""
    repo = repo_root(module.path)
    rel = module.path.resolve().relative_to(repo.resolve()).as_posix()
    current = load_module(module.path)  # ConfigurationError without versions.tf
    # BEGIN SOLUTION
    dirty = git(repo, "status", "--porcelain", "--", rel).strip()
    if dirty:
        first = dirty.splitlines()[0].strip()
        raise ConflictError(f"{module.key}: uncommitted changes ({first}); commit or stash them "
                       "before a release")
    versions = released_versions(repo, module)
    previous = versions[-1] if versions else None
    if previous is None:
        changes: list[Change] = []
        required = Bump.PATCH
        target = parse_version(version) if version else FIRST_VERSION
    else:
        tag = f"{module.key}/v{previous}"
        changes = diff(interface_at(repo, tag, rel), current)
        required = required_bump(changes)
        if version:
            target = parse_version(version)
            if target <= previous:
                raise ConflictError(f"{module.key}: {target} is not above the last release "
                               f"{previous}")
        else:
            target = bump_version(previous, bump or required)
        chosen = _bump_of(previous, target)
        if chosen < required:
            reasons = "; ".join(c.message for c in changes if c.bump > chosen)
            raise ConflictError(f"{module.key}: {target} is a {chosen.name.lower()} bump but the "
                           f"interface changes need a {required.name.lower()}: {reasons}")
        commits = git(repo, "log", "--format=%s", f"{tag}..HEAD", "--", rel).splitlines()
    tag_name = f"{module.key}/v{target}"
    if git(repo, "tag", "--list", tag_name).strip():
        raise ConflictError(f"tag {tag_name} exists already")
    plan = ReleasePlan(module=module, previous=previous, version=target, bump=bump,
                       required=required, changes=changes, tag=tag_name)
    plan.commits = commits if previous is not None else []
    return plan
    # END SOLUTION


def _bump_of(previous: Version, target: Version) -> Bump:
    """The size of the step from `previous` to `target` (a skipped version counts as its kind)."""
    if target.release[0] > previous.release[0]:
        return Bump.MAJOR
    if target.release[1] > previous.release[1]:
        return Bump.MINOR
    return Bump.PATCH


def changelog_entry(plan: ReleasePlan, date: dt.date) -> str:
    lines = [f"## [{plan.version}] - {date.isoformat()}", ""]
    sections = (("Breaking", Bump.MAJOR), ("Added", Bump.MINOR), ("Changed", Bump.PATCH))
    for title, level in sections:
        items = [c.message for c in plan.changes if c.bump is level]
        if title == "Changed":
            items += [c for c in plan.commits if not c.startswith("release(")]
        if items:
            lines += [f"### {title}", *[f"- {item}" for item in items], ""]
    if plan.previous is None:
        lines += ["### Added", "- first release", ""]
    return "\n".join(lines)


def write_changelog(path: Path, entry: str) -> None:
    header = "# Changelog\n\nAll notable changes; versions follow semver (tfml release).\n\n"
    text = path.read_text() if path.is_file() else header
    if "\n## [" in text:
        head, rest = text.split("\n## [", 1)
        text = head.rstrip("\n") + "\n\n" + entry + "\n## [" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + entry
    atomic_write_text(path, text)


def execute(plan: ReleasePlan, *, dist: Path, namespace: str,
            date: dt.date | None = None) -> ReleasePlan:
    """Write the CHANGELOG, commit it, tag, and build the archive."""
    module = plan.module
    repo = repo_root(module.path)
    rel = module.path.resolve().relative_to(repo.resolve()).as_posix()
    target = archive_path(dist, namespace, module.name, module.cloud, str(plan.version))
    if target.exists():
        raise ConflictError(f"{target} exists already")
    write_changelog(module.path / "CHANGELOG.md",
                    changelog_entry(plan, date or dt.date.today()))
    git(repo, "add", "--", f"{rel}/CHANGELOG.md")
    git(repo, "commit", "-q", "-m", f"release({module.key}): v{plan.version}", "--",
        f"{rel}/CHANGELOG.md")
    git(repo, "tag", "-a", plan.tag, "-m", f"{module.key} v{plan.version}")
    data = subprocess.run(["git", "archive", "--format=tar.gz", f"{plan.tag}:{rel}"], cwd=repo,
                          capture_output=True, check=False, timeout=120)
    if data.returncode != 0:
        git(repo, "tag", "-d", plan.tag, check=False)
        raise UnavailableError(f"git archive failed: {data.stderr.decode().strip()}")
    atomic_write_bytes(target, data.stdout)
    plan.archive = target
    return plan


def module_of_tag(repo: Path, tag: str) -> str:
    if "/v" not in tag:
        raise NotFoundError(f"{tag} is not a MODULE/vX.Y.Z tag")
    return tag.rsplit("/v", 1)[0]
