"""Pure logic: validation, gate, registry, drift, SLA maths, alert payloads, model configs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mlworkflows import data
from mlworkflows.alerts import deadline_payload, task_failure_payload
from mlworkflows.callbacks import on_deadline_missed, send_alert
from mlworkflows.config import Settings
from mlworkflows.drift import compute_drift
from mlworkflows.gate import evaluate_gate
from mlworkflows.model_config import ModelConfigError, load_model_config, load_model_configs
from mlworkflows.registry import ModelRegistry
from mlworkflows.sla import compute_sla
from mlworkflows.validation import validate_file

GOOD = {"accuracy": 0.97, "f1": 0.97, "roc_auc": 0.99}


@pytest.mark.points(3)
def test_valid_file_passes(tmp_path: Path) -> None:
    report = validate_file(data.write_csv(data.make_batch(200), tmp_path / "ok.csv"))
    assert report.ok and report.rows == 200 and not report.failures


@pytest.mark.points(5)
def test_schema_violations_name_columns_and_rows(tmp_path: Path) -> None:
    report = validate_file(data.write_csv(data.corrupt_batch(), tmp_path / "bad.csv"))
    assert not report.ok
    assert report.failing_columns == ["mean_radius", "mean_texture", "target"]
    assert report.failing_rows == [3, 7, 11]
    assert "mean_radius" in report.summary() and "rows 3, 7, 11" in report.summary()


@pytest.mark.points(3)
@pytest.mark.hidden
def test_missing_column_and_too_few_rows(tmp_path: Path) -> None:
    frame = data.make_batch(20).drop(columns=["mean_area"])
    report = validate_file(data.write_csv(frame, tmp_path / "short.csv"))
    assert not report.ok
    checks = {f.check for f in report.failures}
    assert any("column_in_dataframe" in c for c in checks)
    assert any("at_least_50_rows" in c for c in checks)


@pytest.mark.parametrize(("content", "expected"), [
    (None, "does not exist"), (b"", "file is empty"), (b"a,b\n1,2,3,4\n\xff\xfe", "cannot parse")])
@pytest.mark.points(1)
@pytest.mark.hidden
def test_unreadable_files(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "x.csv"
    if content is not None:
        path.write_bytes(content)
    report = validate_file(path)
    assert not report.ok and expected in (report.error or "")


@pytest.mark.points(6)
def test_gate_thresholds_and_regression() -> None:
    config = load_model_config(Path("configs/cancer_logreg.yaml"))
    assert evaluate_gate(config, GOOD, None).passed
    low = evaluate_gate(config, {**GOOD, "accuracy": 0.5}, None)
    assert not low.passed and "accuracy 0.5000 is below" in low.reasons[0]
    worse = evaluate_gate(config, {**GOOD, "roc_auc": 0.97}, {**GOOD, "roc_auc": 0.999})
    assert not worse.passed and "regresses versus production" in worse.reasons[0]
    within = evaluate_gate(config, GOOD, {**GOOD, "roc_auc": 0.995})  # drop 0.005 <= 0.01
    assert within.passed


@pytest.mark.points(5)
def test_registry_versions_and_pointer(tmp_path: Path) -> None:
    model_file = tmp_path / "m.joblib"
    model_file.write_bytes(b"model-bytes")
    registry = ModelRegistry(tmp_path / "registry")
    assert registry.production("m") is None
    v1 = registry.register("m", model_file, {"metrics": GOOD})
    v2 = registry.register("m", model_file, {"metrics": GOOD})
    assert (v1.version, v2.version) == (1, 2) and registry.versions("m") == [1, 2]
    pointer = registry.deploy("m", 2, reason="test")
    assert registry.production("m") == pointer and pointer["metrics"] == GOOD
    assert not list((tmp_path / "registry" / "m").glob(".*.tmp"))
    with pytest.raises(KeyError):
        registry.deploy("m", 9, reason="missing")


@pytest.mark.points(5)
def test_drift_detects_shift() -> None:
    reference = data.make_batch()
    assert not compute_drift(reference, data.make_batch(200, seed=1), 0.2).drifted
    shifted = compute_drift(reference, data.make_batch(200, seed=1, shift=0.4), 0.2)
    assert shifted.drifted and shifted.max_psi > 0.2 and shifted.top_features


@pytest.mark.points(6)
def test_sla_compliance() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    runs = [
        {"dag_id": "a", "state": "success", "queued_at": "2026-01-01T10:00:00Z",
         "end_date": "2026-01-01T10:01:00Z"},
        {"dag_id": "a", "state": "success", "queued_at": "2026-01-01T10:00:00Z",
         "end_date": "2026-01-01T10:05:00Z"},
        {"dag_id": "a", "state": "failed", "queued_at": "2026-01-01T10:00:00Z",
         "end_date": "2026-01-01T10:00:30Z"},
        {"dag_id": "a", "state": "running", "queued_at": "2026-01-01T11:59:00Z", "end_date": None},
        {"dag_id": "b", "state": "running", "queued_at": "2026-01-01T11:00:00Z", "end_date": None},
    ]
    tis = [{"dag_id": "a", "task_id": "fit", "duration": 50.0},
           {"dag_id": "a", "task_id": "load", "duration": 2.0}]
    report = {r.dag_id: r for r in compute_sla(runs, tis, lambda _d: 120.0, now)}
    a, b = report["a"], report["b"]
    assert (a.met, a.missed, a.pending) == (1, 2, 1) and a.compliance_pct == pytest.approx(33.3)
    assert a.slowest_task == "fit" and a.max_s == 300.0
    assert (b.missed, b.compliance_pct) == (1, 0.0)  # running past its target is already a miss


@pytest.mark.points(1)
def test_sla_targets_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLWORKFLOWS_SLA_TARGETS", '{"mlw_train_*": 300}')
    settings = Settings.load()
    assert settings.sla_target_for("mlw_train_x") == 300
    assert settings.sla_target_for("mlw_data") == settings.default_sla_seconds


@pytest.mark.points(3)
def test_alert_payloads_are_slack_shaped() -> None:
    class TI:
        dag_id, task_id, run_id, try_number = "mlw_data", "quarantine", "r1", 1

    payload = task_failure_payload({"ti": TI(), "exception": ValueError("bad rows 3, 7")})
    assert payload["text"].endswith("mlw_data.quarantine")
    assert payload["blocks"][0]["type"] == "header" and "bad rows 3, 7" in str(payload)
    late = deadline_payload({"dag_run": {"dag_id": "mlw_train_x", "dag_run_id": "r2"}}, 30)
    assert "Deadline missed: mlw_train_x" in late["text"] and late["severity"] == "warning"


@pytest.mark.points(3)
def test_deadline_callback_posts_to_webhook(webhook) -> None:  # type: ignore[no-untyped-def]
    before = len(webhook.payloads)
    context = {"dag_run": {"dag_id": "mlw_train_cancer_logreg", "dag_run_id": "late-run",
                           "state": "running"},
               # the scheduler passes the deadline as a datetime (Deadline.handle_miss)
               "deadline": {"id": "d1", "deadline_time": datetime(2026, 1, 1, 0, 30, tzinfo=UTC)}}
    result = asyncio.run(on_deadline_missed(target_minutes=30, context=context))
    # a plain string: the triggerer stores it in a text column (a dict crashes it)
    assert isinstance(result, str) and result.endswith("(webhook: posted; e-mail: not configured)")
    payload = webhook.payloads[before]
    assert payload["fields"]["run_id"] == "late-run" and "30 min" in payload["text"]
    assert payload["fields"]["deadline"] == "2026-01-01T00:30:00+00:00"


@pytest.mark.points(3)
def test_failure_alert_is_emailed_through_smtp(alert_email, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MLWORKFLOWS_WEBHOOK_URL", raising=False)

    class TI:
        dag_id, task_id, run_id, try_number = "mlw_data", "quarantine", "r1", 2

    assert send_alert(task_failure_payload({"ti": TI(), "exception": ValueError("rows 3, 7")}))
    [delivery] = alert_email.deliveries
    message = delivery.message
    # a long Subject is folded on the wire: compare with whitespace normalised
    subject = " ".join(str(message["Subject"]).split())
    assert subject == "[mlworkflows error] Airflow task failed: mlw_data.quarantine"
    assert message["From"] == "airflow@example.com"
    assert delivery.rcpt_tos == ["oncall@example.com", "ml-team@example.com"]
    body = message.get_content()
    assert "task_id: quarantine" in body and "error: rows 3, 7" in body and "try_number: 2" in body


@pytest.mark.points(2)
def test_deadline_callback_emails_even_when_the_webhook_is_down(  # type: ignore[no-untyped-def]
        alert_email, monkeypatch, free_port) -> None:
    monkeypatch.setenv("MLWORKFLOWS_WEBHOOK_URL", f"http://127.0.0.1:{free_port}/dead")
    context = {"dag_run": {"dag_id": "mlw_data", "dag_run_id": "slow-run", "state": "queued"},
               "deadline": {"id": "d2", "deadline_time": "2026-01-01T00:30:00Z"}}
    result = asyncio.run(on_deadline_missed(target_minutes=30, context=context))
    assert result.endswith("(webhook: failed; e-mail: sent)")
    [message] = alert_email.messages
    assert " ".join(str(message["Subject"]).split()) == (
        "[mlworkflows warning] Deadline missed: mlw_data not finished within 30 min")
    assert "run_id: slow-run" in message.get_content()


@pytest.mark.points(1)
@pytest.mark.hidden
def test_email_to_dead_smtp_server_is_logged_not_raised(free_port: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLWORKFLOWS_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("MLWORKFLOWS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MLWORKFLOWS_SMTP_PORT", str(free_port))
    monkeypatch.setenv("MLWORKFLOWS_ALERT_EMAIL_TO", "oncall@example.com")
    assert send_alert(task_failure_payload({"exception": ValueError("x")})) is False


@pytest.mark.points(2)
@pytest.mark.hidden
def test_alert_to_dead_webhook_is_logged_not_raised(free_port: int) -> None:
    assert send_alert({"text": "x"}, webhook_url=f"http://127.0.0.1:{free_port}/") is False


@pytest.mark.points(3)
def test_model_config_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x1\nmodel_type: logistic_regression\ntrials: [{C: 1, depth: 3}]\n")
    with pytest.raises(ModelConfigError, match=r"broken\.yaml.*unknown hyperparameter\(s\) depth"):
        load_model_config(bad)
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ModelConfigError, match=r"broken\.yaml: invalid YAML at line"):
        load_model_config(bad)
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(Path("configs/cancer_logreg.yaml").read_text())
    bad.unlink()
    with pytest.raises(ModelConfigError, match="already used"):
        load_model_configs(tmp_path)
