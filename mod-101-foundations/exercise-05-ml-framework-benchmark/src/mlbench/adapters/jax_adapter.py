# mypy: disable-error-code="no-any-return"
"""JAX adapter: hand-written parameter pytrees (so the layout matches the other two exactly),
optax Adam, `jax.jit` on or off, bf16 compute with fp32 master weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from mlbench.adapters.base import UnsupportedJobError, Workload
from mlbench.models import CNNSpec, LSTMSpec, ModelSpec, TransformerSpec
from mlbench.schema import Job

Params = dict[str, Any]


def setup(threads: int, device: str) -> dict[str, str]:
    """Threads are set by the worker through XLA_FLAGS before import; here: the device."""
    info = {"jax_backend": jax.default_backend(), "xla_flags": _xla_flags()}
    if device == "gpu":
        try:
            gpus = jax.devices("gpu")
        except RuntimeError as exc:
            raise UnsupportedJobError(f"jax: no GPU backend ({exc})") from exc
        info["device_name"] = str(gpus[0].device_kind)
    return info


def _xla_flags() -> str:
    import os

    return os.environ.get("XLA_FLAGS", "")


# Initial weights come from a seeded numpy generator: jax.random's counter-based generator
# costs seconds per million values on one busy CPU core (12 s for the 11M-parameter CNN, once
# per job), numpy a fraction of that. Initialisation is untimed either way.
def _dense(rng: np.random.Generator, fan_in: int, fan_out: int) -> Params:
    lim = math.sqrt(6.0 / (fan_in + fan_out))  # Glorot uniform, Keras' default
    return {"w": rng.uniform(-lim, lim, (fan_in, fan_out)).astype(np.float32),
            "b": np.zeros((fan_out,), np.float32)}


def _conv(rng: np.random.Generator, cin: int, cout: int, k: int = 3) -> Params:
    lim = math.sqrt(6.0 / (k * k * cin + k * k * cout))
    return {"w": rng.uniform(-lim, lim, (k, k, cin, cout)).astype(np.float32),
            "b": np.zeros((cout,), np.float32)}


def _normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    return (rng.standard_normal(shape) * std).astype(np.float32)


def _ln(d: int) -> Params:
    return {"g": np.ones((d,), np.float32), "b": np.zeros((d,), np.float32)}


def init_params(spec: ModelSpec, seed: int) -> Params:
    """The parameter pytree (numpy float32 leaves; `build` puts them on the device)."""
    # BEGIN SOLUTION: build the parameter pytree with exactly the counts of param_count
    rng = np.random.default_rng(seed)
    if isinstance(spec, CNNSpec):
        blocks = []
        for cin, cout, stride in spec.stages():
            blk = {"c1": _conv(rng, cin, cout), "c2": _conv(rng, cout, cout)}
            if spec.needs_projection(cin, cout, stride):
                blk["proj"] = _conv(rng, cin, cout, 1)
            blocks.append(blk)
        return {"stem": _conv(rng, spec.in_channels, spec.widths[0], spec.stem_kernel),
                "blocks": blocks, "head": _dense(rng, spec.out_width(), spec.num_classes)}
    if isinstance(spec, TransformerSpec):
        d = spec.d_model
        return {"emb": _normal(rng, (spec.vocab_size, d), 0.05),
                "pos": _normal(rng, (spec.seq_len, d), 0.02),
                "layers": [{"ln1": _ln(d), "q": _dense(rng, d, d),
                            "k": _dense(rng, d, d), "v": _dense(rng, d, d),
                            "o": _dense(rng, d, d), "ln2": _ln(d),
                            "ff1": _dense(rng, d, spec.ff_dim),
                            "ff2": _dense(rng, spec.ff_dim, d)}
                           for _ in range(spec.layers)],
                "ln": _ln(d), "head": _dense(rng, d, spec.num_classes)}
    assert isinstance(spec, LSTMSpec)
    h = spec.hidden
    lstm = []
    for i in range(spec.layers):
        inp = spec.embed_dim if i == 0 else h
        lstm.append({"wi": _dense(rng, inp, 4 * h)["w"],
                     "wh": _dense(rng, h, 4 * h)["w"],
                     "b": np.zeros((4 * h,), np.float32)})
    return {"emb": _normal(rng, (spec.vocab_size, spec.embed_dim), 0.05),
            "lstm": lstm, "head": _dense(rng, h, spec.num_classes)}
    # END SOLUTION


def count_params(params: Params) -> int:
    return int(sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(params)))


def _layer_norm(p: Params, x: jax.Array) -> jax.Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) * lax.rsqrt(var + 1e-5) * p["g"] + p["b"]


def _apply_dense(p: Params, x: jax.Array) -> jax.Array:
    return x @ p["w"] + p["b"]


def make_apply(spec: ModelSpec) -> Callable[[Params, jax.Array], jax.Array]:
    """The forward function (params, inputs) -> logits for `spec`."""
    # BEGIN SOLUTION: return the forward function (params, inputs) -> logits for the spec
    if isinstance(spec, CNNSpec):
        strides = [st for _, _, st in spec.stages()]
        stem_stride, stem_pool = spec.stem_stride, spec.stem_pool

        def conv(p: Params, x: jax.Array, stride: int = 1) -> jax.Array:
            return lax.conv_general_dilated(x, p["w"], (stride, stride), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC")) + p["b"]

        def cnn(p: Params, x: jax.Array) -> jax.Array:
            h = jax.nn.relu(conv(p["stem"], x, stem_stride))
            if stem_pool:  # 3x3 max-pool, stride 2, "same" padding (as Keras)
                # A scalar -inf init lets JAX recognise the max monoid (differentiable).
                h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")
            for blk, st in zip(p["blocks"], strides, strict=True):
                short = conv(blk["proj"], h, st) if "proj" in blk else h
                h = jax.nn.relu(short + conv(blk["c2"], jax.nn.relu(conv(blk["c1"], h, st))))
            return _apply_dense(p["head"], h.mean(axis=(1, 2)))

        return cnn
    if isinstance(spec, TransformerSpec):
        heads = spec.heads

        def attention(p: Params, x: jax.Array) -> jax.Array:
            b, s, d = x.shape
            split = (b, s, heads, d // heads)
            q = _apply_dense(p["q"], x).reshape(split)
            k = _apply_dense(p["k"], x).reshape(split)
            v = _apply_dense(p["v"], x).reshape(split)
            w = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(d // heads)
            w = jax.nn.softmax(w.astype(jnp.float32), axis=-1).astype(x.dtype)
            out = jnp.einsum("bhqk,bkhd->bqhd", w, v).reshape(b, s, d)
            return _apply_dense(p["o"], out)

        def encoder(p: Params, x: jax.Array) -> jax.Array:
            h = p["emb"][x] + p["pos"]
            for lyr in p["layers"]:
                h = h + attention(lyr, _layer_norm(lyr["ln1"], h))
                f = jax.nn.relu(_apply_dense(lyr["ff1"], _layer_norm(lyr["ln2"], h)))
                h = h + _apply_dense(lyr["ff2"], f)
            return _apply_dense(p["head"], _layer_norm(p["ln"], h).mean(axis=1))

        return encoder

    def lstm_net(p: Params, x: jax.Array) -> jax.Array:
        h_seq = p["emb"][x]  # (batch, time, features)
        for lyr in p["lstm"]:
            hidden = lyr["wh"].shape[0]
            xs = jnp.swapaxes(h_seq @ lyr["wi"] + lyr["b"], 0, 1)  # input projection, hoisted
            carry0 = (jnp.zeros((x.shape[0], hidden), h_seq.dtype),) * 2

            def cell(carry: tuple[jax.Array, jax.Array], xt: jax.Array, wh: jax.Array = lyr["wh"]
                     ) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
                h, c = carry
                i, f, g, o = jnp.split(xt + h @ wh, 4, axis=-1)  # gate order i, f, g, o
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
                return (h, c), h

            _, hs = lax.scan(cell, carry0, xs)
            h_seq = jnp.swapaxes(hs, 0, 1)
        return _apply_dense(p["head"], h_seq[:, -1])

    return lstm_net
    # END SOLUTION


def matmul_dtype(fn: Callable[..., Any], *args: Any) -> str | None:
    """The dtype the first convolution / matrix product of `fn` computes in (from its jaxpr),
    i.e. what bf16 actually changed, not what was asked for."""
    def search(jaxpr: Any) -> str | None:
        for eqn in jaxpr.eqns:
            if eqn.primitive.name in {"conv_general_dilated", "dot_general"}:
                return str(eqn.invars[0].aval.dtype)
            for param in eqn.params.values():  # scan / cond / pjit bodies (the LSTM)
                inner = getattr(param, "jaxpr", None)
                found = search(getattr(inner, "jaxpr", inner)) if inner is not None else None
                if found:
                    return found
        return None

    return search(jax.make_jaxpr(fn)(*args).jaxpr)


def build(job: Job, spec: ModelSpec, x: np.ndarray, y: np.ndarray) -> Workload:
    device = jax.devices("gpu" if job.device == "gpu" else "cpu")[0]
    params = jax.device_put(init_params(spec, job.seed), device)
    count = count_params(params)
    apply = make_apply(spec)
    compute = jnp.bfloat16 if job.dtype == "bf16" else jnp.float32
    xj = jax.device_put(jnp.asarray(x), device)
    yj = jax.device_put(jnp.asarray(y), device)

    traces = {"n": 0}
    # Shapes and dtypes only: the train step donates (deletes) the parameter buffers.
    shapes = jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), params)  # type: ignore[no-untyped-call]

    def logits_fn(p: Params, inp: jax.Array) -> jax.Array:
        traces["n"] += 1  # under jax.jit this Python body runs once (tracing), eager: each step
        if compute != jnp.float32:  # fp32 master weights, bf16 compute (mixed precision)
            p = jax.tree_util.tree_map(lambda a: a.astype(compute), p)
            if jnp.issubdtype(inp.dtype, jnp.floating):
                inp = inp.astype(compute)
        return apply(p, inp).astype(jnp.float32)

    def sync(out: Any) -> None:
        jax.block_until_ready(out)  # type: ignore[no-untyped-call]

    peak_at_start: dict[str, float] = {}

    def device_peak() -> float | None:
        if job.device != "gpu":
            return None
        peak = (device.memory_stats() or {}).get("peak_bytes_in_use")
        return float(peak) / 2**20 if peak is not None else None

    def reset_mem() -> None:
        # XLA keeps no resettable peak (process lifetime): remember it, so that peak_mem can
        # tell whether this job set a new one (then it is this job's) or stayed below it.
        start = device_peak()
        if start is not None:
            peak_at_start["mb"] = start

    def peak_mem() -> float | None:
        peak = device_peak()
        if peak is None or peak <= peak_at_start.get("mb", -1.0):
            return None  # below an earlier job's peak: not attributable (use --isolate-jobs)
        return peak

    def applied() -> dict[str, Any]:
        n = traces["n"]  # before make_jaxpr below traces the function once more
        return {"compute_dtype": matmul_dtype(logits_fn, shapes, xj),
                "param_dtype": str(jax.tree_util.tree_leaves(shapes)[0].dtype),
                "compiled": bool(job.jit) and n == 1, "traces": n}

    if job.mode == "infer":
        infer_fn = jax.jit(logits_fn) if job.jit else logits_fn

        def infer() -> Any:
            return infer_fn(params, xj)

        return Workload(count, infer, sync, reset_device_memory=reset_mem,
                        device_memory_peak_mb=peak_mem, applied=applied)

    opt = optax.adam(job.learning_rate, eps=1e-8)
    state = {"params": params, "opt": opt.init(params)}

    def loss_fn(p: Params, inp: jax.Array, labels: jax.Array) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(logits_fn(p, inp), labels).mean()

    def step(p: Params, o: Any, inp: jax.Array, labels: jax.Array) -> tuple[Params, Any, Any]:
        loss, grads = jax.value_and_grad(loss_fn)(p, inp, labels)
        updates, o = opt.update(grads, o, p)
        return optax.apply_updates(p, updates), o, loss

    step_fn = jax.jit(step, donate_argnums=(0, 1)) if job.jit else step

    def train() -> Any:
        state["params"], state["opt"], loss = step_fn(state["params"], state["opt"], xj, yj)
        return loss

    return Workload(count, train, sync, loss_of=lambda out: float(out),
                    reset_device_memory=reset_mem, device_memory_peak_mb=peak_mem,
                    applied=applied)
