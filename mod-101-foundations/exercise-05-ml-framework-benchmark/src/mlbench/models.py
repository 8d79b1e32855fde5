"""Framework-neutral model specifications and their exact parameter counts.

The three adapters build the same architecture from one `ModelSpec`; the analytic counts here
are what the parity tests compare every framework against. Choices that make the counts equal
by construction: no BatchNorm (frameworks track its statistics differently), biases everywhere,
learned positional embeddings, and a single LSTM bias vector (PyTorch's second one, `bias_hh`,
is zeroed and frozen; see docs/fairness.md).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

ModelName = Literal["cnn", "transformer", "lstm"]
MODEL_NAMES: tuple[ModelName, ...] = ("cnn", "transformer", "lstm")


class CNNSpec(BaseModel):
    """A ResNet-style CNN without BatchNorm: a `stem_kernel` conv (stride `stem_stride`, then
    an optional 3x3/2 max-pool), one stage per entry of `widths` with `blocks` basic residual
    blocks each (two 3x3 convs; every stage after the first halves the resolution in its first
    block, whose shortcut is a 1x1 projection conv when the width or resolution changes),
    global average pooling and a dense head. The default is ResNet-18's layout."""

    model_config = ConfigDict(extra="forbid")
    image_size: int = Field(64, ge=4, le=512)
    in_channels: int = Field(3, ge=1, le=16)
    widths: list[int] = Field(default_factory=lambda: [64, 128, 256, 512], min_length=1,
                              max_length=8)
    blocks: int = Field(2, ge=0, le=64)
    stem_kernel: int = Field(7, ge=1, le=11)
    stem_stride: int = Field(2, ge=1, le=4)
    stem_pool: bool = True
    num_classes: int = Field(10, ge=2, le=10000)

    def model_post_init(self, _context: object) -> None:
        if any(w < 1 or w > 4096 for w in self.widths):
            raise ValueError(f"widths must be between 1 and 4096, got {self.widths}")
        if self.stem_kernel % 2 == 0:
            raise ValueError(f"stem_kernel must be odd, got {self.stem_kernel}")

    def stages(self) -> list[tuple[int, int, int]]:
        """(in_channels, out_channels, stride) of every residual block, in order."""
        out: list[tuple[int, int, int]] = []
        cin = self.widths[0]
        for i, w in enumerate(self.widths):
            for b in range(self.blocks):
                stride = 2 if i > 0 and b == 0 else 1
                out.append((cin, w, stride))
                cin = w
        return out

    def out_width(self) -> int:
        """Channels of the last feature map (the stem's when there are no blocks)."""
        stages = self.stages()
        return stages[-1][1] if stages else self.widths[0]

    @staticmethod
    def needs_projection(cin: int, cout: int, stride: int) -> bool:
        """A block's shortcut is a 1x1 conv (with bias) when its shape changes."""
        return stride != 1 or cin != cout


class TransformerSpec(BaseModel):
    """A pre-norm Transformer encoder classifier with learned positions and mean pooling."""

    model_config = ConfigDict(extra="forbid")
    vocab_size: int = Field(10000, ge=2, le=1_000_000)
    seq_len: int = Field(64, ge=1, le=8192)
    d_model: int = Field(256, ge=2, le=8192)
    heads: int = Field(4, ge=1, le=128)
    ff_dim: int = Field(1024, ge=1, le=32768)
    layers: int = Field(4, ge=1, le=96)
    num_classes: int = Field(10, ge=2, le=10000)

    def model_post_init(self, _context: object) -> None:
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by heads ({self.heads})")


class LSTMSpec(BaseModel):
    """Embedding, `layers` stacked LSTMs (gate order i, f, g, o), dense on the last state."""

    model_config = ConfigDict(extra="forbid")
    vocab_size: int = Field(10000, ge=2, le=1_000_000)
    seq_len: int = Field(64, ge=1, le=8192)
    embed_dim: int = Field(256, ge=1, le=8192)
    hidden: int = Field(256, ge=1, le=8192)
    layers: int = Field(2, ge=1, le=16)
    num_classes: int = Field(10, ge=2, le=10000)


