"""Which stacks a change touches: the PR preview runs only those (the benchmark's ratio).

A stack file change touches the layers whose spec sections changed (all four without a
base revision to compare with) and everything downstream of them; a component change
touches that cloud's stacks; shared code or policy changes touch every stack they feed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from pulumiml.errors import SpecError
from pulumiml.orchestrate import dependents
from pulumiml.project import Project
from pulumiml.spec import LAYER_SECTIONS, Cloud, StackName, parse_stack_file

#: Code shared by every stack's program (a change there previews everything).
_SHARED_CODE = ("components/base.py", "components/__init__.py", "program.py", "spec.py",
                "mockrun.py")

BaseReader = Callable[[str], dict[str, Any] | None]


@dataclass
class Affected:
    stacks: list[StackName] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"stacks": [str(s) for s in self.stacks],
                "reasons": {str(s): self.reasons[str(s)] for s in self.stacks}}


def git_base_reader(repo_dir: Path, ref: str) -> BaseReader:
    """Read a file of `ref` (relative to the exercise dir) with `git show`."""

    def read(relative: str) -> dict[str, Any] | None:
        prefix = subprocess.run(["git", "rev-parse", "--show-prefix"], cwd=repo_dir,
                                capture_output=True, text=True, check=False).stdout.strip()
        shown = subprocess.run(["git", "show", f"{ref}:{prefix}{relative}"], cwd=repo_dir,
                               capture_output=True, text=True, check=False)
        if shown.returncode != 0:
            return None
        data = yaml.safe_load(shown.stdout)
        return data if isinstance(data, dict) else None

    return read


def _relative(path: str) -> str:
    """`mod-109.../exercise-02.../infra/x` or `./infra/x` -> `infra/x`."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    for anchor in ("infra", "src"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor):])
    return "/".join(parts)


def changed_layers(project: Project, cloud_env: str, base: dict[str, Any] | None) -> list[str]:
    """Layers of `cloud_env` whose spec sections differ from the base revision."""
    # BEGIN SOLUTION
    head = project.stack_file(cloud_env).spec
    if base is None:
        return list(LAYER_SECTIONS)
    try:
        old = parse_stack_file(project.stack_file_path(cloud_env), data=base).spec
    except SpecError:
        return list(LAYER_SECTIONS)
    changed = {name for name in type(head).model_fields if head.section(name) != old.section(name)}
    old_policy = (base.get("config") or {}).get("pulumiml:policy", {})
    if old_policy != project.stack_file(cloud_env).policy:
        return list(LAYER_SECTIONS)
    return [layer.value for layer, sections in LAYER_SECTIONS.items()
            if changed & set(sections)]
    # END SOLUTION


def affected_stacks(project: Project, changed_files: Iterable[str],
                    base: BaseReader | None = None) -> Affected:
    """The stacks to preview for `changed_files` (paths relative to the exercise or repo)."""
    # BEGIN SOLUTION
    every = project.stacks()
    direct: dict[StackName, str] = {}

    def mark(stacks: Iterable[StackName], reason: str) -> None:
        for stack in stacks:
            direct.setdefault(stack, reason)

    for raw in changed_files:
        path = _relative(raw)
        name = PurePosixPath(path).name
        if path.startswith("infra/policy/") and name.endswith(".json"):
            env = name[:-len(".json")]
            mark([s for s in every if s.env.value == env], f"policy config {path} changed")
        elif path.startswith("infra/") and name.startswith("Pulumi.") and name.endswith(".yaml"):
            cloud_env = name[len("Pulumi."):-len(".yaml")]
            if cloud_env not in project.cloud_envs():
                continue  # a deleted stack file: nothing left to preview
            layers = changed_layers(project, cloud_env, base(path) if base else None)
            mark([s for s in every if s.spec_stack == cloud_env and s.layer.value in layers],
                 f"{path} changed")
        elif path.startswith("src/pulumiml/components/"):
            cloud = name.removesuffix(".py")
            if cloud in {c.value for c in Cloud}:
                mark([s for s in every if s.cloud.value == cloud], f"{path} changed")
            else:
                mark(every, f"{path} changed")
        elif path.startswith("src/pulumiml/policy/") or any(
                path == f"src/pulumiml/{shared}" for shared in _SHARED_CODE):
            mark(every, f"{path} changed")
    references = project.reference_graph(every)
    result = Affected()
    for stack in dependents(references, direct) + list(direct):
        if stack not in direct:
            upstream = next(u for u in project.references(stack)
                            if u in direct or u in result.stacks)
            result.reasons[str(stack)] = f"references {upstream}"
        else:
            result.reasons[str(stack)] = direct[stack]
        if stack not in result.stacks:
            result.stacks.append(stack)
    result.stacks.sort(key=lambda s: (s.cloud.value, s.env.value,
                                      list(LAYER_SECTIONS).index(s.layer)))
    return result
    # END SOLUTION
