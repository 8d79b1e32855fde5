"""One small Dockerfile per rule, positive and negative; parse errors name the line."""
# ruff: noqa: E501  (Dockerfiles read best one instruction per line)

from __future__ import annotations

import pytest

from imgopt.context import ContextStats
from imgopt.dockerfile_model import parse
from imgopt.errors import DockerfileParseError
from imgopt.rules import lint

CTX = ContextStats(root=".", dockerignore=(".git",),
                   files={"requirements.txt": 20, "app/main.py": 100},
                   sent={"requirements.txt": 20, "app/main.py": 100})


def rules_of(text: str, context: ContextStats | None = CTX) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in lint(parse(text), context)]


CASES = [
    ("IMG001", "FROM python:3.12\nCOPY . /app\nRUN pip install --no-cache-dir -r /app/requirements.txt\n",
     "FROM python:3.12\nCOPY requirements.txt /app/\nRUN pip install --no-cache-dir -r /app/requirements.txt\nCOPY . /app\n",
     2),
    ("IMG003", "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
     "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
     2),
    ("IMG004", "FROM alpine:3.20\nCOPY run.sh /run.sh\nRUN chmod 755 /run.sh\n",
     "FROM alpine:3.20\nCOPY --chmod=755 run.sh /run.sh\n", 3),
    ("IMG005", "FROM debian:12\nRUN apt-get install -y --no-install-recommends gcc libssl-dev && rm -rf /var/lib/apt/lists/*\n",
     "FROM debian:12 AS build\nRUN apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\nFROM debian:12\nCOPY --from=build /out /out\n",
     2),
    ("IMG006", "FROM ubuntu\n", "FROM ubuntu:24.04\n", 1),
    ("IMG007", "FROM alpine:3.20\nRUN echo a\n# comment\nRUN echo b\n",
     "FROM alpine:3.20\nRUN echo a && echo b\nRUN [\"/bin/true\"]\n", 4),
]


@pytest.mark.points(2)
@pytest.mark.parametrize(("rule", "positive", "negative", "line"), CASES,
                         ids=[c[0] for c in CASES])
def test_rule_positive_and_negative(rule: str, positive: str, negative: str, line: int) -> None:
    assert (rule, line) in rules_of(positive)
    assert rule not in {r for r, _ in rules_of(negative)}


@pytest.mark.hidden
@pytest.mark.points(2)
def test_cleanup_in_its_own_run() -> None:
    text = "FROM alpine:3.20\nRUN mkdir -p /var/cache/x && echo > /var/cache/x/a\nCOPY a /a\nRUN rm -rf /var/cache/x\n"
    assert ("IMG003", 4) in rules_of(text)


@pytest.mark.points(2)
def test_dockerignore_missing_and_weak() -> None:
    text = "FROM alpine:3.20\nCOPY . /app\n"
    missing = ContextStats(".", None, {"a": 5_000_000, "src/b": 10},
                           {"a": 5_000_000, "src/b": 10})
    [finding] = [f for f in lint(parse(text), missing) if f.rule == "IMG002"]
    assert "no .dockerignore" in finding.message and "5.0 MB" in finding.message
    weak = ContextStats(".", ("*.log",), {".git/objects/x": 900, "a": 1},
                        {".git/objects/x": 900, "a": 1})
    [finding] = [f for f in lint(parse(text), weak) if f.rule == "IMG002"]
    assert ".git" in finding.message
    assert "IMG002" not in {r for r, _ in rules_of(text)}


@pytest.mark.points(1)
def test_scratch_and_stage_names_are_not_unpinned() -> None:
    text = "FROM golang:1.23 AS build\nRUN echo\nFROM build\nFROM scratch\n"
    assert "IMG006" not in {r for r, _ in rules_of(text)}


@pytest.mark.points(3)
@pytest.mark.parametrize(("text", "expected"), [
    ("FROM alpine\nFROOM x\n", "Dockerfile:2: unknown instruction: FROOM"),
    ("FROM alpine\nRUN <<EOF\necho hi\n", "Dockerfile:2: unterminated heredoc"),
    ("COPY a b\nFROM alpine\n", "Dockerfile:1: COPY before the first FROM"),
    ("FROM alpine\nCOPY onlyone\n", "Dockerfile:2: COPY requires a source and a destination"),
    ("# nothing\n", "Dockerfile: no instructions"),
])
def test_parse_errors_name_the_line(text: str, expected: str) -> None:
    with pytest.raises(DockerfileParseError) as info:
        parse(text)
    assert str(info.value) == expected


@pytest.mark.points(1)
def test_render_round_trips_exactly() -> None:
    text = "# top\nFROM alpine:3.20\n\n# two lines\nRUN echo a \\\n    && echo b\nCMD [\"sh\"]\n# tail\n"
    assert parse(text).render() == text
