"""`fix` rewrites: each pass on a small Dockerfile, output parses, unknown things untouched."""

from __future__ import annotations

import pytest

from imgopt.context import ContextStats
from imgopt.dockerfile_model import parse
from imgopt.fix import fix
from imgopt.rules import lint


def ctx(*files: str) -> ContextStats:
    sizes = {name: 10 for name in files}
    return ContextStats(".", (".git",), sizes, sizes)


@pytest.mark.points(3)
def test_chmod_and_chown_become_copy_flags() -> None:
    text = ("FROM alpine:3.20\nCOPY tool /usr/bin/tool\nRUN chmod 0755 /usr/bin/tool\n"
            "COPY conf/ /etc/app/\nRUN chown 10001:10001 /etc/app/conf\n")
    result = fix(text, ctx("tool", "conf/a"))
    assert result.fixed == ("FROM alpine:3.20\nCOPY --chmod=0755 tool /usr/bin/tool\n"
                            "COPY --chown=10001:10001 conf/ /etc/app/\n")
    assert [r.rule for r in result.rewrites] == ["IMG004", "IMG004"]


@pytest.mark.points(2)
def test_symbolic_chmod_is_left_alone() -> None:
    text = "FROM alpine:3.20\nCOPY tool /usr/bin/tool\nRUN chmod +x /usr/bin/tool\n"
    result = fix(text, ctx("tool"))
    assert not result.changed
    assert result.diff() == ""


@pytest.mark.points(3)
def test_dependency_manifest_copied_before_the_source() -> None:
    text = ("FROM acme/pybase:3.12\nWORKDIR /app\nCOPY . .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"main.py\"]\n")
    result = fix(text, ctx("requirements.txt", "main.py"))
    assert result.fixed == ("FROM acme/pybase:3.12\nWORKDIR /app\nCOPY requirements.txt /app/\n"
                            "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
                            "CMD [\"python\", \"main.py\"]\n")
    assert "IMG001" not in {f.rule for f in lint(parse(result.fixed), ctx("requirements.txt"))}


@pytest.mark.points(2)
def test_runs_merged_with_their_cleanup_and_caches_removed() -> None:
    text = ("FROM debian:12\n# deps\nRUN apt-get update\nRUN apt-get install -y curl\n"
            "RUN pip install flask\nCMD [\"sh\"]\n")
    result = fix(text)
    assert result.fixed == (
        "FROM debian:12\n# deps\nRUN apt-get update && \\\n"
        "    apt-get install -y curl && rm -rf /var/lib/apt/lists/* && \\\n"
        "    pip install --no-cache-dir flask\nCMD [\"sh\"]\n")
    parse(result.fixed)
    assert {r.rule for r in result.rewrites} == {"IMG003", "IMG007"}


@pytest.mark.points(2)
def test_exec_form_and_flagged_runs_are_not_merged() -> None:
    text = ("FROM alpine:3.20\nRUN [\"/bin/busybox\", \"--install\"]\nRUN echo a\n"
            "RUN --mount=type=cache,target=/root/.cache echo b\n")
    assert not fix(text).changed


@pytest.mark.hidden
@pytest.mark.points(3)
def test_fix_is_idempotent_and_keeps_comments() -> None:
    text = ("# syntax=docker/dockerfile:1\nFROM alpine:3.20\nCOPY app /app\n"
            "# install\nRUN sh /app/deps.sh /app/requirements.txt\nRUN rm -rf /var/cache/deps\n"
            "# the tool\nCOPY t /t\nRUN chmod 755 /t\n")
    context = ctx("app/deps.sh", "app/requirements.txt", "app/main.sh", "t")
    once = fix(text, context)
    assert once.fixed == ("# syntax=docker/dockerfile:1\nFROM alpine:3.20\n"
                          "COPY app/deps.sh app/requirements.txt /app/\n"
                          "# install\nRUN sh /app/deps.sh /app/requirements.txt && \\\n"
                          "    rm -rf /var/cache/deps\nCOPY app /app\n"
                          "# the tool\nCOPY --chmod=755 t /t\n")
    assert not fix(once.fixed, context).changed


PY_SINGLE = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
             "RUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"main.py\"]\n")


@pytest.mark.points(2)
def test_python_gets_a_wheel_builder_stage() -> None:
    result = fix(PY_SINGLE, ctx("requirements.txt", "main.py"))
    assert result.fixed == (
        "FROM python:3.12-slim AS builder\nWORKDIR /wheels\n"
        "COPY requirements.txt /wheels/requirements.txt\n"
        "RUN pip wheel --no-cache-dir --wheel-dir /wheels -r /wheels/requirements.txt\n\n"
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels pip install "
        "--no-cache-dir --no-index --find-links=/wheels -r /wheels/requirements.txt\n"
        "COPY . .\nCMD [\"python\", \"main.py\"]\n")
    assert len(parse(result.fixed).stages) == 2
    assert [r.rule for r in result.rewrites] == ["IMG005"]


@pytest.mark.points(2)
def test_node_gets_an_npm_ci_builder_stage() -> None:
    text = ("FROM node:22-slim\nWORKDIR /srv\nCOPY package.json package-lock.json ./\n"
            "RUN npm install\nCOPY . .\nCMD [\"node\", \"index.js\"]\n")
    result = fix(text, ctx("package.json", "package-lock.json", "index.js"))
    assert result.fixed == (
        "FROM node:22-slim AS builder\nWORKDIR /build\nCOPY package.json package-lock.json ./\n"
        "RUN npm ci --omit=dev && npm cache clean --force\n\n"
        "FROM node:22-slim\nWORKDIR /srv\nCOPY package.json package-lock.json ./\n"
        "COPY --from=builder /build/node_modules /srv/node_modules\n"
        "COPY . .\nCMD [\"node\", \"index.js\"]\n")
    without_lock = fix(text, ctx("package.json", "index.js"))
    assert "AS builder" not in without_lock.fixed


@pytest.mark.hidden
@pytest.mark.points(2)
def test_builder_stage_leaves_complex_installs_alone() -> None:
    text = ("FROM python:3.12-slim\nRUN apt-get update && pip install -r requirements.txt\n")
    assert "AS builder" not in fix(text, ctx("requirements.txt")).fixed
    multi = "FROM python:3.12 AS a\nRUN echo\nFROM python:3.12-slim\nRUN pip install -r r.txt\n"
    assert "AS builder" not in fix(multi, ctx("r.txt")).fixed
