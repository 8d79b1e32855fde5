"""promtool / amtool on the generated configuration (the real Prometheus toolchain)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from aiinfra_shared.testing import prom

from modelmon import rules
from modelmon.render import render_files, write_files

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.points(1)
def test_promtool_check_config_and_rules(tmp_path: Path) -> None:
    write_files(tmp_path, render_files())
    result = prom.check_config("prometheus.yml", cwd=tmp_path / "prometheus")
    assert "SUCCESS: 7 rules found" in result.stdout, result.stdout
    assert "SUCCESS: 9 rules found" in result.stdout, result.stdout


@pytest.mark.points(2)
def test_promtool_unit_tests_of_the_alerts() -> None:
    prom.rule_tests_pass("tests/alerts_test.yml", cwd=DEPLOY / "prometheus")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_promtool_unit_tests_fail_when_a_threshold_changes(tmp_path: Path) -> None:
    """The promtool tests really pin the rules: a looser drift threshold breaks them."""
    target = tmp_path / "prometheus"
    shutil.copytree(DEPLOY / "prometheus", target)
    loose = rules.alerting_rules(rules.RuleParams(psi_threshold=0.5))
    (target / "alerting_rules.yml").write_text(yaml.safe_dump(loose))
    prom.rule_tests_fail("tests/alerts_test.yml", cwd=target, mentioning=["ModelFeatureDrift"])


@pytest.mark.points(1)
def test_fast_rule_variant_is_valid(tmp_path: Path) -> None:
    params = rules.RuleParams.fast()
    path = tmp_path / "fast.yml"
    path.write_text(yaml.safe_dump(rules.alerting_rules(params)))
    prom.check_rules(path)


@pytest.mark.points(1)
def test_amtool_check_alertmanager_config(tmp_path: Path) -> None:
    write_files(tmp_path, render_files())
    result = prom.check_alertmanager_config(tmp_path / "alertmanager" / "alertmanager.yml")
    assert "2 receivers" in result.stdout, result.stdout
