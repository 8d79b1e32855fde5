# mypy: disable-error-code="no-any-return"
"""TensorFlow/Keras adapter: tf.function graphs, XLA (`jit_compile`) on or off, mixed bf16.

"jit off" means a tf.function graph without XLA (Keras' own default for `fit`), not eager
execution: eager Python dispatch would measure the interpreter, not the framework.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from mlbench.adapters.base import UnsupportedJobError, Workload
from mlbench.models import CNNSpec, LSTMSpec, ModelSpec, TransformerSpec
from mlbench.schema import Job

layers = keras.layers


def setup(threads: int, device: str) -> dict[str, str]:
    """Thread pools must be set before TF runs its first op."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(threads, 2)))
    except RuntimeError:  # already initialised in this process
        pass
    info = {"tf_intra_op_threads": str(tf.config.threading.get_intra_op_parallelism_threads()),
            "keras_version": keras.__version__}
    if device == "gpu":
        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            raise UnsupportedJobError("tensorflow: no GPU visible (CPU-only build or no CUDA)")
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
        details = tf.config.experimental.get_device_details(gpus[0])
        info["device_name"] = str(details.get("device_name", "GPU"))
    return info


class PositionEmbedding(keras.layers.Layer):  # type: ignore[misc]
    """A learned (seq_len, d_model) table added to the token embeddings."""

    def build(self, input_shape: tuple[int, ...]) -> None:
        self.pos = self.add_weight(shape=(input_shape[1], input_shape[2]),
                                   initializer=keras.initializers.RandomNormal(stddev=0.02),
                                   name="pos")

    def call(self, x: Any) -> Any:
        return x + keras.ops.cast(self.pos, x.dtype)


def make_model(spec: ModelSpec) -> keras.Model:
    # BEGIN SOLUTION: build the CNN, pre-norm Transformer or LSTM of the spec with Keras layers
    if isinstance(spec, CNNSpec):
        inp = keras.Input((spec.image_size, spec.image_size, spec.in_channels))
        h = layers.Conv2D(spec.widths[0], spec.stem_kernel, strides=spec.stem_stride,
                          padding="same", activation="relu")(inp)
        if spec.stem_pool:
            h = layers.MaxPooling2D(3, 2, padding="same")(h)
        for cin, cout, stride in spec.stages():
            r = layers.Conv2D(cout, 3, strides=stride, padding="same", activation="relu")(h)
            r = layers.Conv2D(cout, 3, padding="same")(r)
            short = (layers.Conv2D(cout, 1, strides=stride)(h)
                     if spec.needs_projection(cin, cout, stride) else h)
            h = layers.ReLU()(layers.Add()([short, r]))
        h = layers.GlobalAveragePooling2D()(h)
        return keras.Model(inp, layers.Dense(spec.num_classes, dtype="float32")(h))
    if isinstance(spec, TransformerSpec):
        inp = keras.Input((spec.seq_len,), dtype="int32")
        h = layers.Embedding(spec.vocab_size, spec.d_model)(inp)
        h = PositionEmbedding()(h)
        for _ in range(spec.layers):
            a = layers.LayerNormalization(epsilon=1e-5)(h)
            a = layers.MultiHeadAttention(spec.heads, spec.d_model // spec.heads)(a, a)
            h = layers.Add()([h, a])
            f = layers.LayerNormalization(epsilon=1e-5)(h)
            f = layers.Dense(spec.ff_dim, activation="relu")(f)
            f = layers.Dense(spec.d_model)(f)
            h = layers.Add()([h, f])
        h = layers.LayerNormalization(epsilon=1e-5)(h)
        h = layers.GlobalAveragePooling1D()(h)
        return keras.Model(inp, layers.Dense(spec.num_classes, dtype="float32")(h))
    assert isinstance(spec, LSTMSpec)
    inp = keras.Input((spec.seq_len,), dtype="int32")
    h = layers.Embedding(spec.vocab_size, spec.embed_dim)(inp)
    for i in range(spec.layers):
        h = layers.LSTM(spec.hidden, return_sequences=i < spec.layers - 1)(h)
    return keras.Model(inp, layers.Dense(spec.num_classes, dtype="float32")(h))
    # END SOLUTION


def trainable_params(model: keras.Model) -> int:
    return int(sum(int(np.prod(v.shape)) for v in model.trainable_variables))


def build(job: Job, spec: ModelSpec, x: np.ndarray, y: np.ndarray) -> Workload:
    keras.utils.set_random_seed(job.seed)
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16" if job.dtype == "bf16"
                                           else "float32")
    dev = "/GPU:0" if job.device == "gpu" else "/CPU:0"
    with tf.device(dev):
        model = make_model(spec)
        xt = tf.constant(x)
        yt = tf.constant(y)
    count = trainable_params(model)
    on_gpu = job.device == "gpu"

    def sync(out: Any) -> None:
        if on_gpu:
            tf.test.experimental.sync_devices()
        else:  # a tf.function on CPU returns when its kernels are done; touch the result
            np.asarray(out)

    def reset_mem() -> None:
        if on_gpu:
            tf.config.experimental.reset_memory_stats("GPU:0")

    def peak_mem() -> float | None:
        if not on_gpu:
            return None
        return float(tf.config.experimental.get_memory_info("GPU:0")["peak"]) / 2**20

    def applied_by(fn: Any, *args: Any) -> Callable[[], dict[str, Any]]:
        def applied() -> dict[str, Any]:
            # The graph TF runs carries _XlaMustCompile when XLA compiles it.
            attr = fn.get_concrete_function(*args).function_def.attr.get("_XlaMustCompile")
            return {"compute_dtype": str(model.dtype_policy.compute_dtype),
                    "param_dtype": str(getattr(model.trainable_variables[0].dtype, "name",
                                               model.trainable_variables[0].dtype)),
                    "compiled": bool(attr is not None and attr.b),
                    "traces": int(fn.experimental_get_tracing_count())}
        return applied

    if job.mode == "infer":
        @tf.function(jit_compile=job.jit)
        def infer_fn(inp: tf.Tensor) -> tf.Tensor:
            return model(inp, training=False)

        def infer() -> Any:
            with tf.device(dev):
                return infer_fn(xt)

        return Workload(count, infer, sync, reset_device_memory=reset_mem,
                        device_memory_peak_mb=peak_mem, applied=applied_by(infer_fn, xt))

    opt = keras.optimizers.Adam(learning_rate=job.learning_rate, epsilon=1e-8)
    opt.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=job.jit)
    def train_fn(inp: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            logits = model(inp, training=True)
            loss = loss_fn(labels, tf.cast(logits, tf.float32))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    def train() -> Any:
        with tf.device(dev):
            return train_fn(xt, yt)

    return Workload(count, train, sync, loss_of=lambda out: float(np.asarray(out)),
                    reset_device_memory=reset_mem, device_memory_peak_mb=peak_mem,
                    applied=applied_by(train_fn, xt, yt))
