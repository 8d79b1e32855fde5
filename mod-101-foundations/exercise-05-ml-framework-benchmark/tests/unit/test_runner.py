"""Runner pieces that need no subprocess: thread environment, skipping missing frameworks."""

import pytest

from mlbench import runner
from mlbench.suite import expand, load_suite


@pytest.mark.points(3)
def test_worker_env_fixes_every_thread_pool() -> None:
    env = runner.worker_env(1, base={"PATH": "/bin"})
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == "1"
    assert "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]
    env4 = runner.worker_env(4, base={"XLA_FLAGS": "--xla_dump_to=/tmp/x"})
    assert env4["OMP_NUM_THREADS"] == "4"
    assert env4["XLA_FLAGS"] == "--xla_dump_to=/tmp/x"  # user flags are kept


@pytest.mark.points(2)
def test_missing_framework_is_skipped_with_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "tensorflow is not installed (install the extra: pip install 'mlbench[tensorflow]')"
    monkeypatch.setattr(runner, "availability", lambda: {
        "tensorflow": {"installed": False, "version": None, "reason": reason}})
    jobs = expand(load_suite(None, {"frameworks": ["tensorflow"], "models": ["cnn"]}))
    seen = []
    results = runner.run_jobs(jobs, on_result=seen.append)
    assert len(results) == len(jobs) == len(seen) == 4
    assert {r.status for r in results} == {"skipped"}
    assert {r.reason for r in results} == {reason}
