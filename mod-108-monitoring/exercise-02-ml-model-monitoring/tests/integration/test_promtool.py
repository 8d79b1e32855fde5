"""promtool / amtool on the generated configuration (the real Prometheus toolchain)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.testing.plugin import require_or_skip

from modelmon import rules
from modelmon.render import render_files, write_files

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager"}


def tool(name: str) -> str:
    """Path of a Debian tool: skip on a laptop without it, fail on CI (shared policy)."""
    hint = f"apt-get install {PACKAGES[name]} (make setup)"
    return require_or_skip(lambda: require_binary(name, hint))


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, cwd=cwd,
                          timeout=120)


@pytest.mark.points(1)
def test_promtool_check_config_and_rules(tmp_path: Path) -> None:
    write_files(tmp_path, render_files())
    result = run(tool("promtool"), "check", "config", "prometheus.yml",
                 cwd=tmp_path / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout
    assert "SUCCESS: 9 rules found" in result.stdout


@pytest.mark.points(2)
def test_promtool_unit_tests_of_the_alerts() -> None:
    result = run(tool("promtool"), "test", "rules", "tests/alerts_test.yml",
                 cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.points(2)
@pytest.mark.hidden
def test_promtool_unit_tests_fail_when_a_threshold_changes(tmp_path: Path) -> None:
    """The promtool tests really pin the rules: a looser drift threshold breaks them."""
    target = tmp_path / "prometheus"
    shutil.copytree(DEPLOY / "prometheus", target)
    loose = rules.alerting_rules(rules.RuleParams(psi_threshold=0.5))
    (target / "alerting_rules.yml").write_text(yaml.safe_dump(loose))
    result = run(tool("promtool"), "test", "rules", "tests/alerts_test.yml", cwd=target)
    assert result.returncode != 0
    assert "ModelFeatureDrift" in result.stdout + result.stderr


@pytest.mark.points(1)
def test_fast_rule_variant_is_valid(tmp_path: Path) -> None:
    params = rules.RuleParams.fast()
    path = tmp_path / "fast.yml"
    path.write_text(yaml.safe_dump(rules.alerting_rules(params)))
    result = run(tool("promtool"), "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.points(1)
def test_amtool_check_alertmanager_config(tmp_path: Path) -> None:
    write_files(tmp_path, render_files())
    result = run(tool("amtool"), "check-config",
                 str(tmp_path / "alertmanager" / "alertmanager.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 receivers" in result.stdout
