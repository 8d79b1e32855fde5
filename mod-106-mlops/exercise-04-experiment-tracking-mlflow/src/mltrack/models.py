"""The small PyTorch model. Lives in the package so a logged (pickled) model can be loaded
by any process that has mltrack installed."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TinyMLP(nn.Module):
    """Standardise, one hidden layer, two logits. Mean/std are buffers: the logged model
    takes raw feature values, exactly like the scikit-learn pipeline."""

    def __init__(self, n_features: int, hidden: int, mean: np.ndarray, std: np.ndarray
                 ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(np.where(std > 0, std, 1.0),
                                                    dtype=torch.float32))
        self.net = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean: torch.Tensor = self.get_buffer("mean")
        std: torch.Tensor = self.get_buffer("std")
        out: torch.Tensor = self.net((x - mean) / std)
        return out
