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


@pytest.mark.points(3)
def test_restarted_exporter_resumes_the_logs_instead_of_rereading_them(tmp_path: Path) -> None:
    """The read offsets are persisted with the file's inode: a new exporter process picks
    up at the last consumed line, so counters and windows see each line once."""
    ref = tmp_path / "ref.json"
    write_reference(ref)
    settings = ExporterSettings(prediction_log=tmp_path / "p.jsonl",
                                label_log=tmp_path / "l.jsonl", references=[ref],
                                state_dir=tmp_path / "state", min_samples=2, min_labels=2)
    features = {name: 0.1 for name in FEATURES}

    def append(path: Path, lines: list[str], tail: str = "") -> None:
        with path.open("a") as handle:
            handle.write("".join(line + "\n" for line in lines) + tail)

    append(settings.prediction_log, [PredictionRecord(f"id{i}", 1000.0, "churn", "v1",
                                                      features, 1, 0.9).to_json()
                                     for i in range(5)])
    append(settings.label_log, [LabelRecord("id0", 1001.0, 1).to_json()],
           tail='{"id": "id1", "ts": 1001.0,')  # a label line still being written
    first = Exporter.from_settings(settings)
    first.clock = lambda: 1010.0
    first.step()
    assert samples(first)[("modelmon_exporter_predictions_ingested_total", ())] == 5
    first.stop()
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == [
        "l.jsonl.offset.json", "p.jsonl.offset.json"]
    # while it was down: the label line is completed, two more predictions are written
    append(settings.label_log, [' "label": 0}'])
    append(settings.prediction_log, [PredictionRecord(f"id{i}", 1000.0, "churn", "v1",
                                                      features, 1, 0.9).to_json()
                                     for i in (5, 6)])
    second = Exporter.from_settings(settings)
    second.clock = lambda: 1011.0
    snap = second.step()
    got = samples(second)
    assert got[("modelmon_exporter_predictions_ingested_total", ())] == 2  # not 7
    assert snap.malformed == {"predictions": 0, "labels": 0}  # resumed at a line start
    mv = (("model", "churn"), ("version", "v1"))
    assert got[("modelmon_window_predictions", mv)] == 2
    # the completed label refers to a prediction read before the restart: pending, not lost
    assert second.windows.pending_labels.keys() == {"id1"}
    assert second.windows.counters.labels_joined == 0
