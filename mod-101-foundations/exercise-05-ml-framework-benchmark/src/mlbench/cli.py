"""Command line for mlbench: parse, call the core, render. No logic lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, progress_bar
from aiinfra_shared.io import atomic_write_text
from rich.console import Console
from rich.table import Table

from mlbench import __version__
from mlbench.compare import compare_files
from mlbench.config import Settings
from mlbench.envinfo import availability, host_fingerprint
from mlbench.models import MODEL_NAMES, PRESETS
from mlbench.report import html_report, markdown_summary
from mlbench.results import ResultsError, load, make_file, save
from mlbench.runner import run_repeated
from mlbench.schema import FRAMEWORKS, SCENARIOS, Result
from mlbench.suite import SuiteError, describe_models, expand, load_suite

console = Console()
if not console.is_terminal:  # logs and CI: keep one row per job instead of wrapping at 80
    console = Console(width=160)


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


def _csv(value: str | None, name: str, choices: tuple[str, ...] | None = None
         ) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise click.BadParameter("must not be empty", param_hint=name)
    if choices:
        bad = [v for v in items if v not in choices]
        if bad:
            raise click.BadParameter(f"unknown {', '.join(bad)} (choose from "
                                     f"{', '.join(choices)})", param_hint=name)
    return items


def _ints(value: str | None, name: str) -> list[int] | None:
    items = _csv(value, name)
    if items is None:
        return None
    try:
        out = [int(v) for v in items]
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}",
                                 param_hint=name) from exc
    if any(v < 1 for v in out):
        raise click.BadParameter(f"must be positive integers, got {value!r}", param_hint=name)
    return out


def _cores(value: str | None) -> list[int] | None:
    items = _csv(value, "--cpu-affinity")
    if items is None:
        return None
    if not all(v.isdigit() for v in items):
        raise click.BadParameter(f"expected core numbers like 0,1, got {value!r}",
                                 param_hint="--cpu-affinity")
    return [int(v) for v in items]


EPILOG_MAIN = """\b
Examples:
  mlbench env                                   # what is installed, CPU, cores
  mlbench list                                  # models, frameworks, scenarios
  mlbench run --frameworks torch,jax --models cnn,lstm --batch-sizes 1,32 --mode train,infer
  mlbench run --suite examples/default-suite.yaml --out reports
  mlbench report reports/results.json --out reports/report.html
  mlbench compare baseline/results.json reports/results.json   # exit 1 on regression
"""


@click.group(cls=AppGroup, epilog=EPILOG_MAIN)
@click.version_option(__version__, prog_name="mlbench")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, envvar="MLBENCH_CONFIG",
              help="YAML/TOML settings file (env vars MLBENCH_* override it).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Fair, reproducible PyTorch / TensorFlow / JAX benchmarks (train, infer, MLPerf-style
    scenarios) with statistics, an HTML report and a CI regression gate."""
    if config_file is not None and not config_file.is_file():
        raise CLIError(f"config file not found: {config_file}", ExitCode.CONFIG)
    ctx.obj = Settings.load(config_file)


@cli.command("env")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def env_cmd(as_json: bool) -> None:
    """Show this machine's fingerprint and which frameworks are installed (no imports).

    \b
    Example:
      mlbench env --json
    """
    fp = host_fingerprint(threads=0).model_dump(exclude={"framework", "framework_version",
                                                          "threads", "extra"})
    avail = availability()
    if as_json:
        echo_json({"host": fp, "frameworks": avail})
        return
    table = Table(title="host")
    table.add_column("field")
    table.add_column("value")
    for k, v in fp.items():
        table.add_row(k, str(v))
    console.print(table)
    ftable = Table(title="frameworks")
    for col in ("framework", "installed", "version", "note"):
        ftable.add_column(col)
    for fw, a in avail.items():
        ftable.add_row(fw, "yes" if a["installed"] else "no", str(a["version"] or "-"),
                       str(a["reason"] or ""))
    console.print(ftable)


