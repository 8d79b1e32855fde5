"""The CPU/GPU engine: a transformers causal LM driven by our own continuous batching.

One background thread owns the model. Each iteration it
1. drops sequences that were cancelled (client gone) or ran past their deadline,
2. asks the `Scheduler` which waiting sequences join (slots, token budget, KV capacity),
3. prefills newcomers in chunks (chunked prefill): the step's token budget
   (`max_num_batched_tokens`) minus one token per running row goes to prompt chunks, each
   sequence with its own cache, reusing cached prefix blocks; the step's chunks run
   together in one left-padded forward pass (batched prefill, `_prefill_batch`); a sequence
   whose prompt is complete samples its first token and is appended to the running batch,
4. runs ONE decode step for the whole running batch (`BatchKV`: per-sequence caches,
   left-padded, with an attention mask and per-row positions).
So a request arriving while others decode joins at the next step instead of waiting for the
batch to drain (iteration-level, continuous batching, as in Orca and vLLM), and a long
prompt is spread over several steps instead of stalling every running sequence.
Text is detokenized incrementally (a window of a few tokens per step, as in vLLM and TGI).
Results cross back to asyncio with `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from llmserve.adapters import hf_model
from llmserve.engines.base import (
    EngineError,
    EngineStats,
    GenerationRequest,
    SamplingParams,
    StreamEvent,
)
from llmserve.engines.kv import BatchKV, build_cache, cache_layers, stack_left_padded
from llmserve.engines.prefix_cache import PrefixCache
from llmserve.engines.sampling import make_generator, sample
from llmserve.engines.scheduler import Scheduler, SchedulerLimits

log = logging.getLogger(__name__)

# A prompt chunk gets at least this many tokens per step even when the running rows use up
# the whole token budget, so prefill always progresses.
MIN_PREFILL_CHUNK = 16


@dataclass
class EngineConfig:
    """What the transformers engine needs (a subset of `Settings`)."""

    model_name: str
    max_model_len: int = 2048
    max_num_seqs: int = 16
    max_num_batched_tokens: int = 2048
    kv_capacity_tokens: int = 16 * 2048
    enable_prefix_caching: bool = True
    prefix_block_size: int = 16
    prefix_cache_max_blocks: int = 512


@dataclass
class _Sequence:
    request: GenerationRequest
    prompt_ids: list[int]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[StreamEvent]
    generator: torch.Generator | None
    generated: list[int] = field(default_factory=list)
    pending: int = 0  # last sampled token, not yet in the KV cache
    cache_len: int = 0  # tokens of this sequence in the KV cache
    emitted: int = 0  # characters of text already sent
    text: str = ""  # detokenized output so far (incremental)
    prefix_offset: int = 0  # incremental detokenizer window: tokens[prefix_offset:read_offset]
    read_offset: int = 0  # ... is text already accounted for
    prefilled: int = 0  # prompt tokens already in `prefill_cache`
    prefill_cache: Any = None  # this sequence's own DynamicCache while its prompt is prefilled
    cancelled: bool = False
    admitted_at: float | None = None
    done: bool = False

    @property
    def params(self) -> SamplingParams:
        return self.request.params

    def expired(self, now: float) -> bool:
        timeout = self.request.timeout_s
        return timeout is not None and now - self.request.arrival > timeout


class TransformersEngine:
    """Continuous batching over a transformers model (see the module docstring)."""

    def __init__(self, model: Any, tokenizer: Any, config: EngineConfig,
                 step_observer: Callable[[int], None] | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.model_name = config.model_name
        self.max_model_len = config.max_model_len
        self.device = next(model.parameters()).device
        self.scheduler: Scheduler[_Sequence] = Scheduler(SchedulerLimits(
            config.max_num_seqs, config.max_num_batched_tokens, config.kv_capacity_tokens))
        self.batch = BatchKV(self.device)
        self.rows: list[_Sequence] = []
        self.prefilling: list[_Sequence] = []  # admitted, prompt not yet fully in the cache
        self.prefix_cache = (PrefixCache(config.prefix_block_size, config.prefix_cache_max_blocks)
                             if config.enable_prefix_caching else None)
        self.step_observer = step_observer
        self.decode_steps = 0
        self.prefill_chunks = 0  # prompt chunks computed (one per sequence per step)
        self.prefill_passes = 0  # prefill forward passes (batched prefill: one per step)
        self.max_batch_seen = 0
        self.max_in_engine_seen = 0  # peak of waiting + running sequences
        self._inbox: list[_Sequence] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        eos = getattr(model.generation_config, "eos_token_id", None)
        if eos is None:
            eos = tokenizer.eos_token_id
        self.eos_ids: set[int] = set(eos if isinstance(eos, list) else [eos] if eos is not None
                                     else [])

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_settings(cls, settings: Any,
                      step_observer: Callable[[int], None] | None = None) -> TransformersEngine:
        """Load the model named in `settings` (a `config.Settings`)."""
        if settings.cpu_threads:
            torch.set_num_threads(settings.cpu_threads)
        source = hf_model.resolve(settings.model, settings.gguf_file)
        device = hf_model.pick_device(settings.device)
        model, tokenizer = hf_model.load(source, device, hf_model.pick_dtype(settings.dtype,
                                                                              device))
        limit = getattr(model.config, "max_position_embeddings", None) or settings.max_model_len
        config = EngineConfig(
            model_name=settings.model_name,
            max_model_len=min(settings.max_model_len, int(limit)),
            max_num_seqs=settings.max_num_seqs,
            max_num_batched_tokens=settings.max_num_batched_tokens,
            kv_capacity_tokens=settings.kv_capacity,
            enable_prefix_caching=settings.enable_prefix_caching,
            prefix_block_size=settings.prefix_block_size,
            prefix_cache_max_blocks=settings.prefix_cache_max_blocks,
        )
        return cls(model, tokenizer, config, step_observer)

    # ------------------------------------------------------------------ Engine interface

    async def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="llmserve-engine",
                                            daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)
            self._thread = None

    def encode(self, request: GenerationRequest) -> list[int]:
        """Prompt token ids; chat messages go through the tokenizer's chat template."""
        if request.messages is not None:
            if not getattr(self.tokenizer, "chat_template", None):
                raise EngineError("this model has no chat template; use /v1/completions")
            try:
                text = self.tokenizer.apply_chat_template(
                    request.messages, tokenize=False, add_generation_prompt=True)
            except Exception as exc:  # jinja errors on odd message shapes
                raise EngineError(f"cannot apply the chat template: {exc}",
                                  param="messages") from exc
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        else:
            ids = self.tokenizer(request.prompt or "")["input_ids"]
        if not ids:
            raise EngineError("the prompt is empty after tokenisation", param="prompt")
        return [int(i) for i in ids]

    def count_prompt_tokens(self, request: GenerationRequest) -> int:
        return len(self.encode(request))

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        prompt_ids = self.encode(request)
        if len(prompt_ids) >= self.max_model_len:
            raise EngineError(
                f"this model's maximum context length is {self.max_model_len} tokens; "
                f"the prompt has {len(prompt_ids)}", param="messages",
                code="context_length_exceeded")
        loop = asyncio.get_running_loop()
        seq = _Sequence(request, prompt_ids, loop, asyncio.Queue(),
                        make_generator(request.params))
        with self._cv:
            self._inbox.append(seq)
            self._cv.notify_all()
        try:
            while True:
                event = await seq.queue.get()
                yield event
                if event.finish_reason is not None or event.error is not None:
                    return
        finally:
            if not seq.done:
                self.abort(seq)

    def abort(self, seq: _Sequence) -> None:
        """Mark a sequence cancelled; the engine thread frees its slot at the next step."""
        with self._cv:
            seq.cancelled = True
            self._cv.notify_all()

    def stats(self) -> EngineStats:
        capacity = self.config.kv_capacity_tokens
        used = self.batch.slots() + sum(seq.prefilled for seq in list(self.prefilling))
        return EngineStats(
            waiting=self.scheduler.num_waiting + len(self._inbox),
            running=self.scheduler.num_running,
            kv_cache_usage=min(1.0, used / capacity) if capacity else 0.0,
            max_num_seqs=self.config.max_num_seqs,
        )

    # ------------------------------------------------------------------ engine thread

    def _run(self) -> None:
        torch.set_grad_enabled(False)
        while True:
            with self._cv:
                while not (self._stopping or self._inbox or self.rows or self.prefilling
                           or self.scheduler.num_waiting):
                    self._cv.wait()
                if self._stopping:
                    break
                for seq in self._inbox:
                    self.scheduler.add(seq, len(seq.prompt_ids), seq.params.max_tokens,
                                       seq.request.priority)
                self._inbox.clear()
                self.max_in_engine_seen = max(
                    self.max_in_engine_seen,
                    self.scheduler.num_waiting + self.scheduler.num_running)
            try:
                self.step()
            except Exception as exc:  # a broken step must not kill the server
                log.exception("engine step failed")
                self._fail_all(EngineError(f"engine failure: {exc}", status=500,
                                           code="internal_error"))
        self._fail_all(EngineError("server is shutting down", status=503,
                                   code="service_unavailable"))

    def step(self) -> None:
        """One scheduler iteration (public so tests can drive the engine synchronously)."""
        # BEGIN SOLUTION: drop cancelled/expired, admit, plan chunks, batched prefill, decode
        now = time.monotonic()
        for seq in self.scheduler.waiting_items():
            if seq.cancelled or seq.expired(now):
                self.scheduler.remove_waiting(seq)
                self._finish_early(seq, now)
        for seq in [s for s in self.prefilling if s.cancelled or s.expired(now)]:
            self.prefilling.remove(seq)
            self._finish_early(seq, now)
        gone = [i for i, seq in enumerate(self.rows) if seq.cancelled or seq.expired(now)]
        if gone:
            for i in gone:
                self._finish_early(self.rows[i], now)
            self._keep([i for i in range(len(self.rows)) if i not in set(gone)])
        for seq in self.scheduler.admit():
            seq.admitted_at = time.monotonic()
            self._start_prefill(seq)
            self.prefilling.append(seq)
        # The step's token budget: one token per running row, the rest for prompt chunks.
        # Oldest first; only the last planned prompt can be cut short (chunked prefill).
        budget = max(self.config.max_num_batched_tokens - len(self.rows), MIN_PREFILL_CHUNK)
        plan: list[tuple[_Sequence, int]] = []
        for seq in self.prefilling:
            if budget <= 0:
                break
            chunk = min(budget, len(seq.prompt_ids) - seq.prefilled)
            budget -= chunk
            plan.append((seq, chunk))
        # Batched prefill: the planned chunks share forward passes (usually one).
        for group in self._prefill_groups(plan):
            if len(group) == 1:
                self._prefill_chunk(*group[0])
            else:
                self._prefill_batch(group)
        for seq, _ in plan:
            if seq.prefilled == len(seq.prompt_ids):
                self.prefilling.remove(seq)
                if not seq.done:
                    self.batch.add(cache_layers(seq.prefill_cache), seq.cache_len)
                    self.rows.append(seq)
                seq.prefill_cache = None
        if self.rows:
            self._decode()
        # END SOLUTION

    def _start_prefill(self, seq: _Sequence) -> None:
        """Give an admitted sequence its own cache, seeded with cached prefix blocks."""
        cached, layers = (self.prefix_cache.lookup(seq.prompt_ids) if self.prefix_cache
                          else (0, None))
        seq.prefill_cache = build_cache(layers) if layers else build_cache([])
        seq.prefilled = cached

    def _prefill_chunk(self, seq: _Sequence, size: int) -> bool:
        """Run the next `size` prompt tokens of one sequence alone; True when complete."""
        # BEGIN SOLUTION: one chunk of the prompt; at its end, cache blocks and sample
        ids = seq.prompt_ids
        start, end = seq.prefilled, seq.prefilled + size
        input_ids = torch.tensor([ids[start:end]], device=self.device)
        positions = torch.arange(start, end, device=self.device).unsqueeze(0)
        out = self.model(input_ids=input_ids, position_ids=positions,
                         past_key_values=seq.prefill_cache, use_cache=True, logits_to_keep=1)
        seq.prefill_cache = out.past_key_values
        seq.prefilled = end
        self.prefill_chunks += 1
        self.prefill_passes += 1
        if end < len(ids):
            return False
        self._prompt_done(seq, out.logits[0, -1])
        return True
        # END SOLUTION

    def _prompt_done(self, seq: _Sequence, logits: torch.Tensor) -> None:
        """The whole prompt is in `seq.prefill_cache`: cache its blocks, sample token 1."""
        # BEGIN SOLUTION: store the prompt's blocks in the prefix cache, sample the first token
        if self.prefix_cache is not None:
            self.prefix_cache.insert(seq.prompt_ids, cache_layers(seq.prefill_cache))
        seq.cache_len = len(seq.prompt_ids)
        self._accept(seq, sample(logits, seq.params, seq.generator))
        # END SOLUTION

    def _prefill_groups(self, plan: list[tuple[_Sequence, int]]
                        ) -> list[list[tuple[_Sequence, int]]]:
        """Split the step's chunks into forward passes; one chunk always fits.

        A pass pads every chunk to its longest, so rows x longest chunk must stay within
        `max_num_batched_tokens` (the compute the budget allows), and rows x (longest cached
        part + longest chunk) within `kv_capacity_tokens` (the stacked copy of the caches).
        Longest chunks first keeps similar lengths together, so little is padding.
        """
        # BEGIN SOLUTION: greedy packing of the longest-first chunks under both limits
        tokens, slots = self.config.max_num_batched_tokens, self.config.kv_capacity_tokens
        groups: list[list[tuple[_Sequence, int]]] = []
        current: list[tuple[_Sequence, int]] = []
        past = width = 0
        for seq, chunk in sorted(plan, key=lambda item: item[1], reverse=True):
            new_past, new_width = max(past, seq.prefilled), max(width, chunk)
            rows = len(current) + 1
            if current and (rows * new_width > tokens or rows * (new_past + new_width) > slots):
                groups.append(current)
                current, new_past, new_width = [], seq.prefilled, chunk
            current.append((seq, chunk))
            past, width = new_past, new_width
        if current:
            groups.append(current)
        return groups
        # END SOLUTION

    def _prefill_batch(self, group: list[tuple[_Sequence, int]]) -> None:
        """One chunk of each sequence in `group`, all in ONE forward pass.

        Row i is `[pad][cached part i] | [pad][chunk i]`: the cached parts are left-padded
        to the longest one (the pass's past), the chunks are left-padded to the longest
        chunk (the pass's input), so every chunk ends in the last column (whose logits are
        the next-token logits) and the mask hides the padding in between. Each row's own
        `position_ids` keep RoPE exact; afterwards each sequence keeps only its real columns.
        """
        # BEGIN SOLUTION: pack the chunks, one forward pass, split the cache back per row
        pasts = [seq.prefilled for seq, _ in group]
        chunks = [chunk for _, chunk in group]
        past, width = max(pasts), max(chunks)
        input_ids = torch.zeros((len(group), width), dtype=torch.long)
        positions = torch.zeros((len(group), width), dtype=torch.long)
        mask = torch.zeros((len(group), past + width), dtype=torch.long)
        for row, (seq, chunk) in enumerate(group):
            start = seq.prefilled
            input_ids[row, width - chunk:] = torch.tensor(seq.prompt_ids[start:start + chunk])
            positions[row, width - chunk:] = torch.arange(start, start + chunk)
            mask[row, past - start:past] = 1
            mask[row, past + width - chunk:] = 1
        cache = build_cache(stack_left_padded(
            [cache_layers(seq.prefill_cache) for seq, _ in group], pasts))
        out = self.model(input_ids=input_ids.to(self.device),
                         attention_mask=mask.to(self.device),
                         position_ids=positions.to(self.device), past_key_values=cache,
                         use_cache=True, logits_to_keep=1)
        self.prefill_passes += 1
        layers = cache_layers(out.past_key_values)
        for row, (seq, chunk) in enumerate(group):
            keep = [(torch.cat([k[row:row + 1, :, past - seq.prefilled:past],
                                k[row:row + 1, :, past + width - chunk:]], dim=2),
                     torch.cat([v[row:row + 1, :, past - seq.prefilled:past],
                                v[row:row + 1, :, past + width - chunk:]], dim=2))
                    for k, v in layers]
            seq.prefill_cache = build_cache(keep)
            seq.prefilled += chunk
            self.prefill_chunks += 1
            if seq.prefilled == len(seq.prompt_ids):
                self._prompt_done(seq, out.logits[row, -1])
        # END SOLUTION

    def _decode(self) -> None:
        # BEGIN SOLUTION: one forward pass for every running row, then drop finished rows
        rows = self.rows
        size = len(rows)
        self.decode_steps += 1
        self.max_batch_seen = max(self.max_batch_seen, size)
        if self.step_observer is not None:
            self.step_observer(size)
        input_ids = torch.tensor([[seq.pending] for seq in rows], device=self.device)
        positions = torch.tensor([[seq.cache_len] for seq in rows], device=self.device)
        mask = self.batch.extend_mask()
        out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                         past_key_values=self.batch.cache, use_cache=True)
        self.batch.cache = out.past_key_values
        logits = out.logits[:, -1, :]
        greedy = torch.argmax(logits, dim=-1).tolist()
        for index, seq in enumerate(rows):
            seq.cache_len += 1
            token = (int(greedy[index]) if seq.params.greedy
                     else sample(logits[index], seq.params, seq.generator))
            self._accept(seq, token)
        finished = [i for i, seq in enumerate(rows) if seq.done]
        if finished:
            self._keep([i for i in range(size) if not rows[i].done])
        # END SOLUTION

    def _keep(self, indices: list[int]) -> None:
        self.batch.keep(indices)
        self.rows = [self.rows[i] for i in indices]

    # ------------------------------------------------------------------ output

    def _accept(self, seq: _Sequence, token: int) -> None:
        """Record a sampled token, detect stops, and send the new text to the client."""
        # BEGIN SOLUTION: detect EOS, stop strings, length; send the text that is final
        params = seq.params
        seq.generated.append(token)
        seq.pending = token
        finish: str | None = None
        if not params.ignore_eos and token in self.eos_ids:
            finish = "stop"
        else:
            before = len(seq.text)
            seq.text += self._detokenize(seq)
            # Only the new text (plus what a stop string could straddle) needs searching.
            longest = max((len(stop) for stop in params.stop), default=0)
            for stop in params.stop:
                at = seq.text.find(stop, max(0, before - longest + 1))
                if at != -1:
                    seq.text = seq.text[:at]
                    finish = "stop"
        text = seq.text
        if finish is None and (len(seq.generated) >= params.max_tokens
                               or seq.cache_len + 1 >= self.max_model_len):
            finish = "length"
        if finish is None:
            # Hold back what may be the start of a stop string or a partial UTF-8 character.
            hold = max((len(s) for s in params.stop), default=1) - 1
            safe = len(text) - hold
            while safe > seq.emitted and text[safe - 1] == "\ufffd":
                safe -= 1
        else:
            safe = len(text)
        delta = text[seq.emitted:safe] if safe > seq.emitted else ""
        seq.emitted = max(seq.emitted, safe)
        event = StreamEvent(text=delta, new_tokens=1, finish_reason=finish,
                            prompt_tokens=len(seq.prompt_ids),
                            completion_tokens=len(seq.generated))
        if len(seq.generated) == 1 and seq.admitted_at is not None:
            event.queue_time_s = seq.admitted_at - seq.request.arrival
        if finish is not None:
            seq.done = True
            self.scheduler.finish(seq)
        self._send(seq, event)
        # END SOLUTION

    def _detokenize(self, seq: _Sequence) -> str:
        """The text the newest token adds, decoding only a short window of tokens.

        Decoding `tokens[prefix_offset:]` against `tokens[prefix_offset:read_offset]` gives
        the new characters with the right spacing (tokenizers decode a token differently at
        the start of a text); an incomplete UTF-8 character waits for the next token.
        """
        # BEGIN SOLUTION: decode a sliding window, emit what it adds to the window's text
        ids = seq.generated
        prefix = self.tokenizer.decode(ids[seq.prefix_offset:seq.read_offset],
                                       skip_special_tokens=True)
        full = self.tokenizer.decode(ids[seq.prefix_offset:], skip_special_tokens=True)
        if len(full) > len(prefix) and not full.endswith("\ufffd"):
            seq.prefix_offset = seq.read_offset
            seq.read_offset = len(ids)
            return str(full[len(prefix):])
        return ""
        # END SOLUTION

    def _finish_early(self, seq: _Sequence, now: float) -> None:
        seq.done = True
        self.scheduler.finish(seq)
        if seq.cancelled:
            event = StreamEvent(finish_reason="abort", prompt_tokens=len(seq.prompt_ids),
                                completion_tokens=len(seq.generated))
        else:
            event = StreamEvent(error=EngineError(
                f"request timed out after {now - seq.request.arrival:.1f}s "
                f"(limit {seq.request.timeout_s}s)", status=504, code="timeout"),
                prompt_tokens=len(seq.prompt_ids), completion_tokens=len(seq.generated))
        self._send(seq, event)

    def _fail_all(self, error: EngineError) -> None:
        seqs = [*self.rows, *self.prefilling, *self.scheduler.waiting_items(), *self._inbox]
        for seq in seqs:
            self.scheduler.remove_waiting(seq)
            self.scheduler.finish(seq)
            seq.done = True
            self._send(seq, StreamEvent(error=error))
        self._inbox.clear()
        self.rows = []
        self.prefilling = []
        self.batch.keep([])

    @staticmethod
    def _send(seq: _Sequence, event: StreamEvent) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is already closed
            seq.loop.call_soon_threadsafe(seq.queue.put_nowait, event)
