from pathlib import Path

import pytest
from aiinfra_shared.config import ConfigError

from mltrack.config import Settings

# Settings are plumbing the starter keeps: one point each.
pytestmark = pytest.mark.points(1)


def test_defaults_work_without_configuration() -> None:
    settings = Settings.load()
    assert settings.tracking_uri == "http://127.0.0.1:5055"
    assert settings.gates.primary_metric == "f1"
    assert settings.audit_log_path == Path(".mltrack/audit.jsonl")


def test_file_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mltrack.yaml"
    path.write_text("model_name: from-file\ngates:\n  latency_budget_ms: 7\n"
                    "  min_metrics: {recall: 0.5}\n")
    monkeypatch.setenv("MLTRACK_MODEL_NAME", "from-env")
    settings = Settings.load(path)
    assert settings.model_name == "from-env"
    assert settings.gates.latency_budget_ms == 7
    assert settings.gates.min_metrics == {"recall": 0.5}


@pytest.mark.parametrize("gates, needle", [
    ("min_metrics: {f1: 1.5}", "between 0 and 1"),
    ("min_metrics: {auc: 0.5}", "gates.min_metrics.auc"),
    ("latency_budget_ms: -1", "gates.latency_budget_ms"),
    ("max_regression: {accuracy: -0.1}", "between 0 and 1"),
    ("unknown_gate: 1", "gates.unknown_gate"),
])
def test_invalid_gate_config_is_one_readable_error(tmp_path: Path, gates: str,
                                                   needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("gates:\n  " + gates + "\n")
    with pytest.raises(ConfigError) as info:
        Settings.load(path)
    assert needle in str(info.value)