@cli.command("list")
@click.option("--size", type=click.Choice(list(PRESETS)), default="small", show_default=True,
              help="Model size preset.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def list_cmd(size: str, as_json: bool) -> None:
    """List the models (with exact parameter counts), frameworks and scenarios.

    \b
    Example:
      mlbench list --size tiny
    """
    models = describe_models(size)
    avail = availability()
    if as_json:
        echo_json({"models": models, "frameworks": avail, "scenarios": list(SCENARIOS)})
        return
    table = Table(title=f"models ({size})")
    for col in ("model", "params", "hyper-parameters"):
        table.add_column(col)
    for m in models:
        table.add_row(m["model"], f"{m['params']:,}",
                      ", ".join(f"{k}={v}" for k, v in m["spec"].items()))
    console.print(table)
    ft = Table(title="frameworks")
    ft.add_column("framework")
    ft.add_column("status")
    for fw, a in avail.items():
        ft.add_row(fw, f"installed {a['version']}" if a["installed"] else f"skipped: {a['reason']}")
    console.print(ft)
    console.print("scenarios: " + ", ".join(SCENARIOS))


def _results_table(results: list[Result]) -> Table:
    table = Table(title="mlbench results")
    for col in ("framework", "model", "mode", "batch", "dtype", "status", "median ms",
                "p95 ms", "CV", "samples/s", "RSS MiB", "note"):
        table.add_column(col, justify="right" if col in ("batch", "median ms", "p95 ms", "CV",
                                                         "samples/s", "RSS MiB") else "left")
    for r in results:
        s = r.latency
        j = r.job
        note = r.reason or ""
        if r.loss_first is not None and r.loss_last is not None:
            note = f"loss {r.loss_first:.3f}->{r.loss_last:.3f}"
        if r.scenario and r.scenario.get("target_met") is not None:
            note = f"QPS {r.scenario['target_qps']:.1f}: " + (
                "met" if r.scenario["target_met"] else "NOT met")
        if r.channels_last_applied:
            note = ("channels_last " + note).strip()
        rss = r.memory.get("peak_rss_mb")
        mode = (j.scenario or j.mode) + ("" if j.jit else " (no jit)")
        table.add_row(j.framework, j.model, mode, str(j.batch_size), j.dtype, r.status,
                      f"{s.median * 1e3:.3f}" if s else "-", f"{s.p95 * 1e3:.3f}" if s else "-",
                      f"{s.cv:.1%}" if s else "-",
                      f"{r.throughput:,.1f}" if r.throughput else "-",
                      f"{rss:.0f}" if rss else "-", note)
    return table


EPILOG_RUN = """\b
Examples:
  mlbench run                                        # default suite, all frameworks
  mlbench run --frameworks torch,jax --models cnn,lstm --batch-sizes 1,32 --mode train,infer
  mlbench run --size tiny --iterations 10 --scenarios single_stream,offline,server
  mlbench run --dtypes fp32,bf16 --channels-last both --threads 1,2 --jit both
  mlbench run --suite examples/default-suite.yaml --out reports/today

\b
Each framework runs in its own subprocess; a framework that is not installed is reported
as skipped with the reason. Exit code 0 when every job ran or was skipped, 1 when a job
failed, 2 for bad options, 3 for a bad suite file.
"""


@cli.command("run", epilog=EPILOG_RUN)
@click.option("--suite", "suite_path", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML suite file; the options below override its fields.")
@click.option("--frameworks", help=f"Comma list of {', '.join(FRAMEWORKS)}.")
@click.option("--models", help=f"Comma list of {', '.join(MODEL_NAMES)}.")
@click.option("--batch-sizes", help="Comma list of batch sizes, e.g. 1,32.")
@click.option("--mode", "modes", help="Comma list of train, infer.")
@click.option("--dtypes", help="Comma list of fp32, bf16 (bf16 = mixed precision).")
@click.option("--threads", help="Comma list of intra-op thread counts.")
@click.option("--device", type=click.Choice(["cpu", "gpu"]), default=None, help="Device.")
@click.option("--jit", type=click.Choice(["auto", "on", "off", "both"]), default=None,
              help="XLA / torch.compile. auto: each framework's default fast path.")
@click.option("--channels-last", type=click.Choice(["off", "on", "both"]), default=None,
              help="PyTorch CNN memory format.")
@click.option("--scenarios", help=f"Comma list of {', '.join(SCENARIOS)} (inference).")
@click.option("--size", type=click.Choice(list(PRESETS)), default=None, help="Model size preset.")
@click.option("--warmup", type=click.IntRange(0), default=None, help="Untimed iterations.")
@click.option("--iterations", type=click.IntRange(2), default=None, help="Timed iterations.")
@click.option("--queries", type=click.IntRange(2), default=None, help="Queries per scenario.")
@click.option("--server-qps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Server scenario target QPS (default: half the measured capacity).")
@click.option("--latency-bound-ms", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Server scenario p99 latency bound.")
@click.option("--cpu-affinity", help="Pin workers to these cores, e.g. 0,1.")
@click.option("--isolate-jobs/--shared-workers", "isolate_jobs", default=None,
              help="One fresh worker process per job: exact per-job memory peaks (JAX's "
                   "device peak too), one framework import per job [default: shared].")
@click.option("--repeats", type=click.IntRange(1, 50), default=None,
              help="Measure each job in this many fresh worker processes (compare needs 3+ "
                   "to see run-to-run noise) [default: suite's, 1].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: settings output_dir, 'reports').")
@click.option("--report/--no-report", default=True, show_default=True,
              help="Also write report.html and summary.md.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def run_cmd(ctx: click.Context, suite_path: Path | None, frameworks: str | None,
            models: str | None, batch_sizes: str | None, modes: str | None,
            dtypes: str | None, threads: str | None, device: str | None, jit: str | None,
            channels_last: str | None, scenarios: str | None, size: str | None,
            warmup: int | None, iterations: int | None, queries: int | None,
            server_qps: float | None, latency_bound_ms: float | None,
            cpu_affinity: str | None, isolate_jobs: bool | None, repeats: int | None,
            out_dir: Path | None, report: bool,
            as_json: bool) -> None:
    """Run a benchmark suite and write results.json, results.csv (and the report)."""
    settings = _settings(ctx)
    overrides: dict[str, Any] = {
        "frameworks": _csv(frameworks, "--frameworks", FRAMEWORKS),
        "models": _csv(models, "--models", MODEL_NAMES),
        "batch_sizes": _ints(batch_sizes, "--batch-sizes"),
        "modes": _csv(modes, "--mode", ("train", "infer")),
        "dtypes": _csv(dtypes, "--dtypes", ("fp32", "bf16")),
        "threads": _ints(threads, "--threads"),
        "device": device, "size": size, "warmup": warmup, "iterations": iterations,
        "queries": queries, "server_qps": server_qps, "latency_bound_ms": latency_bound_ms,
        "scenarios": _csv(scenarios, "--scenarios", SCENARIOS),
        "cpu_affinity": _cores(cpu_affinity), "repeats": repeats,
        "isolate_jobs": isolate_jobs,
    }
    if jit is not None:
        overrides["jit"] = {"auto": "auto", "on": True, "off": False, "both": [False, True]}[jit]
    if channels_last is not None:
        overrides["channels_last"] = {"off": [False], "on": [True], "both": [False, True]}[
            channels_last]
    try:
        suite = load_suite(suite_path or settings.suite, overrides)
        jobs = expand(suite)
    except SuiteError as exc:
        raise CLIError(str(exc), ExitCode.CONFIG) from exc
    out = out_dir or settings.output_dir
    if out.exists() and not out.is_dir():
        raise CLIError(f"output path is not a directory: {out}", ExitCode.USAGE)
    total = len(jobs) * suite.repeats
    with progress_bar(f"benchmarking {len(jobs)} jobs x {suite.repeats}", total=total) \
            as advance:
        results = run_repeated(jobs, suite.repeats, cpu_affinity=suite.cpu_affinity,
                               on_result=lambda _r: advance(1),
                               timeout_s=settings.worker_timeout_s,
                               isolate_jobs=suite.isolate_jobs)
    doc = make_file(results, suite.name)
    jpath, cpath = save(doc, out)
    written = [str(jpath), str(cpath)]
    if report:
        atomic_write_text(out / "report.html", html_report(doc))
        atomic_write_text(out / "summary.md", markdown_summary(doc))
        written += [str(out / "report.html"), str(out / "summary.md")]
    if as_json:
        echo_json(doc.model_dump(mode="json"))
    else:
        console.print(_results_table(results))
        console.print("wrote " + ", ".join(written))
    failed = [r for r in results if r.status == "error"]
    if failed:
        raise CLIError(f"{len(failed)} of {len(results)} jobs failed (first: {failed[0].key}: "
                       f"{failed[0].reason})", ExitCode.FAILURE)


def _load(path: Path) -> Any:
    try:
        return load(path)
    except ResultsError as exc:
        code = ExitCode.NOT_FOUND if "not found" in str(exc) else ExitCode.CONFIG
        raise CLIError(str(exc), code) from exc


@cli.command("report")
@click.argument("results_path", type=click.Path(path_type=Path))
@click.option("--out", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="HTML file (default: report.html next to the results).")
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Markdown summary (default: summary.md next to the results).")
def report_cmd(results_path: Path, html_out: Path | None, md_out: Path | None) -> None:
    """Build a self-contained HTML report (interactive Plotly charts, works offline) and a
    markdown summary from a results file.

    \b
    Example:
      mlbench report reports/results.json --out /tmp/report.html
    """
    doc = _load(results_path)
    html_out = html_out or results_path.parent / "report.html"
    md_out = md_out or results_path.parent / "summary.md"
    atomic_write_text(html_out, html_report(doc))
    atomic_write_text(md_out, markdown_summary(doc))
    click.echo(f"wrote {html_out} and {md_out}")


@cli.command("compare")
@click.argument("old_path", type=click.Path(path_type=Path))
@click.argument("new_path", type=click.Path(path_type=Path))
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="1 - confidence of the ratio's bootstrap interval (repeated "
                                 "runs), or Welch's significance level (single runs) "
                                 "[default: 0.01].")
@click.option("--min-effect", type=click.FloatRange(min=0), default=None,
              help="Smallest relative slowdown that counts as a regression [default: 0.05].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def compare_cmd(ctx: click.Context, old_path: Path, new_path: Path, alpha: float | None,
                min_effect: float | None, as_json: bool) -> None:
    """Compare two results files; exit 1 when any job got significantly slower.

    With repeated runs on both sides (run --repeats 3+), a job regresses when the bootstrap
    interval of median(new runs) / median(old runs) lies above 1 AND the ratio exceeds
    1 + noise floor, the floor being max(--min-effect, 2 x the baseline's run-to-run CV):
    a slowdown smaller than the baseline's own process-to-process noise is not called.
    With single runs it falls back to Welch's t-test on the per-iteration latencies
    (p < alpha and a mean slower by more than --min-effect), which cannot see that noise.

    \b
    Example (CI gate):
      mlbench compare baseline/results.json reports/results.json --min-effect 0.05
    """
    settings = _settings(ctx)
    rep = compare_files(_load(old_path), _load(new_path),
                        alpha=settings.alpha if alpha is None else alpha,
                        min_effect=settings.min_effect if min_effect is None else min_effect)
    if as_json:
        echo_json(rep.model_dump(mode="json") | {"regressions": len(rep.regressions)})
    else:
        table = Table(title=f"compare (alpha={rep.alpha}, min effect={rep.min_effect:.0%})")
        for col in ("job", "verdict", "old ms", "new ms", "change", "interval / p", "note"):
            table.add_column(col)
        for row in rep.rows:
            c, r = row.comparison, row.runs
            if r is not None:
                cells = [f"{r.old_median * 1e3:.3f}", f"{r.new_median * 1e3:.3f}",
                         f"{r.ratio - 1:+.1%}", f"{r.ci_low:.3f}-{r.ci_high:.3f}x"]
            elif c is not None:
                cells = [f"{c.old_mean * 1e3:.3f}", f"{c.new_mean * 1e3:.3f}",
                         f"{c.relative_change:+.1%}", f"p={c.p_value:.2g}"]
            else:
                cells = ["-"] * 4
            table.add_row(row.key, row.verdict, *cells, row.note or "-")
        console.print(table)
    if rep.regressions:
        raise CLIError(f"{len(rep.regressions)} regression(s): "
                       + ", ".join(r.key for r in rep.regressions), ExitCode.FAILURE)


main = cli
