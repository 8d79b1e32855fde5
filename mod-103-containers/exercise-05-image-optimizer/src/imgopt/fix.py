"""`imgopt fix`: rewrite a Dockerfile into a smaller, better-cached one, one safe pass at a time.

Each pass takes the parsed file, rewrites only what it fully understands, and returns the new
text; the text is parsed again before the next pass, so every intermediate result is a valid
Dockerfile and untouched instructions keep their exact bytes (comments included).

Passes, in order:
1. chmod/chown in its own RUN -> `--chmod`/`--chown` on the COPY that wrote the file (IMG004)
2. dependency files copied before the source: the install RUN moves above the directory COPY,
   preceded by a COPY of only the files it names (IMG001)
3. single-stage Python/Node images get a builder stage: pip wheels installed offline from a
   bind mount, or `npm ci --omit=dev` with node_modules copied (IMG005)
4. package caches removed in the RUN that made them: `pip --no-cache-dir`, apt lists (IMG003)
5. consecutive RUNs merged, so a cleanup lands in the layer that made the mess (IMG007/IMG003)
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from imgopt.context import ContextStats
from imgopt.dockerfile_model import Dockerfile, Instruction, parse
from imgopt.rules import INSTALL, MANIFESTS, _metadata_only, mergeable
from imgopt.shell import commands, program


@dataclass(frozen=True)
class Rewrite:
    rule: str
    line: int  # line of the instruction in the text this pass received
    description: str


@dataclass(frozen=True)
class FixResult:
    original: str
    fixed: str
    rewrites: list[Rewrite]

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self, name: str = "Dockerfile") -> str:
        return "".join(difflib.unified_diff(self.original.splitlines(keepends=True),
                                            self.fixed.splitlines(keepends=True),
                                            fromfile=f"a/{name}", tofile=f"b/{name}"))


def _comments(instruction: Instruction) -> str:
    """The comment/blank lines a block carries above its instruction."""
    lines = instruction.text.splitlines(keepends=True)
    head = len(lines) - (instruction.end_line - instruction.start_line + 1)
    return "".join(lines[:max(head, 0)])


def _copy_destination(copy: Instruction) -> list[str]:
    """Paths a COPY writes for a single source (dest, or dest/basename when dest is a dir)."""
    dest = copy.value[-1]
    if len(copy.value) != 2:
        return []
    source = copy.value[0].rstrip("/")
    if dest.endswith("/"):
        return [dest + posixpath.basename(source)]
    return [dest]


def chmod_to_copy_flags(df: Dockerfile, context: ContextStats | None) -> tuple[str, list[Rewrite]]:
    # BEGIN SOLUTION: fold `RUN chmod MODE P`/`chown U:G P` into the COPY that wrote P
    blocks = [i.text for i in df.instructions]
    rewrites: list[Rewrite] = []
    for position, instruction in enumerate(df.instructions):
        if instruction.cmd != "RUN" or instruction.json or not _metadata_only(instruction):
            continue
        flags: dict[str, str] = {}
        paths: set[str] = set()
        for words in commands(instruction.shell):
            args = [w for w in words[1:] if w not in ("-R", "--recursive")]
            if len(args) != 2 or args[0].startswith("-"):
                flags = {}
                break
            name = "chmod" if program(words) == "chmod" else "chown"
            if name == "chmod" and not re.fullmatch(r"[0-7]{3,4}", args[0]):
                flags = {}
                break
            flags[name] = args[0]
            paths.add(args[1])
        if not flags or len(paths) != 1:
            continue
        target = paths.pop()
        for back in range(position - 1, -1, -1):
            copy = df.instructions[back]
            if copy.stage != instruction.stage:
                break
            if copy.cmd in ("COPY", "ADD") and target in _copy_destination(copy):
                if any(copy.flag(name) is not None for name in flags):
                    break
                new_flags = list(copy.flags) + [f"--{k}={v}" for k, v in sorted(flags.items())]
                line = " ".join([copy.cmd, *new_flags, *copy.value]) + "\n"
                blocks[back] = _comments(copy) + line
                blocks[position] = _comments(instruction)
                rewrites.append(Rewrite("IMG004", instruction.start_line,
                                        f"`{instruction.shell}` folded into line "
                                        f"{copy.start_line} as "
                                        + " ".join(f"--{k}={v}" for k, v in sorted(flags.items()))))
                break
    return "".join(blocks) + df.trailer, rewrites
    # END SOLUTION


def _workdir_at(stage: list[Instruction], position: int) -> str:
    workdir = "/"
    for instruction in stage[:position]:
        if instruction.cmd == "WORKDIR":
            workdir = posixpath.join(workdir, instruction.value[0])
    return workdir


def _referenced_files(run: Instruction, source: str, dest: str, workdir: str,
                      context: ContextStats) -> list[str]:
    """Context files (relative paths) that the install RUN names, under the copied dir."""
    prefix = "" if source in ("", ".") else source + "/"
    found: list[str] = []
    for words in commands(run.shell):
        for word in words:
            for candidate in (word, posixpath.join(workdir, word)):
                if candidate.startswith(dest.rstrip("/") + "/"):
                    rel = prefix + candidate[len(dest.rstrip("/")) + 1:]
                    if rel in context.files and rel not in found:
                        found.append(rel)
    if INSTALL.search(run.shell):
        for manifest in MANIFESTS:
            if prefix + manifest in context.files and prefix + manifest not in found:
                found.append(prefix + manifest)
    return found


def _is_cleanup(instruction: Instruction) -> bool:
    simple = commands(instruction.shell)
    return bool(simple) and all(program(w) == "rm" for w in simple)


def dependencies_first(df: Dockerfile, context: ContextStats | None) -> tuple[str, list[Rewrite]]:
    # BEGIN SOLUTION: move install RUNs above the directory COPY, copying only what they name
    if context is None:
        return df.render(), []
    for stage in df.stages:
        for position, copy in enumerate(stage):
            if copy.cmd != "COPY" or copy.flags or len(copy.value) != 2:
                continue
            source = copy.value[0].strip().removeprefix("./").rstrip("/")
            source = "" if source == "." else source
            if source and not any(p.startswith(source + "/") for p in context.files):
                continue
            dest = posixpath.normpath(posixpath.join(_workdir_at(stage, position), copy.value[1]))
            after = stage[position + 1:]
            moved: list[Instruction] = []
            for instruction in after:
                if instruction.cmd in ("ENV", "ARG", "LABEL", "EXPOSE") and not moved:
                    continue
                if instruction.cmd == "RUN" and not instruction.json and (
                        (not moved and (INSTALL.search(instruction.shell) or any(
                            m in instruction.shell for m in MANIFESTS)))
                        or (moved and _is_cleanup(instruction))):
                    moved.append(instruction)
                    continue
                break
            if not moved:
                continue
            files = _referenced_files(moved[0], source, dest,
                                      _workdir_at(stage, position), context)
            if not files:
                continue
            groups: dict[str, list[str]] = {}
            for rel in files:
                sub = posixpath.dirname(rel[len(source) + 1:] if source else rel)
                groups.setdefault(sub, []).append(rel)
            copies = "".join(
                f"COPY {' '.join(names)} {posixpath.join(dest, sub).rstrip('/')}/\n"
                for sub, names in groups.items())
            blocks = []
            for instruction in df.instructions:
                if instruction is copy:
                    blocks.append(_comments(copy) + copies)
                    continue
                blocks.append(instruction.text)
                if instruction is moved[-1]:
                    blocks.append(copy.text[len(_comments(copy)):])
            text = "".join(blocks) + df.trailer
            return text, [Rewrite("IMG001", copy.start_line,
                                  f"{', '.join(files)} copied before `{moved[0].shell}`; "
                                  f"`COPY {' '.join(copy.value)}` moved below it")]
    return df.render(), []
    # END SOLUTION


def clean_caches(df: Dockerfile, context: ContextStats | None) -> tuple[str, list[Rewrite]]:
    # BEGIN SOLUTION: pip --no-cache-dir; apt lists removed at the end of the same RUN
    blocks = [i.text for i in df.instructions]
    rewrites: list[Rewrite] = []
    for position, instruction in enumerate(df.instructions):
        if instruction.cmd != "RUN" or instruction.json:
            continue
        shell = instruction.shell
        new = re.sub(r"\b(pip3? install)\b(?![^&;|]*--no-cache-dir)", r"\1 --no-cache-dir",
                     shell)
        if re.search(r"apt-get( -\S+)* install", new) and "/var/lib/apt/lists" not in new:
            new += " && rm -rf /var/lib/apt/lists/*"
        if new != shell:
            flags = " ".join(instruction.flags)
            blocks[position] = (_comments(instruction) + "RUN " + (flags + " " if flags else "")
                                + new + "\n")
            rewrites.append(Rewrite("IMG003", instruction.start_line,
                                    "package caches removed in the RUN that creates them"))
    return "".join(blocks) + df.trailer, rewrites
    # END SOLUTION


def merge_runs(df: Dockerfile, context: ContextStats | None) -> tuple[str, list[Rewrite]]:
    # BEGIN SOLUTION: join runs of consecutive mergeable RUNs with `&& \`
    blocks: list[str] = []
    rewrites: list[Rewrite] = []
    group: list[Instruction] = []

    def flush() -> None:
        if len(group) == 1:
            blocks.append(group[0].text)
        elif group:
            comments = "".join(_comments(i) for i in group)
            body = " && \\\n    ".join(i.shell for i in group)
            blocks.append(f"{comments}RUN {body}\n")
            rewrites.append(Rewrite("IMG007", group[0].start_line,
                                    f"{len(group)} RUNs (lines "
                                    + ", ".join(str(i.start_line) for i in group)
                                    + ") merged into one layer"))
        group.clear()

    for instruction in df.instructions:
        if group and mergeable(group[-1], instruction):
            group.append(instruction)
            continue
        flush()
        if instruction.cmd == "RUN" and not instruction.json and not instruction.flags:
            group.append(instruction)
        else:
            blocks.append(instruction.text)
    flush()
    return "".join(blocks) + df.trailer, rewrites
    # END SOLUTION


def _base_kind(image: str) -> str:
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    return name if name in ("python", "node") else ""


def _single_command(instruction: Instruction) -> list[str] | None:
    simple = commands(instruction.shell)
    return simple[0] if len(simple) == 1 else None


def _python_builder(base: str, words: list[str], workdir: str,
                    context: ContextStats) -> tuple[str, str] | None:
    """`pip install [-r] REQ` -> (builder stage, replacement RUN), or None."""
    if words[:2] not in (["pip", "install"], ["pip3", "install"]) or "-r" not in words:
        return None
    requirement = words[words.index("-r") + 1] if words.index("-r") + 1 < len(words) else ""
    others = [w for w in words[2:] if w not in ("-r", requirement, "--no-cache-dir")]
    if others or posixpath.basename(requirement) not in context.files:
        return None
    name = posixpath.basename(requirement)
    builder = (f"FROM {base} AS builder\nWORKDIR /wheels\nCOPY {name} /wheels/{name}\n"
               f"RUN pip wheel --no-cache-dir --wheel-dir /wheels -r /wheels/{name}\n\n")
    run = ("RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels "
           f"pip install --no-cache-dir --no-index --find-links=/wheels -r /wheels/{name}\n")
    return builder, run


def _node_builder(base: str, words: list[str], workdir: str,
                  context: ContextStats) -> tuple[str, str] | None:
    """`npm ci` / `npm install` -> (builder stage, replacement COPY), or None."""
    if words[:2] not in (["npm", "ci"], ["npm", "install"]) or len(words) > 2 \
            or workdir == "/" or not {"package.json", "package-lock.json"} <= set(context.files):
        return None
    builder = (f"FROM {base} AS builder\nWORKDIR /build\n"
               "COPY package.json package-lock.json ./\n"
               "RUN npm ci --omit=dev && npm cache clean --force\n\n")
    return builder, f"COPY --from=builder /build/node_modules {workdir}/node_modules\n"


def builder_stage(df: Dockerfile, context: ContextStats | None) -> tuple[str, list[Rewrite]]:
    """Single-stage Python/Node images: dependencies built in a builder stage (pip wheels,
    `npm ci --omit=dev`) so compilers and caches never reach the final image. Only a RUN that
    is exactly one `pip install -r FILE` / `npm ci` is rewritten; anything else stays."""
    # BEGIN SOLUTION: one stage, python/node base, one plain install command -> two stages
    if context is None or len(df.stages) != 1:
        return df.render(), []
    stage = df.stages[0]
    base = stage[0].value[0]
    kind = _base_kind(base)
    if not kind or len(stage[0].value) != 1:
        return df.render(), []
    for position, instruction in enumerate(stage):
        if instruction.cmd != "RUN" or instruction.json or instruction.flags:
            continue
        words = _single_command(instruction)
        if words is None:
            continue
        workdir = _workdir_at(stage, position)
        planned = (_python_builder if kind == "python" else _node_builder)(
            base, words, workdir, context)
        if planned is None:
            continue
        builder, replacement = planned
        blocks = []
        for item in df.instructions:
            if item is stage[0]:
                blocks.append(_comments(item) + builder + item.text[len(_comments(item)):])
            elif item is instruction:
                blocks.append(_comments(item) + replacement)
            else:
                blocks.append(item.text)
        return "".join(blocks) + df.trailer, [Rewrite(
            "IMG005", instruction.start_line,
            f"`{instruction.shell}` moved into a builder stage "
            + ("(pip wheels, installed offline from a bind mount)" if kind == "python"
               else "(npm ci --omit=dev, node_modules copied)"))]
    return df.render(), []
    # END SOLUTION


Pass = Callable[[Dockerfile, ContextStats | None], tuple[str, list[Rewrite]]]
PASSES: tuple[Pass, ...] = (chmod_to_copy_flags, dependencies_first, builder_stage, clean_caches,
                            merge_runs)


def fix(text: str, context: ContextStats | None = None, name: str = "Dockerfile") -> FixResult:
    """Run every pass; the result always parses (each pass's output is parsed again)."""
    current = text
    rewrites: list[Rewrite] = []
    for rewrite_pass in PASSES:
        df = parse(current, name)
        current, done = rewrite_pass(df, context)
        rewrites.extend(done)
    parse(current, name)
    return FixResult(original=text, fixed=current, rewrites=rewrites)
