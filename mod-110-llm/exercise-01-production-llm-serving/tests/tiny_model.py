"""A tiny random Llama + WordLevel tokenizer with a ChatML chat template, saved to a folder.

Loads offline in well under a second, so tests exercise the real transformers code paths
(RoPE, GQA, KV cache, attention masks) without downloading anything.
"""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.models import build_tiny_llama

_WORD_TEXT = (
    "the a an and or but of to in on at for with from by is are was were be been it this that "
    "these those i you he she we they me him her us them my your his our their what which who "
    "when where why how all any both each few more most other some such no not only own same "
    "so than too very can will just should now hello hi world say tell me about story cat dog "
    "bird fish tree sun moon star sky sea river mountain city road car train plane book pen "
    "paper code data model token batch cache queue server client request answer question yes "
    "one two three four five six seven eight nine ten red green blue black white big small "
    "fast slow good bad new old first last long short high low up down left right day night "
    "time year people way thing man woman child world life hand part place case week company "
    "system program number group problem fact user assistant . , ! ? : ; ' - ( ) 0 1 2 3 4 5 "
    "6 7 8 9 "
)
WORDS = _WORD_TEXT.split()


def build_tiny_model(path: Path, seed: int = 0) -> Path:
    """Write config, weights and tokenizer files to `path` and return it.

    Larger weights than the default init spread the logits, so greedy picks are stable (no
    near-ties that float rounding could flip between batched and unbatched runs).
    """
    return build_tiny_llama(path, WORDS, hidden_size=64, num_heads=4, num_kv_heads=2,
                            seed=seed, weight_std=0.25)
