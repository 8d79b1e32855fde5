"""Training data labels and the model store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from streamml import model
from streamml.errors import ModelNotFoundError, NotEnoughDataError
from tests.helpers import feature_frame


@pytest.mark.points(2)
def test_label_is_the_next_window_purchase_per_user() -> None:
    t = pd.Timestamp("2025-01-01T00:00:00Z")
    frame = pd.DataFrame([
        {"user_id": "a", "window_end": t + pd.Timedelta(minutes=m), "n_purchases": p}
        for m, p in ((2, 0), (1, 1), (3, 2))] + [
        {"user_id": "b", "window_end": t, "n_purchases": 0}])
    labelled = model.training_frame(frame)
    assert list(zip(labelled["user_id"], labelled["window_end"].dt.minute,
                    labelled["label"], strict=True)) == [("a", 1, 0), ("a", 2, 1)]


@pytest.mark.points(2)
def test_train_save_load_and_refuse_too_little_data(tmp_path: Path) -> None:
    fitted, card = model.train(feature_frame(users=30, windows=12))
    # Purchases cluster by user, so the held-out AUC beats chance.
    assert card.rows == 30 * 11 and card.auc is not None and card.auc > 0.6
    path = tmp_path / "m" / "model.joblib"
    model.save(fitted, card, path)
    loaded, again = model.load(path)
    assert again == card
    assert loaded.predict_proba([model.feature_vector(None)]).shape == (1, 2)
    with pytest.raises(NotEnoughDataError):
        model.train(feature_frame(users=2, windows=2))
    with pytest.raises(ModelNotFoundError):
        model.load(tmp_path / "none.joblib")
