"""Command line for gpuopt: parse, call the core, render. No logic lives here.

Exit codes: 0 ok, 1 failure (a loss guard failed, a re-check did not fit), 2 usage,
3 bad config or a truncated / foreign trace, 4 unknown workload or recipe, 5 a recipe this
device cannot run (fp16 scaler or CUDA graphs on CPU, torch.compile without a compiler),
70 internal (rerun with --debug).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import (
    AppGroup,
    CLIError,
    ExitCode,
    echo_json,
    expected_errors,
    print_table,
    progress_bar,
)
from aiinfra_shared.io import atomic_write_json, atomic_write_text

from gpuopt import __version__
from gpuopt.config import Settings, resolve_device
from gpuopt.errors import GpuoptError

EPILOG = """\b
Examples:
  gpuopt profile --workload databound --out reports/base
  gpuopt analyze reports/base
  gpuopt profile --workload databound --recipe dataloader:4 --out reports/workers
  gpuopt diff reports/base reports/workers
  gpuopt tune --workload cnn --out reports/tune-cnn
  gpuopt batch-size --workload cnn --budget-mb 64 --target-batch 256 --ranks 2
  gpuopt tf --recipes baseline,amp,xla
  GPUOPT_THREADS=2 gpuopt --config gpuopt.yaml tune
"""


def _table(title: str, columns: list[str], rows: Any) -> None:
    """A rich table; 160 columns when stdout is not a terminal (logs, make run, CI)."""
    import sys

    from rich.console import Console

    print_table(title, columns, rows,
                console=Console() if sys.stdout.isatty() else Console(width=160))


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


def _setup_torch(settings: Settings) -> str:
    import torch

    device = resolve_device(settings.device)
    if not device.startswith("cuda"):
        torch.set_num_threads(settings.threads)
    return device


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@click.group(cls=AppGroup, epilog=EPILOG)
@click.version_option(__version__, prog_name="gpuopt")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              envvar="GPUOPT_CONFIG", help="YAML/TOML settings file (env GPUOPT_* wins).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Profile a PyTorch training loop, find its bottleneck and measure each fix."""
    os.environ.setdefault("KINETO_LOG_LEVEL", "5")
    ctx.obj = Settings.load(config_file)


