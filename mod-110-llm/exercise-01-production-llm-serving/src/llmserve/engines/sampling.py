"""Token selection for one row of logits: greedy, or temperature + nucleus (top-p) sampling."""

from __future__ import annotations

import torch

from llmserve.engines.base import SamplingParams


def make_generator(params: SamplingParams) -> torch.Generator | None:
    """A per-request RNG when `seed` is set, so the same seed gives the same text."""
    if params.seed is None or params.greedy:
        return None
    generator = torch.Generator(device="cpu")
    generator.manual_seed(params.seed)
    return generator


def sample(logits: torch.Tensor, params: SamplingParams,
           generator: torch.Generator | None) -> int:
    """Pick the next token from a 1-D logits vector."""
    # BEGIN SOLUTION: greedy argmax, else temperature softmax + top_p nucleus draw
    if params.greedy:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float().cpu() / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        cumulative = torch.cumsum(sorted_probs, dim=-1)
        # Keep the smallest set whose mass reaches top_p (the first token always stays).
        drop = cumulative - sorted_probs > params.top_p
        sorted_probs[drop] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))
    # END SOLUTION
