"""Dockerfiles parsed with BuildKit's own parser (the `dockerfile` package wraps its Go code),
plus the checks BuildKit makes afterwards, so every error names a line.

Each instruction keeps its exact source lines, so `fix` can rewrite some and leave the rest
byte-for-byte as written (comments included: they belong to the instruction below them).
"""

from __future__ import annotations

from dataclasses import dataclass

import dockerfile

from imgopt.errors import DockerfileParseError

KNOWN = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
         "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
         "WORKDIR"}
NEEDS_ARGS = KNOWN - {"HEALTHCHECK"}


@dataclass(frozen=True)
class Instruction:
    cmd: str  # upper case: RUN, COPY...
    flags: tuple[str, ...]
    value: tuple[str, ...]
    json: bool
    start_line: int  # 1-based, inclusive
    end_line: int
    stage: int  # index of the FROM this instruction belongs to
    text: str  # the exact source lines, with the comments/blank lines just above them

    @property
    def shell(self) -> str:
        """The command line of a shell-form RUN (empty for exec form)."""
        return "" if self.json else " ".join(self.value)

    def flag(self, name: str) -> str | None:
        for item in self.flags:
            key, _, value = item.partition("=")
            if key == f"--{name}":
                return value
        return None


@dataclass(frozen=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]
    trailer: str  # comments/blank lines after the last instruction

    @property
    def stages(self) -> list[list[Instruction]]:
        result: list[list[Instruction]] = []
        for instruction in self.instructions:
            if instruction.cmd == "FROM":
                result.append([])
            if result:
                result[-1].append(instruction)
        return result

    def render(self) -> str:
        return "".join(i.text for i in self.instructions) + self.trailer


def _go_error_line(text: str, message: str) -> int:
    """The Go parser names no line: find the first prefix of the file that fails the same way."""
    lines = text.splitlines(keepends=True)
    for count in range(1, len(lines) + 1):
        try:
            dockerfile.parse_string("".join(lines[:count]))
        except dockerfile.GoParseError as exc:
            if str(exc) == message:
                return count
    return len(lines)


def parse(text: str, name: str = "Dockerfile") -> Dockerfile:
    """Parse and validate; raise DockerfileParseError naming `name:line`."""
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        if str(exc) == "file with no instructions":
            raise DockerfileParseError(f"{name}: no instructions") from exc
        line = _go_error_line(text, str(exc))
        raise DockerfileParseError(f"{name}:{line}: {exc}") from exc
    lines = text.splitlines(keepends=True)
    instructions: list[Instruction] = []
    stage, previous_end = -1, 0
    for command in commands:
        cmd = command.cmd.upper()
        line = command.start_line
        if cmd not in KNOWN:
            raise DockerfileParseError(f"{name}:{line}: unknown instruction: {command.cmd}")
        if cmd in NEEDS_ARGS and not command.value:
            raise DockerfileParseError(f"{name}:{line}: {cmd} requires at least one argument")
        if cmd in ("COPY", "ADD") and len(command.value) < 2:
            raise DockerfileParseError(f"{name}:{line}: {cmd} requires a source and a destination")
        if cmd == "FROM":
            stage += 1
        elif stage < 0 and cmd != "ARG":
            raise DockerfileParseError(f"{name}:{line}: {cmd} before the first FROM")
        chunk = "".join(lines[previous_end:command.end_line])
        previous_end = command.end_line
        instructions.append(Instruction(cmd=cmd, flags=tuple(command.flags),
                                        value=tuple(command.value), json=command.json,
                                        start_line=line, end_line=command.end_line,
                                        stage=max(stage, 0), text=chunk))
    if stage < 0:
        raise DockerfileParseError(f"{name}: no FROM instruction")
    if instructions and not instructions[-1].text.endswith("\n"):
        last = instructions[-1]
        instructions[-1] = Instruction(**{**last.__dict__, "text": last.text + "\n"})
    return Dockerfile(instructions=tuple(instructions), trailer="".join(lines[previous_end:]))
