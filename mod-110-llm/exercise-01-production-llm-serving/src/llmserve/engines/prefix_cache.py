"""Prefix caching: reuse the KV of prompt blocks that earlier requests already computed.

Like vLLM's automatic prefix caching, prompts are cut into fixed-size blocks and each block
is keyed by a hash of ALL tokens up to its end (parent hash + its own tokens), so a block is
only reused when the whole prefix matches. Blocks are evicted least-recently-used.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import torch

from llmserve.engines.kv import LayerKV


def _block_key(parent: bytes, tokens: list[int]) -> bytes:
    digest = hashlib.blake2b(parent, digest_size=16)
    digest.update(b",".join(str(token).encode() for token in tokens))
    return digest.digest()


class PrefixCache:
    """LRU store of per-block KV slices, `max_blocks` blocks of `block_size` tokens."""

    def __init__(self, block_size: int, max_blocks: int) -> None:
        self.block_size = block_size
        self.max_blocks = max_blocks
        self._blocks: OrderedDict[bytes, LayerKV] = OrderedDict()
        self.hit_tokens = 0
        self.queried_tokens = 0

    def __len__(self) -> int:
        return len(self._blocks)

    def lookup(self, token_ids: list[int]) -> tuple[int, LayerKV | None]:
        """Longest cached prefix of `token_ids`, leaving at least one token to compute."""
        # BEGIN SOLUTION: longest run of cached full blocks (chained hashes), one token left
        self.queried_tokens += len(token_ids)
        size = self.block_size
        parent = b""
        found: list[LayerKV] = []
        for start in range(0, len(token_ids) - 1 - size + 1, size):
            key = _block_key(parent, token_ids[start:start + size])
            block = self._blocks.get(key)
            if block is None:
                break
            self._blocks.move_to_end(key)
            found.append(block)
            parent = key
        if not found:
            return 0, None
        layers: LayerKV = [
            (torch.cat([blk[i][0] for blk in found], dim=2),
             torch.cat([blk[i][1] for blk in found], dim=2))
            for i in range(len(found[0]))
        ]
        hit = len(found) * size
        self.hit_tokens += hit
        return hit, layers
        # END SOLUTION

    def insert(self, token_ids: list[int], layers: LayerKV) -> None:
        """Store the full blocks of a prefilled prompt (`layers` cover `token_ids`)."""
        # BEGIN SOLUTION: store each full block under its chained hash, LRU eviction
        size = self.block_size
        parent = b""
        for start in range(0, len(token_ids) - size + 1, size):
            key = _block_key(parent, token_ids[start:start + size])
            if key in self._blocks:
                self._blocks.move_to_end(key)
            else:
                self._blocks[key] = [
                    (k[:, :, start:start + size].clone(), v[:, :, start:start + size].clone())
                    for k, v in layers
                ]
                while len(self._blocks) > self.max_blocks:
                    self._blocks.popitem(last=False)
            parent = key
        # END SOLUTION
