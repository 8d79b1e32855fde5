"""TensorFlow/Keras variant of the CNN workload, profiled with tf.profiler on CPU.

Same phases as the PyTorch trainer: `data` (next element of a tf.data pipeline), `forward`,
`backward` and `optimizer`. Graph mode (tf.function) fuses forward and backward, so each
step runs: a forward-only tf.function (timed: `forward`), the loss + gradients tf.function
(its time minus the forward's: `backward`), and `apply_gradients` (`optimizer`). The extra
forward pass is the price of attributing time inside a fused step; it is left out of the
step time (a real step is data + loss-and-gradients + optimizer).
Recipes: `amp` = Keras mixed precision policy `mixed_bfloat16`; `xla` = `jit_compile=True`
on every tf.function. Active steps run under `tf.profiler.experimental` with a
`tf.profiler.experimental.Trace` range per step; the XPlane trace lands in the run folder.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

TF_RECIPES = ("baseline", "amp", "xla", "amp+xla")


def _quiet_tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf


def build_keras_cnn(tf: Any, widths: tuple[int, ...] = (16, 32, 64)) -> Any:
    """The ResNet-style CNN of workloads.cnn in Keras (GroupNormalization, 3 stages)."""
    keras = tf.keras
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(widths[0], 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.ReLU()(keras.layers.GroupNormalization(8)(x))
    for index, width in enumerate(widths):
        stride = 1 if index == 0 else 2
        y = keras.layers.Conv2D(width, 3, stride, padding="same", use_bias=False)(x)
        y = keras.layers.ReLU()(keras.layers.GroupNormalization(8)(y))
        y = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(y)
        y = keras.layers.GroupNormalization(8)(y)
        short = x
        if stride != 1 or x.shape[-1] != width:
            short = keras.layers.Conv2D(width, 1, stride, use_bias=False)(x)
            short = keras.layers.GroupNormalization(8)(short)
        x = keras.layers.ReLU()(keras.layers.Add()([y, short]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, dtype="float32")(x)  # logits in fp32 (mixed precision)
    return keras.Model(inputs, outputs)


def run_variant(recipe: str, *, steps: int = 6, warmup: int = 2, batch_size: int = 32,
                trace_dir: Path | None = None, seed: int = 0) -> dict[str, Any]:
    """Train `warmup + steps` steps; profile the timed ones when `trace_dir` is given."""
    tf = _quiet_tf()
    amp, xla = "amp" in recipe, "xla" in recipe
    tf.keras.mixed_precision.set_global_policy("mixed_bfloat16" if amp else "float32")
    tf.keras.utils.set_random_seed(seed)
    model = build_keras_cnn(tf)
    optimizer = tf.keras.optimizers.SGD(0.05, momentum=0.9)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    rng = tf.random.Generator.from_seed(seed)
    images = rng.normal((512, 32, 32, 3))
    labels = rng.uniform((512,), 0, 10, dtype=tf.int32)
    data = iter(tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(512, seed=seed)
                .batch(batch_size, drop_remainder=True).repeat().prefetch(2))

    # BEGIN SOLUTION
    @tf.function(jit_compile=xla)
    def forward(x: Any, y: Any) -> Any:
        return loss_fn(y, model(x, training=True))

    @tf.function(jit_compile=xla)
    def forward_backward(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return loss, tape.gradient(loss, model.trainable_variables)

    @tf.function(jit_compile=xla)
    def apply(grads: Any) -> None:
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    def step(number: int) -> dict[str, float]:
        times: dict[str, float] = {}
        start = time.perf_counter()
        with tf.profiler.experimental.Trace("gpuopt/step", step_num=number, _r=1):
            x, y = next(data)
            times["data"] = time.perf_counter() - start
            mark = time.perf_counter()
            forward(x, y).numpy()
            times["forward"] = time.perf_counter() - mark
            mark = time.perf_counter()
            loss, grads = forward_backward(x, y)
            loss_value = float(loss.numpy())
            both = time.perf_counter() - mark
            times["forward"] = min(times["forward"], both)  # a noisy forward-only call
            times["backward"] = both - times["forward"]
            mark = time.perf_counter()
            apply(grads)
            _ = [v.numpy() for v in model.trainable_variables[:1]]
            times["optimizer"] = time.perf_counter() - mark
        # the attribution pass is not part of a real step: leave it out of the step time
        times["total"] = time.perf_counter() - start - times["forward"]
        times["loss"] = loss_value
        return times

    started = time.perf_counter()
    for index in range(warmup):
        step(index)
    warmup_s = time.perf_counter() - started
    if trace_dir is not None:
        tf.profiler.experimental.start(str(trace_dir))
    records = [step(warmup + index) for index in range(steps)]
    if trace_dir is not None:
        tf.profiler.experimental.stop()
    # END SOLUTION
    total = sum(r["total"] for r in records)
    shares = {p: sum(r[p] for r in records) / total
              for p in ("data", "forward", "backward", "optimizer")}
    shares["idle"] = max(0.0, 1.0 - sum(shares.values()))
    policy = tf.keras.mixed_precision.global_policy()
    result = {"recipe": recipe, "median_step_s": statistics.median(r["total"] for r in records),
              "warmup_s": warmup_s, "shares": shares, "loss": records[-1]["loss"],
              "compute_dtype": policy.compute_dtype, "variable_dtype": policy.variable_dtype,
              "jit_compile": xla, "tensorflow": tf.__version__}
    tf.keras.mixed_precision.set_global_policy("float32")
    return result


def run_tf(recipes: list[str], out: Path, *, steps: int = 6, warmup: int = 2) -> dict[str, Any]:
    """Every recipe in turn (TF keeps global state: one variant at a time), traced."""
    from aiinfra_shared.io import atomic_write_json

    from gpuopt.runs import publish_dir

    with publish_dir(out) as staging:
        rows = []
        for recipe in recipes:
            trace_dir = staging / "tfprofile" / recipe.replace("+", "-")
            rows.append(run_variant(recipe, steps=steps, warmup=warmup, trace_dir=trace_dir))
            traces = sorted(str(p.relative_to(staging)) for p in trace_dir.rglob("*.xplane.pb"))
            rows[-1]["traces"] = traces
        base = rows[0]["median_step_s"]
        for row in rows:
            row["speedup"] = base / row["median_step_s"]
        doc = {"schema": "gpuopt-tf/1", "variants": rows}
        atomic_write_json(staging / "tf.json", doc)
    return doc
