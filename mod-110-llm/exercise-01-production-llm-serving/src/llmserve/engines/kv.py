"""Per-sequence KV caches, batched with left padding and an attention mask.

Design (documented in docs/architecture.md): each sequence's prefill (alone, or one row of a
batched prefill pass cut back to its real columns) gives its own per-layer key/value
tensors. The running batch keeps ONE `DynamicCache` whose rows are those sequences,
left-padded to the longest one, plus a 2-D attention mask with 0 on the padding. A decode
step feeds each row its last token with its own `position_ids`, so RoPE sees the true
positions and the padding is invisible: the result equals unbatched decoding.
A joining sequence is appended as a new row of the same cache (no rebuild of the running
rows); a finished one is dropped with `index_select`; in between, the model appends each
step's token to the cache itself.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import DynamicCache

LayerKV = list[tuple[torch.Tensor, torch.Tensor]]


def cache_layers(cache: DynamicCache) -> LayerKV:
    """The (keys, values) tensors of every layer: [batch, kv_heads, tokens, head_dim]."""
    layers: LayerKV = []
    for layer in cache.layers:
        keys, values = getattr(layer, "keys", None), getattr(layer, "values", None)
        if not isinstance(keys, torch.Tensor) or not isinstance(values, torch.Tensor):
            raise TypeError(f"unsupported cache layer {type(layer).__name__}")
        layers.append((keys, values))
    return layers


def build_cache(layers: LayerKV) -> DynamicCache:
    """A DynamicCache holding exactly `layers`."""
    cache = DynamicCache()
    for index, (keys, values) in enumerate(layers):
        cache.update(keys, values, index)
    return cache


def _left_pad(tensor: torch.Tensor, amount: int) -> torch.Tensor:
    if amount == 0:
        return tensor
    shape = list(tensor.shape)
    shape[2] = amount
    return torch.cat([tensor.new_zeros(shape), tensor], dim=2)


def stack_left_padded(caches: list[LayerKV], lengths: list[int]) -> LayerKV:
    """Stack single-row caches (`lengths[i]` tokens each, `[]` when empty) into one batch,
    left-padded with zeros to the longest; `[]` when every cache is empty."""
    # BEGIN SOLUTION: zero rows for empty caches, left padding, concatenate along the batch
    width = max(lengths, default=0)
    if width == 0:
        return []
    reference = next(layers for layers, length in zip(caches, lengths, strict=True)
                     if length)
    stacked: LayerKV = []
    for index, (ref_k, ref_v) in enumerate(reference):
        keys, values = [], []
        for layers, length in zip(caches, lengths, strict=True):
            if length:
                keys.append(_left_pad(layers[index][0], width - length))
                values.append(_left_pad(layers[index][1], width - length))
            else:
                keys.append(ref_k.new_zeros((1, ref_k.shape[1], width, ref_k.shape[3])))
                values.append(ref_v.new_zeros((1, ref_v.shape[1], width, ref_v.shape[3])))
        stacked.append((torch.cat(keys, dim=0), torch.cat(values, dim=0)))
    return stacked
    # END SOLUTION


class BatchKV:
    """The running batch's cache and attention mask; row i belongs to `rows[i]`."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cache: DynamicCache | None = None
        self.mask = torch.zeros((0, 0), dtype=torch.long, device=device)

    @property
    def size(self) -> int:
        return int(self.mask.shape[0])

    @property
    def width(self) -> int:
        return int(self.mask.shape[1])

    def slots(self) -> int:
        """KV slots allocated (rows x padded width): what the memory actually holds."""
        return self.size * self.width

    def add(self, layers: LayerKV, length: int) -> None:
        """Append a prefilled sequence (cache of `length` tokens) as the last row.

        The running rows are not rebuilt: their tensors get one more row (and left padding
        only when the newcomer is longer than the batch), inside the same `DynamicCache`.
        """
        # BEGIN SOLUTION: append a row: left-pad old rows or the new one, extend the mask
        new_mask = torch.ones((1, length), dtype=torch.long, device=self.device)
        if self.cache is None or self.size == 0:
            self.cache = build_cache(layers)
            self.mask = new_mask
            return
        width = max(self.width, length)
        grow = width - self.width
        rows: list[Any] = list(self.cache.layers)  # DynamicLayer: .keys / .values tensors
        for layer, (new_k, new_v) in zip(rows, layers, strict=True):
            layer.keys = torch.cat([_left_pad(layer.keys, grow),
                                    _left_pad(new_k, width - length)], dim=0)
            layer.values = torch.cat([_left_pad(layer.values, grow),
                                      _left_pad(new_v, width - length)], dim=0)
        self.mask = torch.cat([
            torch.nn.functional.pad(self.mask, (grow, 0)),
            torch.nn.functional.pad(new_mask, (width - length, 0)),
        ], dim=0)
        # END SOLUTION

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows` (in that order) and drop padding columns no row needs any more."""
        # BEGIN SOLUTION: keep these rows of cache and mask, trim unused padding columns
        if not rows:
            self.cache = None
            self.mask = torch.zeros((0, 0), dtype=torch.long, device=self.device)
            return
        assert self.cache is not None
        index = torch.tensor(rows, dtype=torch.long, device=self.device)
        mask = self.mask.index_select(0, index)
        used = mask.any(dim=0).nonzero()
        start = int(used[0]) if used.numel() else 0
        self.mask = mask[:, start:]
        layers: list[Any] = list(self.cache.layers)
        for layer in layers:
            layer.keys = layer.keys.index_select(0, index)[:, :, start:]
            layer.values = layer.values.index_select(0, index)[:, :, start:]
        # END SOLUTION

    def extend_mask(self) -> torch.Tensor:
        """The mask for the next decode step (every row gains one real token)."""
        ones = torch.ones((self.size, 1), dtype=torch.long, device=self.device)
        self.mask = torch.cat([self.mask, ones], dim=1)
        return self.mask
