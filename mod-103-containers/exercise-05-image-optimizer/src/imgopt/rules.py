"""imgopt's own Dockerfile rules: each finding has an id, a line and a fix hint.

Pure over a parsed `Dockerfile` (and, for IMG001/IMG002, the measured build context). The
ids are stable: CI configs and `fix` refer to them.

| id     | what it catches                                                    |
|--------|--------------------------------------------------------------------|
| IMG001 | whole-context / directory COPY before the dependency install       |
| IMG002 | missing or weak .dockerignore (context size, top dirs)             |
| IMG003 | package caches not cleaned in the same RUN, or cleaned in a later one |
| IMG004 | chmod/chown in a RUN of its own instead of COPY --chmod/--chown    |
| IMG005 | build tools installed in the final stage                           |
| IMG006 | unpinned base image (no tag, `latest`, no digest)                  |
| IMG007 | consecutive RUNs that can be merged                                |
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imgopt.context import ContextStats
from imgopt.dockerfile_model import Dockerfile, Instruction
from imgopt.shell import commands, program

RULES = {
    "IMG001": "copy-before-deps",
    "IMG002": "dockerignore",
    "IMG003": "cache-not-cleaned",
    "IMG004": "separate-chmod-chown",
    "IMG005": "build-tools-in-final-stage",
    "IMG006": "unpinned-base",
    "IMG007": "mergeable-runs",
}
MANIFESTS = ("requirements.txt", "requirements-dev.txt", "package.json", "package-lock.json",
             "yarn.lock", "pyproject.toml", "poetry.lock", "Pipfile", "Pipfile.lock",
             "go.mod", "go.sum", "Gemfile", "Gemfile.lock", "Cargo.toml", "Cargo.lock",
             "composer.json", "composer.lock", "uv.lock")
INSTALL = re.compile(r"\b(pip3? install|npm (ci|install)|yarn install|poetry install|"
                     r"uv sync|bundle install|go mod download|composer install|cargo fetch)\b")
BUILD_TOOLS = {"gcc", "g++", "make", "cmake", "build-essential", "clang", "git", "rustc",
               "cargo", "golang", "autoconf", "automake", "libtool", "pkg-config"}
HEAVY_CONTEXT_DIRS = (".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
                      ".pytest_cache", "dist", "build", ".tox")


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int
    message: str
    fixable: bool = False
    severity: str = "warning"

    @property
    def name(self) -> str:
        return RULES.get(self.rule, self.rule)


def _install_step(instruction: Instruction) -> bool:
    text = instruction.shell
    return bool(INSTALL.search(text)) or any(m in text for m in MANIFESTS)


def _copies_directory(instruction: Instruction, context: ContextStats | None) -> bool:
    sources = instruction.value[:-1]
    if instruction.flag("from"):
        return False
    for source in sources:
        clean = source.strip().removeprefix("./").rstrip("/")
        if clean in ("", "."):
            return True
        if context is not None and any(p.startswith(clean + "/") for p in context.files):
            return True
    return False


def copy_before_deps(df: Dockerfile, context: ContextStats | None) -> list[Finding]:
    # BEGIN SOLUTION: a COPY of `.` or a directory, then an install RUN in the same stage
    findings = []
    for stage in df.stages:
        for position, instruction in enumerate(stage):
            if instruction.cmd not in ("COPY", "ADD") or not _copies_directory(instruction,
                                                                                context):
                continue
            later = [i for i in stage[position + 1:] if i.cmd == "RUN" and _install_step(i)]
            if later:
                findings.append(Finding(
                    "IMG001", instruction.start_line,
                    f"`{' '.join(instruction.value)}` copies the whole source before the "
                    f"dependency install on line {later[0].start_line}: every code change "
                    "re-runs it; copy the dependency manifests first", fixable=True))
    return findings
    # END SOLUTION


def dockerignore(df: Dockerfile, context: ContextStats | None) -> list[Finding]:
    # BEGIN SOLUTION: missing file, or heavy dirs / most bytes still sent
    if context is None:
        return []
    top = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in context.top_dirs(3))
    if context.dockerignore is None:
        return [Finding("IMG002", 1, f"no .dockerignore: the whole context "
                        f"({context.total_bytes / 1e6:.1f} MB, {len(context.files)} files) is "
                        f"sent to the build; largest: {top}")]
    heavy = sorted({p.split("/", 1)[0] for p in context.sent
                    if p.split("/", 1)[0] in HEAVY_CONTEXT_DIRS})
    if heavy:
        return [Finding("IMG002", 1, f"weak .dockerignore: {', '.join(heavy)} still in the "
                        f"context ({context.sent_bytes / 1e6:.1f} MB sent); largest: {top}")]
    return []
    # END SOLUTION


def _cleanup_targets(words: list[str]) -> list[str]:
    if program(words) != "rm":
        return []
    return [w.rstrip("/*").rstrip("/") for w in words[1:] if not w.startswith("-")]


def caches_not_cleaned(df: Dockerfile) -> list[Finding]:
    # BEGIN SOLUTION: per RUN: apt/pip/npm/apk caches; a cleanup-only RUN of earlier output
    findings = []
    for stage in df.stages:
        earlier: list[Instruction] = []
        for instruction in stage:
            if instruction.cmd != "RUN" or instruction.json:
                continue
            text = instruction.shell
            line = instruction.start_line
            if re.search(r"apt-get( -\S+)* install", text) and "/var/lib/apt/lists" not in text:
                findings.append(Finding("IMG003", line, "apt lists left in the layer: end the "
                                        "same RUN with `rm -rf /var/lib/apt/lists/*`", True))
            if re.search(r"\bpip3? install", text) and "--no-cache-dir" not in text:
                findings.append(Finding("IMG003", line, "pip cache left in the layer: use "
                                        "`pip install --no-cache-dir`", True))
            if re.search(r"\bnpm (ci|install)\b", text) and "npm cache clean" not in text:
                findings.append(Finding("IMG003", line, "npm cache left in the layer: add "
                                        "`&& npm cache clean --force`", True))
            if re.search(r"\bapk add\b", text) and "--no-cache" not in text:
                findings.append(Finding("IMG003", line, "apk cache left in the layer: use "
                                        "`apk add --no-cache`", True))
            simple = commands(text)
            targets = [t for words in simple for t in _cleanup_targets(words)]
            if simple and targets and all(_cleanup_targets(w) for w in simple):
                creators = [i for i in earlier if any(t in i.shell for t in targets)]
                if creators:
                    findings.append(Finding(
                        "IMG003", line, f"`{text}` cleans up in its own RUN: the bytes stay in "
                        f"the layer of line {creators[-1].start_line}; delete them in that RUN",
                        True))
            earlier.append(instruction)
    return findings
    # END SOLUTION


def _metadata_only(instruction: Instruction) -> bool:
    simple = commands(instruction.shell)
    return bool(simple) and all(program(w) in ("chmod", "chown") for w in simple)


def separate_chmod_chown(df: Dockerfile) -> list[Finding]:
    # BEGIN SOLUTION: a RUN made only of chmod/chown commands
    findings = []
    for instruction in df.instructions:
        if instruction.cmd == "RUN" and not instruction.json and _metadata_only(instruction):
            findings.append(Finding(
                "IMG004", instruction.start_line,
                f"`{instruction.shell}` in its own RUN copies every file it touches into a "
                "new layer; use COPY --chmod/--chown", fixable=True))
    return findings
    # END SOLUTION


def _installed_packages(text: str) -> set[str]:
    packages: set[str] = set()
    for words in commands(text):
        joined = " ".join(words)
        if re.search(r"(apt-get|apt|apk|yum|dnf|microdnf)( -\S+)* (install|add)\b", joined):
            packages.update(w.split("=", 1)[0] for w in words if not w.startswith("-"))
    return packages


def build_tools_in_final_stage(df: Dockerfile) -> list[Finding]:
    # BEGIN SOLUTION: package installs of compilers/VCS/-dev packages in the last stage
    stages = df.stages
    if not stages:
        return []
    findings = []
    for instruction in stages[-1]:
        if instruction.cmd != "RUN" or instruction.json:
            continue
        packages = _installed_packages(instruction.shell)
        tools = sorted(p for p in packages if p in BUILD_TOOLS or p.endswith("-dev"))
        if tools:
            findings.append(Finding(
                "IMG005", instruction.start_line,
                f"build tools in the final stage ({', '.join(tools)}): build in a builder "
                "stage and copy only the result"))
    return findings
    # END SOLUTION


def unpinned_base(df: Dockerfile) -> list[Finding]:
    # BEGIN SOLUTION: FROM without tag or with latest, not scratch, not an earlier stage
    findings = []
    stage_names: set[str] = set()
    for instruction in df.instructions:
        if instruction.cmd != "FROM":
            continue
        image = instruction.value[0]
        if len(instruction.value) >= 3 and instruction.value[1].upper() == "AS":
            alias = instruction.value[2].lower()
        else:
            alias = ""
        if image.lower() not in ("scratch",) and image.lower() not in stage_names \
                and "$" not in image and "@sha256:" not in image:
            last = image.rsplit("/", 1)[-1]
            tag = last.split(":", 1)[1] if ":" in last else ""
            if tag in ("", "latest"):
                findings.append(Finding("IMG006", instruction.start_line,
                                        f"base image `{image}` is not pinned: use a version "
                                        "tag (and a digest) so rebuilds are reproducible"))
        if alias:
            stage_names.add(alias)
    return findings
    # END SOLUTION


def mergeable(first: Instruction, second: Instruction) -> bool:
    """Two RUNs that can become one: consecutive, same stage, shell form, no flags."""
    return (first.cmd == second.cmd == "RUN" and first.stage == second.stage
            and not first.json and not second.json and not first.flags and not second.flags)


def mergeable_runs(df: Dockerfile) -> list[Finding]:
    # BEGIN SOLUTION: consecutive shell-form RUNs of one stage
    findings = []
    for first, second in zip(df.instructions, df.instructions[1:], strict=False):
        if mergeable(first, second):
            findings.append(Finding("IMG007", second.start_line,
                                    f"RUN on line {second.start_line} can be merged into the "
                                    f"RUN on line {first.start_line} (one layer, and cleanup "
                                    "in the same layer frees its bytes)", fixable=True))
    return findings
    # END SOLUTION


def lint(df: Dockerfile, context: ContextStats | None = None) -> list[Finding]:
    """All own rules, ordered by line."""
    findings = (copy_before_deps(df, context) + dockerignore(df, context)
                + caches_not_cleaned(df) + separate_chmod_chown(df)
                + build_tools_in_final_stage(df) + unpinned_base(df) + mergeable_runs(df))
    return sorted(findings, key=lambda f: (f.line, f.rule))
