"""The sample app, fixed by `imgopt fix`, built before and after with buildah."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from imgopt.adapters.hadolint import run_hadolint
from imgopt.compare import Side, compare
from imgopt.context import measure
from imgopt.dockerfile_model import parse
from imgopt.fix import fix
from imgopt.sample import materialize

from .conftest import require_tool

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    app = materialize(tmp_path_factory.mktemp("sample") / "app")
    before = (app / "Dockerfile").read_text()
    after = fix(before, measure(app)).fixed
    (app / "Dockerfile.optimized").write_text(after)
    return app, before, after


@pytest.fixture(scope="module")
def compared(sample: tuple[Path, str, str],
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Side, Side]:
    require_tool("buildah")
    require_tool("umoci")
    app, before, after = sample
    return compare(("before", before, app), ("after", after, app),
                   tmp_path_factory.mktemp("compare"), touch="app/main.sh")


@pytest.mark.points(3)
def test_fix_output_parses_and_clears_hadolint_codes(sample: tuple[Path, str, str]) -> None:
    _, before, after = sample
    parse(after)
    codes_before = {f.code for f in run_hadolint(before)}
    codes_after = {f.code for f in run_hadolint(after)}
    assert "DL3059" in codes_before
    assert "DL3059" not in codes_after


@pytest.mark.points(5)
def test_fixed_image_builds_passes_smoke_and_is_smaller(compared: tuple[Side, Side]) -> None:
    before, after = compared
    assert before.smoke_ok and after.smoke_ok, (before.smoke_output, after.smoke_output)
    assert "sample app ok: 4 deps" in after.smoke_output
    assert after.size_bytes <= 0.5 * before.size_bytes
    assert after.layers < before.layers
    assert before.efficiency < 0.95
    assert after.efficiency == pytest.approx(1.0, abs=1e-3)
    assert before.reclaimable_bytes > 7 * 1024 * 1024
    assert after.reclaimable_bytes == 0


@pytest.mark.hidden
@pytest.mark.points(3)
def test_compare_fails_when_the_optimisation_breaks_the_image(tmp_path: Path) -> None:
    require_tool("buildah")
    (tmp_path / "run.sh").write_text("echo ok > /dev/null\ntest -f /etc/app.conf\n")
    (tmp_path / "app.conf").write_text("x=1\n")
    good = tmp_path / "Dockerfile"
    good.write_text("FROM scratch\nCOPY busybox /bin/busybox\n"
                    "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n"
                    "COPY run.sh /run.sh\nCOPY app.conf /etc/app.conf\n"
                    "CMD [\"/bin/sh\", \"/run.sh\"]\n")
    broken = tmp_path / "Dockerfile.broken"
    broken.write_text("FROM scratch\nCOPY busybox /bin/busybox\n"
                      "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n"
                      "COPY run.sh /run.sh\nCMD [\"/bin/sh\", \"/run.sh\"]\n")
    result = CliRunner().invoke(cli_app(), ["compare", str(good), str(broken)],
                                env={"IMGOPT_WORK_DIR": str(tmp_path / "work")})
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(
        "error: smoke command failed on after")


@pytest.mark.points(2)
def test_failing_build_shows_buildahs_last_lines(tmp_path: Path) -> None:
    require_tool("buildah")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY busybox /bin/busybox\n"
                                         "RUN [\"/bin/busybox\", \"sh\", \"-c\", "
                                         "\"echo boom-marker; exit 3\"]\n")
    (tmp_path / "B").write_text("FROM scratch\n")
    result = CliRunner().invoke(cli_app(), ["compare", str(tmp_path / "Dockerfile"),
                                            str(tmp_path / "B")],
                                env={"IMGOPT_WORK_DIR": str(tmp_path / "work")})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: build failed:")
    assert "exit status 3" in lines[0] or "exit 1" in lines[0]


def cli_app():  # type: ignore[no-untyped-def]
    from imgopt.cli import cli

    return cli
