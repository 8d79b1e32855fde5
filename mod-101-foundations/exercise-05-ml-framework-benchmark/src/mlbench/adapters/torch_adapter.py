# mypy: disable-error-code="no-any-return"
"""PyTorch adapter: eager or torch.compile, autocast bf16, channels_last for the CNN."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812  # the conventional name
from torch import nn

from mlbench.adapters.base import UnsupportedJobError, Workload
from mlbench.models import CNNSpec, LSTMSpec, ModelSpec, TransformerSpec
from mlbench.schema import Job


def setup(threads: int, device: str) -> dict[str, str]:
    """Process-wide settings: thread pools and the device check."""
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # settable once, before any parallel work
        torch.set_num_interop_threads(max(1, min(threads, 2)))
    info = {"torch_threads": str(torch.get_num_threads()),
            "cuda_build": str(torch.version.cuda)}
    if device == "gpu":
        if not torch.cuda.is_available():
            raise UnsupportedJobError("torch: no CUDA device available")
        info["device_name"] = torch.cuda.get_device_name(0)
    return info


class _Block(nn.Module):
    """Basic residual block; a 1x1 projection shortcut when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.proj = (nn.Conv2d(cin, cout, 1, stride=stride)
                     if CNNSpec.needs_projection(cin, cout, stride) else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        short = x if self.proj is None else self.proj(x)
        return F.relu(short + self.c2(F.relu(self.c1(x))))


class CNN(nn.Module):
    def __init__(self, s: CNNSpec) -> None:
        super().__init__()
        # Symmetric padding k//2 gives the same output sizes as Keras/XLA "same" padding
        # (ceil(n / stride)); with stride 2 on an even size "same" pads one more at the end.
        self.stem = nn.Conv2d(s.in_channels, s.widths[0], s.stem_kernel, stride=s.stem_stride,
                              padding=s.stem_kernel // 2)
        self.pool = nn.MaxPool2d(3, 2, padding=1) if s.stem_pool else nn.Identity()
        self.blocks = nn.Sequential(*[_Block(cin, cout, st) for cin, cout, st in s.stages()])
        self.head = nn.Linear(s.out_width(), s.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.pool(F.relu(self.stem(x))))
        return self.head(h.mean(dim=(2, 3)))


class Encoder(nn.Module):
    def __init__(self, s: TransformerSpec) -> None:
        super().__init__()
        self.emb = nn.Embedding(s.vocab_size, s.d_model)
        self.pos = nn.Parameter(torch.randn(1, s.seq_len, s.d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(s.d_model, s.heads, s.ff_dim, dropout=0.0,
                                           activation="relu", batch_first=True,
                                           norm_first=True, layer_norm_eps=1e-5)
        self.layers = nn.TransformerEncoder(layer, s.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(s.d_model, eps=1e-5)
        self.head = nn.Linear(s.d_model, s.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layers(self.emb(x) + self.pos)
        return self.head(self.norm(h).mean(dim=1))


class LSTMNet(nn.Module):
    def __init__(self, s: LSTMSpec) -> None:
        super().__init__()
        # BEGIN SOLUTION: embedding, nn.LSTM with bias_hh zeroed and frozen, linear head
        self.emb = nn.Embedding(s.vocab_size, s.embed_dim)
        self.lstm = nn.LSTM(s.embed_dim, s.hidden, s.layers, batch_first=True)
        # Keras and our JAX LSTM have one bias vector per layer; PyTorch has two (b_ih, b_hh)
        # that are only ever summed. Zero and freeze b_hh: same function, same trainable count.
        for name, p in self.lstm.named_parameters():
            if name.startswith("bias_hh"):
                nn.init.zeros_(p)
                p.requires_grad_(False)
        self.head = nn.Linear(s.hidden, s.num_classes)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.emb(x))
        return self.head(out[:, -1])


def make_model(spec: ModelSpec) -> nn.Module:
    if isinstance(spec, CNNSpec):
        return CNN(spec)
    if isinstance(spec, TransformerSpec):
        return Encoder(spec)
    return LSTMNet(spec)


def trainable_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build(job: Job, spec: ModelSpec, x: np.ndarray, y: np.ndarray) -> Workload:
    torch.manual_seed(job.seed)
    dev = torch.device("cuda" if job.device == "gpu" else "cpu")
    model = make_model(spec).to(dev)
    xt = torch.from_numpy(x)
    # images: NHWC -> NCHW, PyTorch's native layout; tokens: int64 indices
    xt = xt.permute(0, 3, 1, 2).contiguous() if isinstance(spec, CNNSpec) else xt.long()
    xt = xt.to(dev)
    yt = torch.from_numpy(y).long().to(dev)
    cl = job.channels_last and isinstance(spec, CNNSpec)
    if cl:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        xt = xt.contiguous(memory_format=torch.channels_last)
    count = trainable_params(model)
    bf16 = job.dtype == "bf16"
    if bf16 and job.device == "gpu" and not torch.cuda.is_bf16_supported():
        raise UnsupportedJobError("torch: this GPU does not support bf16")
    fn: Any = torch.compile(model) if job.jit else model

    def autocast() -> Any:
        return torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=bf16)

    if dev.type == "cuda":
        def sync(_out: Any) -> None:
            torch.cuda.synchronize()

        def reset_mem() -> None:
            torch.cuda.reset_peak_memory_stats()

        def peak_mem() -> float | None:
            return float(torch.cuda.max_memory_allocated()) / 2**20
    else:
        def sync(_out: Any) -> None:  # CPU kernels run synchronously in the calling thread
            return None

        def reset_mem() -> None:
            return None

        def peak_mem() -> float | None:
            return None

    seen: dict[str, Any] = {}

    def applied() -> dict[str, Any]:
        from torch._dynamo.eval_frame import OptimizedModule

        return {"compute_dtype": seen.get("dtype"),
                "param_dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
                "compiled": isinstance(fn, OptimizedModule)}

    if job.mode == "infer":
        model.eval()

        def infer() -> Any:
            with torch.inference_mode(), autocast():
                out = fn(xt)
            seen["dtype"] = str(out.dtype).removeprefix("torch.")
            return out

        return Workload(count, infer, sync, channels_last_applied=cl,
                        reset_device_memory=reset_mem, device_memory_peak_mb=peak_mem,
                        applied=applied)

    model.train()
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                           lr=job.learning_rate, eps=1e-8)

    def train() -> Any:
        opt.zero_grad(set_to_none=True)
        with autocast():
            logits = fn(xt)
        seen["dtype"] = str(logits.dtype).removeprefix("torch.")
        loss = F.cross_entropy(logits.float(), yt)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        return loss

    return Workload(count, train, sync, loss_of=lambda out: float(out.detach()),
                    channels_last_applied=cl, reset_device_memory=reset_mem,
                    device_memory_peak_mb=peak_mem, applied=applied)
