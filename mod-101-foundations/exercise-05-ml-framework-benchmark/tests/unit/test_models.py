"""Model specs: exact analytic parameter counts and identical synthetic data."""

import numpy as np
import pytest
from pydantic import ValidationError

from mlbench.models import (
    PRESETS,
    CNNSpec,
    LSTMSpec,
    TransformerSpec,
    make_batch,
    param_count,
    spec_for,
)


@pytest.mark.points(3)
def test_cnn_count_by_hand() -> None:
    spec = CNNSpec(image_size=8, in_channels=3, widths=[4, 6], blocks=1, stem_kernel=3,
                   stem_stride=1, stem_pool=False, num_classes=5)
    stem = 3 * 3 * 3 * 4 + 4  # 112
    stage1 = 2 * (3 * 3 * 4 * 4 + 4)  # 296, same shape: identity shortcut
    stage2 = (3 * 3 * 4 * 6 + 6) + (3 * 3 * 6 * 6 + 6) + (4 * 6 + 6)  # 1x1 projection: 30
    head = 6 * 5 + 5  # 35
    assert param_count(spec) == stem + stage1 + stage2 + head == 1025


# The default suite's models with their exact trainable parameter counts (README, "Models").
DEFAULT_COUNTS = {"cnn": 11_176_842, "transformer": 5_738_506, "lstm": 3_613_194}


@pytest.mark.points(3)
def test_default_models_are_realistic_small_models() -> None:
    """The default ("small") suite: ResNet-18's layout on 64x64 images, a 4-layer d=256
    Transformer encoder and a 2-layer h=256 LSTM, each with millions of parameters."""
    cnn, tr, lstm = (PRESETS["small"][m] for m in ("cnn", "transformer", "lstm"))
    assert isinstance(cnn, CNNSpec) and isinstance(tr, TransformerSpec)
    assert isinstance(lstm, LSTMSpec)
    assert (cnn.image_size, cnn.widths, cnn.blocks) == (64, [64, 128, 256, 512], 2)
    assert (cnn.stem_kernel, cnn.stem_stride, cnn.stem_pool) == (7, 2, True)  # ResNet stem
    assert (tr.layers, tr.d_model, tr.heads, tr.ff_dim) == (4, 256, 4, 1024)
    assert (lstm.layers, lstm.hidden) == (2, 256)
    assert {m: param_count(PRESETS["small"][m]) for m in DEFAULT_COUNTS} == DEFAULT_COUNTS
    # ResNet-18 (torchvision, 10 classes) has 11,181,642 parameters with BatchNorm and
    # bias-free convs; ours has conv biases instead of BatchNorm's scale and shift.
    assert abs(DEFAULT_COUNTS["cnn"] - 11_181_642) / 11_181_642 < 0.001
    assert spec_for("cnn") == cnn and CNNSpec() == cnn  # the defaults are the suite's


@pytest.mark.points(1)
@pytest.mark.hidden
def test_cnn_strides_and_pooling_add_no_parameters() -> None:
    plain = CNNSpec(widths=[8, 8], blocks=1, stem_kernel=3, stem_stride=1, stem_pool=False)
    strided = plain.model_copy(update={"stem_stride": 2, "stem_pool": True, "image_size": 32})
    # Stage 2 keeps the width but halves the resolution: it still needs the 1x1 projection.
    assert [CNNSpec.needs_projection(*b) for b in plain.stages()] == [False, True]
    assert param_count(strided) == param_count(plain)
    assert param_count(plain) == (9 * 3 * 8 + 8) + 2 * 2 * (9 * 64 + 8) + (64 + 8) + 8 * 10 + 10
    # No blocks: the head reads the stem's channels.
    stem_only = CNNSpec(widths=[8, 16], blocks=0, stem_kernel=3)
    assert param_count(stem_only) == (9 * 3 * 8 + 8) + 8 * 10 + 10
    with pytest.raises(ValidationError, match="odd"):
        CNNSpec(stem_kernel=4)
    with pytest.raises(ValidationError):
        CNNSpec(widths=[])


@pytest.mark.points(3)
def test_transformer_count_by_hand() -> None:
    spec = TransformerSpec(vocab_size=10, seq_len=3, d_model=4, heads=2, ff_dim=8, layers=1,
                           num_classes=2)
    emb, pos = 10 * 4, 3 * 4
    attn = 4 * (4 * 4 + 4)  # q, k, v, out projections with bias
    norms = 2 * (2 * 4)
    ff = (4 * 8 + 8) + (8 * 4 + 4)
    final = 2 * 4 + (4 * 2 + 2)
    assert param_count(spec) == emb + pos + attn + norms + ff + final


@pytest.mark.points(3)
def test_lstm_count_by_hand_single_bias() -> None:
    spec = LSTMSpec(vocab_size=10, seq_len=3, embed_dim=4, hidden=3, layers=2, num_classes=2)
    layer1 = 4 * 3 * 4 + 4 * 3 * 3 + 4 * 3
    layer2 = 4 * 3 * 3 + 4 * 3 * 3 + 4 * 3
    assert param_count(spec) == 10 * 4 + layer1 + layer2 + 3 * 2 + 2


@pytest.mark.points(1)
def test_spec_for_applies_and_validates_overrides() -> None:
    assert spec_for("cnn", "tiny", {"widths": [12]}).widths == [12]  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="unknown model"):
        spec_for("mlp")
    with pytest.raises(ValueError, match="unknown size"):
        spec_for("cnn", "huge")
    with pytest.raises(ValidationError, match="divisible"):
        spec_for("transformer", "tiny", {"d_model": 30, "heads": 4})
    with pytest.raises(ValidationError):
        spec_for("lstm", "tiny", {"bogus": 1})


@pytest.mark.points(1)
@pytest.mark.parametrize("model", ["cnn", "transformer", "lstm"])
def test_make_batch_is_deterministic_and_shaped(model: str) -> None:
    spec = PRESETS["tiny"][model]
    x1, y1 = make_batch(spec, 3, seed=5)
    x2, y2 = make_batch(spec, 3, seed=5)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert x1.shape[0] == 3 and y1.shape == (3,)
    assert y1.max() < spec.num_classes
    if model == "cnn":
        assert x1.shape == (3, 16, 16, 3) and x1.dtype == np.float32  # NHWC
    else:
        assert x1.dtype == np.int32 and x1.max() < spec.vocab_size  # type: ignore[union-attr]
