from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from modelmon.config import ExporterSettings
from modelmon.demo_model import FEATURES, write_reference
from modelmon.exporter import Exporter, SnapshotCollector
from modelmon.predlog import LabelRecord, PredictionRecord


def samples(exporter: Exporter) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(exporter))
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.points(5)
def test_exporter_counts_and_skips_malformed_lines(tmp_path: Path) -> None:
    ref = tmp_path / "ref.json"
    write_reference(ref)
    settings = ExporterSettings(prediction_log=tmp_path / "p.jsonl",
                                label_log=tmp_path / "l.jsonl", references=[ref],
                                min_samples=2, min_labels=2)
    features = {name: 0.1 for name in FEATURES}
    lines = [PredictionRecord(f"id{i}", 1000.0, "churn", "v1", features, 1, 0.9).to_json()
             for i in range(3)]
    lines.insert(1, "garbage {")
    lines.insert(2, '{"id": "x"}')
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "l.jsonl").write_text(
        "\n".join([LabelRecord("id0", 1001.0, 1).to_json(), LabelRecord("id1", 1001.0, 0)
                   .to_json(), "[]"]) + "\n")
    exporter = Exporter.from_settings(settings)
    exporter.clock = lambda: 1010.0
    snap = exporter.step()
    assert snap.malformed == {"predictions": 2, "labels": 1}
    got = samples(exporter)
    assert got[("modelmon_exporter_malformed_lines_total", (("log", "predictions"),))] == 2
    assert got[("modelmon_exporter_malformed_lines_total", (("log", "labels"),))] == 1
    mv = (("model", "churn"), ("version", "v1"))
    assert got[("modelmon_window_predictions", mv)] == 3
    assert got[("modelmon_model_accuracy", mv)] == 0.5
    assert got[("modelmon_model_baseline", (("metric", "accuracy"), *mv))] > 0.85
    assert ("modelmon_feature_psi", (("feature", "f0"), *mv)) in got
    # appended lines are picked up incrementally, not re-read
    with (tmp_path / "p.jsonl").open("a") as handle:
        handle.write(PredictionRecord("id9", 1002.0, "churn", "v1", features, 0, 0.2)
                     .to_json() + "\n")
    exporter.step()
    assert samples(exporter)[("modelmon_window_predictions", mv)] == 4
    assert samples(exporter)[("modelmon_exporter_predictions_ingested_total", ())] == 4


@pytest.mark.points(2)
def test_business_kpis_from_delayed_outcomes(tmp_path: Path) -> None:
    """Outcome rate (conversion / churn) and value per prediction from the label log."""
    ref = tmp_path / "ref.json"
    write_reference(ref)
    settings = ExporterSettings(prediction_log=tmp_path / "p.jsonl",
                                label_log=tmp_path / "l.jsonl", references=[ref],
                                min_samples=2, min_labels=4)
    features = {name: 0.1 for name in FEATURES}
    (tmp_path / "p.jsonl").write_text("".join(
        PredictionRecord(f"id{i}", 1000.0, "churn", "v1", features, 1, 0.9).to_json() + "\n"
        for i in range(6)))
    # outcomes 1, 0, 0, 1 with values 0, 30, 30, (none reported); id4/id5 have no outcome yet
    outcomes = [LabelRecord("id0", 1001.0, 1, value=0.0), LabelRecord("id1", 1001.0, 0, value=30.0),
                LabelRecord("id2", 1001.0, 0, value=30.0), LabelRecord("id3", 1001.0, 1)]
    (tmp_path / "l.jsonl").write_text("".join(o.to_json() + "\n" for o in outcomes[:3]))
    exporter = Exporter.from_settings(settings)
    exporter.clock = lambda: 1010.0
    exporter.step()
    mv = (("model", "churn"), ("version", "v1"))
    got = samples(exporter)
    assert ("modelmon_business_outcome_rate", mv) not in got  # 3 outcomes < min_labels
    with (tmp_path / "l.jsonl").open("a") as handle:
        handle.write(outcomes[3].to_json() + "\n")
    exporter.step()
    got = samples(exporter)
    assert got[("modelmon_business_outcome_rate", mv)] == 0.5
    assert got[("modelmon_business_value_per_prediction", mv)] == 20.0  # 60 over 3 reported
