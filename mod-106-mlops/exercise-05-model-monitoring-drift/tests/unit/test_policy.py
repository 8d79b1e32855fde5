"""The retraining policy: persistence over N windows, drops, cooldown, stable decision ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from driftwatch.analysis import WindowResult
from driftwatch.errors import ConfigurationError, InsufficientDataError
from driftwatch.policy import Policy, decide

T0 = pd.Timestamp("2026-03-01", tz="UTC")


def _result(day: int, share: float | None = 0.0, realized: float | None = None,
            estimated: float = 0.80, status: str = "ok") -> WindowResult:
    return WindowResult(
        model="m", version="1", window_id=f"d{day}",
        start=(T0 + pd.Timedelta(days=day)).isoformat(),
        end=(T0 + pd.Timedelta(days=day + 1)).isoformat(), rows=1000, status=status,
        reference_hash="sha256:x", as_of=T0.isoformat(), drifted_share=share,
        drifted_columns=["a"] if share else [],
        realized=None if realized is None else {"accuracy": realized},
        estimated={"accuracy": estimated}, reference_performance={"accuracy": 0.80})


POLICY = Policy(drifted_share=0.3, consecutive_windows=2, max_realized_drop=0.05,
                max_estimated_drop=0.05, cooldown_hours=48)


@pytest.mark.points(3)
def test_drift_must_persist_for_n_windows() -> None:
    one = decide([_result(0), _result(1, 0.5)], POLICY)
    assert one.action == "none" and one.reasons == []
    two = decide([_result(0, 0.5), _result(1, 0.4)], POLICY)
    assert two.action == "retrain" and two.reasons[0].startswith("data drift")
    interrupted = decide([_result(0, 0.5), _result(1, 0.1), _result(2, 0.5)], POLICY)
    assert interrupted.action == "none"


@pytest.mark.points(2)
def test_realized_and_estimated_drops_trigger() -> None:
    realized = decide([_result(0, realized=0.74), _result(1)], POLICY)
    assert realized.action == "retrain"
    assert realized.reasons == ["realized drop: accuracy 0.060 below reference (window d0)"]
    estimated = decide([_result(0, estimated=0.70)], POLICY)
    assert [r.split(":")[0] for r in estimated.reasons] == ["estimated drop"]
    assert decide([_result(0, realized=0.77, estimated=0.78)], POLICY).action == "none"


@pytest.mark.points(3)
def test_decision_id_is_stable_and_cooldown_suppresses_a_second_trigger() -> None:
    history = [_result(0, estimated=0.70)]
    first, again = decide(history, POLICY), decide(history, POLICY)
    assert first.id == again.id and first.id.startswith("driftwatch-")
    first.triggered = True
    next_day = decide([*history, _result(1, estimated=0.70)], POLICY, [first])
    assert next_day.id != first.id and next_day.action == "cooldown"
    later = decide([*history, _result(3, estimated=0.70)], POLICY, [first])
    assert later.action == "retrain"  # 3 days later: the 48 h cooldown is over
    untriggered = decide([*history, _result(1, estimated=0.70)], POLICY, [again])
    assert untriggered.action == "retrain"  # a failed trigger does not start a cooldown


@pytest.mark.points(1)
def test_only_insufficient_windows_is_no_decision() -> None:
    with pytest.raises(InsufficientDataError, match="insufficient data"):
        decide([_result(0, None, status="insufficient data")], POLICY)


@pytest.mark.points(1)
def test_policy_file_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("drifted_share: 2\n")
    with pytest.raises(ConfigurationError, match=r"policy\.yaml: drifted_share"):
        Policy.load(path)
    path.write_text("drifted_share: 0.2\nconsecutive_windows: 3\ncooldown_hours: 0\n")
    assert Policy.load(path).consecutive_windows == 3
