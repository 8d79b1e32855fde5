"""Command line for llmserve: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import (
    AppGroup,
    CLIError,
    ExitCode,
    NotFoundError,
    UnavailableError,
    echo_json,
)
from aiinfra_shared.io import atomic_write_json
from rich.console import Console
from rich.table import Table

from llmserve import __version__
from llmserve.config import Settings


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="llmserve")
def cli() -> None:
    """Production LLM serving: an OpenAI-compatible server with continuous batching.

    \b
    Examples:
      llmserve serve                                  # SmolLM2-135M on 127.0.0.1:8000
      llmserve serve --model ./my-hf-model --max-num-seqs 32 --port 9000
      llmserve serve --engine openai --upstream-url http://10.0.0.5:8000/v1 --model m
      llmserve bench --base-url http://127.0.0.1:8000 --concurrency 16 --num-prompts 64
      llmserve models --base-url http://127.0.0.1:8000 --json
    """


@cli.command()
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              help="YAML/TOML settings file (env vars LLMSERVE_* override it).")
@click.option("--model", help="'smollm2' (default), a local HF model folder, or a .gguf file.")
@click.option("--engine", type=click.Choice(["auto", "transformers", "vllm", "openai"]),
              help="auto: vLLM when CUDA and vLLM are installed, else transformers.")
@click.option("--host", help="Bind address (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8000).")
@click.option("--max-num-seqs", type=int, help="Max sequences in the running batch.")
@click.option("--max-queue-size", type=int, help="Requests allowed to wait beyond the batch.")
@click.option("--upstream-url", help="For --engine openai: the upstream server's base URL.")
@click.option("--device", help="auto | cpu | cuda.")
def serve(config_file: Path | None, **options: Any) -> None:
    """Serve a model over the OpenAI API (/v1/chat/completions, /v1/completions, /metrics).

    \b
    Examples:
      llmserve serve
      LLMSERVE_MAX_NUM_SEQS=32 llmserve serve --port 9000
      llmserve serve --config serve.yaml
    """
    import uvicorn

    from llmserve.adapters import hf_model
    from llmserve.server import create_app

    settings = Settings.load(config_file, **{k: v for k, v in options.items() if v is not None})
    if settings.engine != "openai":
        try:
            hf_model.resolve(settings.model, settings.gguf_file)
        except hf_model.ModelLoadError as exc:
            raise NotFoundError(str(exc)) from exc
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host

    def ready() -> None:
        base = f"http://{host}:{settings.port}"
        body = json.dumps({"model": settings.model_name, "max_tokens": 32, "messages": [
            {"role": "user", "content": "What is the capital of France?"}]})
        click.echo(f"llmserve: serving {settings.model_name!r} on {base}")
        click.echo(f"try:\n  curl -s {base}/v1/chat/completions "
                   f"-H 'Content-Type: application/json' -d '{body}'")

    app = create_app(settings, on_ready=ready)
    click.echo(f"llmserve: loading {settings.model_name!r}...", err=True)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                            access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise UnavailableError(f"server did not start on {settings.host}:{settings.port} "
                               "(port in use, or the model failed to load; see the log)")


@cli.command()
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--model", help="Model id (default: the first one the server lists).")
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Prompts: .txt (one per line) or .jsonl with a 'prompt' field.")
@click.option("--num-prompts", default=32, show_default=True, type=click.IntRange(1))
@click.option("--max-tokens", default=32, show_default=True, type=click.IntRange(1))
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1),
              help="Max requests in flight (fixed-concurrency mode).")
@click.option("--request-rate", type=click.FloatRange(min=0, min_open=True),
              help="Poisson arrivals at this many requests/s (capped by --concurrency).")
@click.option("--slo-ttft-ms", type=float, help="Goodput SLO on time to first token.")
@click.option("--slo-tpot-ms", type=float, help="Goodput SLO on time per output token.")
@click.option("--api-key", envvar="LLMSERVE_BENCH_API_KEY")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON report here.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a PNG with TTFT/TPOT histograms and latency over time.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def bench(base_url: str, model: str | None, dataset: Path | None, num_prompts: int,
          max_tokens: int, concurrency: int, request_rate: float | None,
          slo_ttft_ms: float | None, slo_tpot_ms: float | None, api_key: str | None,
          out: Path | None, plot: Path | None, as_json: bool) -> None:
    """Benchmark a running server like `vllm bench serve` (TTFT/TPOT/ITL/E2E, goodput).

    \b
    Examples:
      llmserve bench --concurrency 16 --num-prompts 64 --max-tokens 64
      llmserve bench --request-rate 4 --slo-ttft-ms 500 --slo-tpot-ms 100 --out r.json
    """
    from llmserve import bench as core

    try:
        prompts = core.load_prompts(dataset)
    except ValueError as exc:
        raise CLIError(str(exc), ExitCode.USAGE) from exc
    model = model or _first_model(base_url, api_key)
    config = core.BenchConfig(
        base_url=base_url, model=model, prompts=prompts, num_prompts=num_prompts,
        max_tokens=max_tokens, concurrency=concurrency, request_rate=request_rate,
        slo_ttft_s=slo_ttft_ms / 1000 if slo_ttft_ms else None,
        slo_tpot_s=slo_tpot_ms / 1000 if slo_tpot_ms else None, api_key=api_key)
    results, duration = asyncio.run(core.run_benchmark(config))
    report = core.summarise(results, duration, config)
    if report["completed"] == 0:
        raise UnavailableError(f"no request succeeded: {'; '.join(report['errors'])}")
    if out:
        atomic_write_json(out, report)
    if plot:
        core.plot(results, plot, f"{model} @ concurrency {concurrency}")
    if as_json:
        echo_json(report)
        return
    table = Table(title=f"llmserve bench: {model}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("completed / failed", f"{report['completed']} / {report['failed']}")
    table.add_row("duration (s)", f"{report['duration_s']:.2f}")
    table.add_row("request throughput (req/s)", f"{report['request_throughput']:.2f}")
    table.add_row("output throughput (tok/s)", f"{report['output_throughput']:.1f}")
    table.add_row("goodput (req/s)", f"{report['goodput']:.2f}")
    for name in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"):
        stats = report[name]
        table.add_row(f"{name[:-3].upper()} p50 / p95 / p99 (ms)",
                      f"{stats['p50']:.1f} / {stats['p95']:.1f} / {stats['p99']:.1f}")
    Console().print(table)


@cli.command()
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--api-key", envvar="LLMSERVE_BENCH_API_KEY")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models(base_url: str, api_key: str | None, as_json: bool) -> None:
    """List the models a server serves.

    \b
    Example:
      llmserve models --base-url http://127.0.0.1:8000
    """
    data = _get_models(base_url, api_key)
    if as_json:
        echo_json(data)
        return
    table = Table(title=base_url)
    for column in ("id", "owned_by", "max_model_len"):
        table.add_column(column)
    for item in data:
        table.add_row(str(item.get("id")), str(item.get("owned_by", "")),
                      str(item.get("max_model_len", "")))
    Console().print(table)


def _get_models(base_url: str, api_key: str | None) -> list[dict[str, Any]]:
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/v1/models", headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise UnavailableError(f"cannot reach {base_url}: {exc}") from exc
    if response.status_code != 200:
        raise UnavailableError(f"{base_url}/v1/models answered HTTP {response.status_code}")
    data: list[dict[str, Any]] = response.json().get("data", [])
    return data


def _first_model(base_url: str, api_key: str | None) -> str:
    data = _get_models(base_url, api_key)
    if not data:
        raise NotFoundError(f"{base_url} serves no model")
    return str(data[0]["id"])


main = cli
