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
    spec = CNNSpec(image_size=8, in_channels=3, width=4, blocks=1, num_classes=5)
    stem = 3 * 3 * 3 * 4 + 4  # 112
    block = 2 * (3 * 3 * 4 * 4 + 4)  # 296
    head = 4 * 5 + 5  # 25
    assert param_count(spec) == stem + block + head == 433


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
    assert spec_for("cnn", "tiny", {"width": 12}).width == 12  # type: ignore[union-attr]
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
