"""The Keras CNN: tf.profiler traces, the same phase split, mixed_bfloat16 and XLA measured."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.points(4)
def test_tensorflow_cnn_profiled_with_amp_and_xla(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "gpuopt"
    out = tmp_path / "tf"
    proc = subprocess.run([str(exe), "tf", "--recipes", "baseline,amp,xla", "--steps", "2",
                           "--warmup", "1", "--out", str(out), "--json"],
                          capture_output=True, text=True, check=False, timeout=400)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((out / "tf.json").read_text())
    rows = {r["recipe"]: r for r in doc["variants"]}
    assert list(rows) == ["baseline", "amp", "xla"]
    assert rows["baseline"]["compute_dtype"] == "float32"
    assert rows["amp"]["compute_dtype"] == "bfloat16" and rows["amp"]["variable_dtype"] == "float32"
    assert rows["xla"]["jit_compile"] and not rows["baseline"]["jit_compile"]
    for row in rows.values():
        assert row["traces"] and (out / row["traces"][0]).stat().st_size > 0  # XPlane trace
        shares = row["shares"]
        assert shares["forward"] > 0 and shares["backward"] > 0 and shares["optimizer"] > 0
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-6)
        assert math.isfinite(row["loss"]) and row["median_step_s"] > 0
    assert rows["baseline"]["speedup"] == pytest.approx(1.0)
    bad = subprocess.run([str(exe), "tf", "--recipes", "tpu"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 4 and "unknown TensorFlow recipe" in bad.stderr