ModelSpec = CNNSpec | TransformerSpec | LSTMSpec

# Size presets: "tiny" keeps tests fast (every code path of the models, a few thousand
# parameters); "small" is the default benchmark suite of realistic small models: ResNet-18's
# layout on 64x64 images (11.2M parameters), a 4-layer d=256 Transformer encoder (5.7M) and a
# 2-layer h=256 LSTM (3.6M); exact counts in the README and tests/unit/test_models.py.
PRESETS: dict[str, dict[str, ModelSpec]] = {
    "tiny": {
        "cnn": CNNSpec.model_validate({"image_size": 16, "widths": [8, 16], "blocks": 1,
                                       "stem_kernel": 3, "stem_stride": 1,
                                       "stem_pool": True}),
        "transformer": TransformerSpec.model_validate(
            {"vocab_size": 200, "seq_len": 16, "d_model": 32, "heads": 2, "ff_dim": 64,
             "layers": 1}),
        "lstm": LSTMSpec.model_validate(
            {"vocab_size": 200, "seq_len": 16, "embed_dim": 32, "hidden": 32, "layers": 1}),
    },
    "small": {
        "cnn": CNNSpec.model_validate({}),
        "transformer": TransformerSpec.model_validate({}),
        "lstm": LSTMSpec.model_validate({}),
    },
}


def spec_for(model: str, size: str = "small", overrides: dict[str, object] | None = None
             ) -> ModelSpec:
    """The spec of `model` at preset `size`, with field `overrides` applied and validated."""
    if model not in MODEL_NAMES:
        raise ValueError(f"unknown model {model!r} (choose from {', '.join(MODEL_NAMES)})")
    if size not in PRESETS:
        raise ValueError(f"unknown size {size!r} (choose from {', '.join(PRESETS)})")
    base = PRESETS[size][model]
    data = base.model_dump() | dict(overrides or {})
    return type(base).model_validate(data)


def param_count(spec: ModelSpec) -> int:
    """Exact trainable parameter count of the architecture, independent of any framework."""
    # BEGIN SOLUTION: count every weight and bias of the CNN, Transformer and LSTM analytically
    if isinstance(spec, CNNSpec):
        k, w0 = spec.stem_kernel, spec.widths[0]
        total = k * k * spec.in_channels * w0 + w0  # pooling and strides add no parameters
        for cin, cout, stride in spec.stages():
            total += (9 * cin * cout + cout) + (9 * cout * cout + cout)
            if spec.needs_projection(cin, cout, stride):
                total += cin * cout + cout
        return total + spec.out_width() * spec.num_classes + spec.num_classes
    if isinstance(spec, TransformerSpec):
        d, f = spec.d_model, spec.ff_dim
        layer = 4 * (d * d + d) + 2 * (2 * d) + (d * f + f) + (f * d + d)
        return (spec.vocab_size * d + spec.seq_len * d + spec.layers * layer + 2 * d
                + d * spec.num_classes + spec.num_classes)
    h = spec.hidden
    total = spec.vocab_size * spec.embed_dim
    for i in range(spec.layers):
        inp = spec.embed_dim if i == 0 else h
        total += 4 * h * inp + 4 * h * h + 4 * h
    return total + h * spec.num_classes + spec.num_classes
    # END SOLUTION


def make_batch(spec: ModelSpec, batch_size: int, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic inputs and labels, identical for every framework (images are NHWC)."""
    # BEGIN SOLUTION: seeded NHWC float32 images or int32 token ids, plus int32 labels
    rng = np.random.default_rng(seed)
    if isinstance(spec, CNNSpec):
        x = rng.standard_normal((batch_size, spec.image_size, spec.image_size,
                                 spec.in_channels)).astype(np.float32)
    else:
        x = rng.integers(0, spec.vocab_size, (batch_size, spec.seq_len)).astype(np.int32)
    y = rng.integers(0, spec.num_classes, (batch_size,)).astype(np.int32)
    return x, y
    # END SOLUTION