@cli.command("workloads")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def workloads_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the workloads and recipes (and which recipes run on this device)."""
    from gpuopt.recipes import RECIPES, applicable
    from gpuopt.workloads import BUILTIN, load_workload

    device = _setup_torch(_settings(ctx))
    rows: list[dict[str, Any]] = []
    for name in BUILTIN:
        workload = load_workload(name)
        rows.append({"workload": name, "batch_size": workload.batch_size,
                     "description": workload.description,
                     "recipes": applicable(workload, device)})
    if as_json:
        echo_json({"device": device, "workloads": rows,
                   "recipes": {n: r.summary for n, r in RECIPES.items()}})
        return
    _table(f"workloads ({device})", ["workload", "batch", "description"],
                [[r["workload"], r["batch_size"], r["description"]] for r in rows])
    _table("recipes", ["recipe", "what", "needs"],
                [[n, r.summary, "CUDA" if r.needs_cuda else ""] for n, r in RECIPES.items()])


@cli.command("profile")
@click.option("--workload", "-w", default=None, help="cnn | llama | databound | module:function")
@click.option("--recipe", "-r", "recipes", multiple=True, help="Recipe to apply (repeatable).")
@click.option("--batch-size", type=click.IntRange(1), default=None)
@click.option("--active", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Profiled steps (after 1 wait + 1 warm-up step).")
@click.option("--no-shapes", is_flag=True, help="Without record_shapes (and memory timeline).")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Run directory [reports/profile-<workload>].")
@click.pass_context
@expected_errors(GpuoptError)
def profile_cmd(ctx: click.Context, workload: str | None, recipes: tuple[str, ...],
                batch_size: int | None, active: int, no_shapes: bool, out: Path | None) -> None:
    """Profile a few training steps: Chrome trace, key_averages, memory timeline."""
    from gpuopt.profiling import ProfileOptions, profile_run
    from gpuopt.recipes import compose
    from gpuopt.workloads import load_workload

    settings = _settings(ctx)
    device = _setup_torch(settings)
    wl = load_workload(workload or settings.workload, batch_size)
    spec, applied = compose(list(recipes), wl, device)
    target = out or Path(settings.out) / f"profile-{wl.name}"
    options = ProfileOptions(active=active, record_shapes=not no_shapes,
                             profile_memory=not no_shapes, with_stack=not no_shapes)
    with progress_bar(f"profiling {wl.name}", total=None):
        run = profile_run(wl, spec, target, device=device, options=options, seed=settings.seed,
                          recipes=applied)
    click.echo(f"wrote {target} ({len(run['steps'])} steps, {active} profiled; open "
               f"trace/ in Perfetto or chrome://tracing)")


def _print_analysis(analysis: Any) -> None:
    from gpuopt.report import breakdown_rows, recommendation_rows

    _table(f"{analysis.workload} on {analysis.device}: step "
                f"{analysis.mean_step_s * 1000:.1f} ms (trainer clock "
                f"{analysis.measured_step_s * 1000:.1f} ms)", ["category", "per step", "share"],
                breakdown_rows(analysis))
    mfu = f"{analysis.mfu:.1%}" if analysis.mfu is not None else "-"
    click.echo(f"FLOP/s {analysis.achieved_flops / 1e9:.2f} G of a measured fp32 peak "
               f"{analysis.peak_flops['float32'] / 1e9:.1f} G ({mfu})")
    _table("recommendations", ["#", "recipe", "kind", "expected", "why"],
                recommendation_rows(analysis))


@cli.command("analyze")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--include-compile", is_flag=True, help="Let the rules propose torch.compile.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@expected_errors(GpuoptError)
def analyze_cmd(ctx: click.Context, run_dir: Path, include_compile: bool, as_json: bool) -> None:
    """Step-time split, FLOP/s vs a measured peak and ranked recommendations of a run."""
    from gpuopt.analyze import analyze_run
    from gpuopt.traces import load_run

    _setup_torch(_settings(ctx))
    analysis = analyze_run(load_run(run_dir), include_compile=include_compile)
    atomic_write_json(run_dir / "analysis.json", analysis.as_dict())
    if as_json:
        echo_json(analysis.as_dict())
    else:
        _print_analysis(analysis)


@cli.command("diff")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--top", type=click.IntRange(1), default=15, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(GpuoptError)
def diff_cmd(ctx: click.Context, run_a: Path, run_b: Path, top: int, as_json: bool) -> None:
    """Compare two profiled runs per category and per op (self time per step)."""
    from gpuopt.diff import diff_runs
    from gpuopt.traces import load_run

    _setup_torch(_settings(ctx))
    result = diff_runs(load_run(run_a), load_run(run_b), top=top)
    if as_json:
        echo_json(result.as_dict())
        return
    _table(f"step {result.step_a_s * 1000:.1f} ms -> {result.step_b_s * 1000:.1f} ms",
                ["category", "A ms", "B ms", "delta ms"],
                [[c["category"], f"{c['a_ms']:.1f}", f"{c['b_ms']:.1f}",
                  f"{c['delta_ms']:+.1f}"] for c in result.categories])
    _table("ops (self time per step)", ["op", "A us", "B us", "delta us", "status"],
                [[o["op"], f"{o['a_us']:.0f}", f"{o['b_us']:.0f}", f"{o['delta_us']:+.0f}",
                  o["status"]] for o in result.ops])


@cli.command("tune")
@click.option("--workload", "-w", default=None, help="cnn | llama | databound | module:function")
@click.option("--recipes", default=None,
              help="Comma list of single recipes to measure [every applicable one].")
@click.option("--set", "chosen", default=None,
              help="Comma list for the combined set [the recommended set].")
@click.option("--batch-size", type=click.IntRange(1), default=None)
@click.option("--rounds", type=click.IntRange(1, 50), default=None)
@click.option("--steps", type=click.IntRange(1), default=None, help="Timed steps per round.")
@click.option("--include-compile", is_flag=True, help="Also measure torch.compile recipes.")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Report directory [reports/tune-<workload>].")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(GpuoptError)
def tune_cmd(ctx: click.Context, workload: str | None, recipes: str | None, chosen: str | None,
             batch_size: int | None, rounds: int | None, steps: int | None,
             include_compile: bool, out: Path | None, as_json: bool) -> None:
    """Profile, recommend, then measure baseline vs each recipe vs the recommended set."""
    from gpuopt.analyze import analyze_run
    from gpuopt.profiling import ProfileOptions, profile_run
    from gpuopt.recipes import TrainSpec, applicable, compose, get_recipe
    from gpuopt.report import TUNE_COLUMNS, tune_html, tune_markdown, tune_rows
    from gpuopt.rules import recommended_set
    from gpuopt.runs import publish_dir
    from gpuopt.traces import load_run
    from gpuopt.tune import TuneOptions, run_tune
    from gpuopt.workloads import load_workload

    settings = _settings(ctx)
    device = _setup_torch(settings)
    wl = load_workload(workload or settings.workload, batch_size)
    singles = _split(recipes)
    for name in singles + _split(chosen):  # fail fast, before any work
        compose([name], wl, device)
    target = out or Path(settings.out) / f"tune-{wl.name}"
    with publish_dir(target) as staging:
        with progress_bar("profiling the baseline", total=None):
            profile_run(wl, TrainSpec(), staging / "profile-baseline", device=device,
                        options=ProfileOptions(active=2), seed=settings.seed)
        analysis = analyze_run(load_run(staging / "profile-baseline"),
                               include_compile=include_compile)
        if not as_json:
            _print_analysis(analysis)
        best = _split(chosen) or recommended_set(analysis.recommendations)
        if not singles:
            singles = [n for n in applicable(wl, device)
                       if include_compile or not get_recipe(n).needs_compiler]
        variants: dict[str, list[str]] = {"baseline": []}
        for name in singles + best:
            variants.setdefault(name, [name])
        if best:
            variants["recommended"] = best
        expected = {r.recipe: r.expected_speedup for r in analysis.recommendations}
        options = TuneOptions(rounds=rounds or settings.rounds, steps=steps or settings.steps,
                              warmup=settings.warmup, loss_steps=settings.loss_steps,
                              loss_tolerance=settings.loss_tolerance, seed=settings.seed)
        with progress_bar("interleaved rounds", total=options.rounds * len(variants)) as tick:
            doc = run_tune(wl, variants, device=device, options=options, expected=expected,
                           progress=tick)
        doc["recommended"] = best
        doc["analysis"] = analysis.as_dict()
        atomic_write_json(staging / "tune.json", doc)
        atomic_write_text(staging / "tune.md", tune_markdown(doc, analysis))
        atomic_write_text(staging / "tune.html", tune_html(doc, analysis))
    if as_json:
        echo_json({k: v for k, v in doc.items() if k != "analysis"})
    else:
        _table(f"before / after ({target}/tune.md, tune.html)", TUNE_COLUMNS,
                    tune_rows(doc))
    failed = [row["variant"] for row in doc["variants"] if not row["loss_ok"]]
    if failed:
        raise CLIError(f"loss guard failed for {', '.join(failed)} (tolerance "
                       f"{options.loss_tolerance:.0%}); see {target}/tune.md")


@cli.command("batch-size")
@click.option("--workload", "-w", default=None)
@click.option("--budget-mb", type=click.FloatRange(min=1), required=True,
              help="Memory budget: a CUDA memory fraction, or RLIMIT_DATA above a warmed-up "
                   "process on CPU.")
@click.option("--headroom", type=click.FloatRange(0, 0.9), default=0.1, show_default=True)
@click.option("--start", type=click.IntRange(1), default=1, show_default=True)
@click.option("--max-batch", type=click.IntRange(1), default=512, show_default=True)
@click.option("--steps", type=click.IntRange(2), default=2, show_default=True,
              help="Training steps per probe (>= 2: optimizer state + activations).")
@click.option("--verify-steps", type=click.IntRange(1), default=5, show_default=True)
@click.option("--target-batch", type=click.IntRange(1), default=None,
              help="Global batch to plan micro-batch x accumulation for.")
@click.option("--ranks", type=click.IntRange(1), default=1, show_default=True)
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Also write the result as JSON here.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(GpuoptError)
def batch_size_cmd(ctx: click.Context, workload: str | None, budget_mb: float, headroom: float,
                   start: int, max_batch: int, steps: int, verify_steps: int,
                   target_batch: int | None, ranks: int, out: Path | None,
                   as_json: bool) -> None:
    """Largest batch that trains under a memory budget (real OOMs, fresh processes)."""
    from gpuopt.batchsize import search
    from gpuopt.workloads import load_workload

    settings = _settings(ctx)
    device = resolve_device(settings.device)
    name = workload or settings.workload
    load_workload(name)  # unknown names fail here, in one line
    with progress_bar("probing batch sizes", total=None) as tick:
        result = search(name, int(budget_mb * 2**20), headroom=headroom, start=start,
                        max_batch=max_batch, steps=steps, verify_steps=verify_steps,
                        device=device, threads=settings.threads, target_global=target_batch,
                        ranks=ranks, on_probe=lambda _p: tick(1))
    if out is not None:
        atomic_write_json(out, result.as_dict())
    if as_json:
        echo_json(result.as_dict())
    else:
        _table(f"probes ({budget_mb:.0f} MiB, headroom {headroom:.0%})",
                    ["batch", "fits", "detail"],
                    [[p.batch, "yes" if p.fits else "no", p.detail[:80]]
                     for p in result.probes])
        click.echo(f"batch size: {result.answer} (verified {verify_steps} steps in a fresh "
                   f"process: {'yes' if result.verified else 'NO'})")
        if result.plan:
            plan = result.plan
            click.echo(f"global batch {plan['global_batch']} = {plan['ranks']} rank(s) x "
                       f"micro-batch {plan['micro_batch']} x {plan['accumulation_steps']} "
                       "accumulation steps")
    if not result.verified:
        raise CLIError("the answer did not survive the re-check; raise --headroom",
                       ExitCode.FAILURE)


@cli.command("tf")
@click.option("--recipes", default="baseline,amp,xla", show_default=True,
              help="Comma list of: baseline, amp (mixed_bfloat16), xla (jit_compile), amp+xla.")
@click.option("--steps", type=click.IntRange(1), default=6, show_default=True)
@click.option("--warmup", type=click.IntRange(1), default=2, show_default=True)
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Run directory [reports/tf].")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(GpuoptError)
def tf_cmd(ctx: click.Context, recipes: str, steps: int, warmup: int, out: Path | None,
           as_json: bool) -> None:
    """The CNN in Keras: tf.profiler trace, phase split, AMP and XLA measured."""
    from gpuopt.errors import UnknownNameError
    from gpuopt.tfworkload import TF_RECIPES, run_tf

    names = _split(recipes)
    unknown = [n for n in names if n not in TF_RECIPES]
    if unknown or not names:
        raise UnknownNameError(f"unknown TensorFlow recipe(s) {', '.join(unknown) or '(none)'}"
                               f"; choose from {', '.join(TF_RECIPES)}")
    try:
        import tensorflow  # noqa: F401
    except ImportError as exc:
        raise CLIError("TensorFlow is not installed (uv sync --extra tensorflow)",
                       ExitCode.UNAVAILABLE) from exc
    target = out or Path(_settings(ctx).out) / "tf"
    with progress_bar("TensorFlow variants", total=None):
        doc = run_tf(names, target, steps=steps, warmup=warmup)
    if as_json:
        echo_json(doc)
        return
    _table(f"TensorFlow CNN ({target}/tf.json)",
                ["recipe", "median step", "speed-up", "compile/warm-up", "data", "forward",
                 "backward", "optimizer", "loss"],
                [[r["recipe"], f"{r['median_step_s'] * 1000:.1f} ms", f"{r['speedup']:.2f}x",
                  f"{r['warmup_s']:.1f} s", *(f"{r['shares'][p]:.0%}" for p in
                                               ("data", "forward", "backward", "optimizer")),
                  f"{r['loss']:.4f}"] for r in doc["variants"]])


main = cli
