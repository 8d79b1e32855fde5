"""A tiny random Llama + WordLevel tokenizer with a ChatML chat template, saved to a folder.

Loads offline in well under a second, so tests exercise the real transformers code paths
(RoPE, GQA, KV cache, attention masks) without downloading anything.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SPECIAL = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
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
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_model(path: Path, seed: int = 0) -> Path:
    """Write config, weights and tokenizer files to `path` and return it."""
    vocab = {token: index for index, token in enumerate(SPECIAL + list(dict.fromkeys(WORDS)))}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"], pad_token_id=vocab["<unk>"],
        tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    # Larger weights than the default init spread the logits, so greedy picks are stable
    # (no near-ties that float rounding could flip between batched and unbatched runs).
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() > 1:
                param.normal_(0.0, 0.25)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
