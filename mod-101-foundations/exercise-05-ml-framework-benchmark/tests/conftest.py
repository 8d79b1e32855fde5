"""Helpers shared by the tests: synthetic results with known timings."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from mlbench.envinfo import host_fingerprint
from mlbench.models import PRESETS, param_count
from mlbench.results import make_file
from mlbench.schema import Job, Result, ResultsFile
from mlbench.stats import summarize


def synthetic_result(framework: str = "torch", model: str = "cnn", mode: str = "infer",
                     batch_size: int = 8, mean_s: float = 0.01, scale: float = 1.0,
                     seed: int = 0, n: int = 40, scenario: str | None = None) -> Result:
    spec = PRESETS["tiny"][model]
    job = Job(framework=framework, model=model, model_spec=spec.model_dump(),  # type: ignore[arg-type]
              mode=mode, scenario=scenario, batch_size=batch_size, threads=1)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    samples = (mean_s * scale * (1 + 0.02 * rng.standard_normal(n))).tolist()
    s = summarize(samples)
    sc = None
    if scenario == "server":
        sc = {"target_qps": 10.0, "p99_s": s.p99, "latency_bound_s": 0.1, "target_met": True}
    return Result(job=job, key=job.key(), status="ok", param_count=param_count(spec),
                  samples_s=samples, latency=s, throughput=batch_size / s.mean,
                  throughput_ci95=(batch_size / s.ci95_high, batch_size / s.ci95_low),
                  loss_first=2.3 if mode == "train" else None,
                  loss_last=2.0 if mode == "train" else None,
                  memory={"peak_rss_mb": 500.0, "cpu_util_pct": 90.0}, scenario=sc,
                  env=host_fingerprint(1, framework))


@pytest.fixture
def results_factory() -> Callable[..., ResultsFile]:
    """A results file over all frameworks and models, every latency multiplied by `scale`."""
    def make(scale: float = 1.0, seed: int = 0) -> ResultsFile:
        rs = []
        for i, (fw, model, mode) in enumerate(
                (fw, m, mode) for fw in ("torch", "tensorflow", "jax")
                for m in ("cnn", "lstm") for mode in ("train", "infer")):
            rs.append(synthetic_result(fw, model, mode, scale=scale, seed=seed * 100 + i))
        rs.append(synthetic_result("torch", "cnn", scenario="server", batch_size=1,
                                   seed=seed * 100 + 99, scale=scale))
        rs.append(Result(job=rs[0].job.model_copy(update={"framework": "jax", "dtype": "bf16"}),
                         key="jax/cnn/infer/bs8/bf16/t1/cpu/jit", status="skipped",
                         reason="jax is not installed"))
        return make_file(rs, "synthetic")
    return make
