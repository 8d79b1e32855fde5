"""Command line for disttrain: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import json
import sys
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

from disttrain import __version__
from disttrain.config import STRATEGIES, Delay, Settings, TrainConfig, load_train_config
from disttrain.errors import ConfigurationError, DisttrainError

errors = expected_errors(DisttrainError, default_code=ExitCode.FAILURE)


def _settings() -> Settings:
    return Settings.load()


def _train_options(fn: Any) -> Any:
    options = [
        click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                     help="TrainConfig file (YAML/TOML/JSON; keys as in examples/train.yaml)."),
        click.option("--strategy", type=str, default=None,
                     help=f"One of {', '.join(STRATEGIES)}  [default: $DISTTRAIN_STRATEGY or ddp]"),
        click.option("--steps", type=int, default=None, help="Optimizer steps."),
        click.option("--global-batch", type=int, default=None,
                     help="Samples per optimizer step, all ranks together."),
        click.option("--accumulation-steps", type=int, default=None),
        click.option("--checkpoint-dir", type=str, default=None),
        click.option("--checkpoint-every", type=int, default=None),
        click.option("--comm-hook", type=click.Choice(["none", "fp16", "bf16", "powersgd"]),
                     default=None, help="DDP gradient compression."),
        click.option("--bucket-cap-mb", type=float, default=None),
        click.option("--straggler/--no-straggler", default=None,
                     help="Per-window straggler reports."),
        click.option("--straggler-action", type=click.Choice(["log", "metric", "exit"]),
                     default=None),
        click.option("--inject-delay", type=str, default=None,
                     help="Plant a straggler: rank=R,ms=M[,phase=data|compute]."),
        click.option("--kill-at-step", type=int, default=None,
                     help="Fault injection: SIGKILL rank 1 (`kill_rank`) at this step, once."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _config(config_path: Path | None, strategy: str | None, **flags: Any) -> TrainConfig:
    if strategy is not None and strategy not in STRATEGIES:
        raise ConfigurationError(f"unknown strategy {strategy!r}; choose one of "
                                 f"{', '.join(STRATEGIES)}")
    delay = flags.pop("inject_delay", None)
    changes = {**flags, "strategy": strategy}
    if delay:
        changes["inject_delay"] = Delay.parse(delay).model_dump()
        changes.setdefault("straggler", True)
        if changes.get("straggler") is None:
            changes["straggler"] = True
    if config_path is None and strategy is None:
        changes["strategy"] = _settings().strategy
    return load_train_config(config_path, **changes)


def _run_dir(out: Path | None, name: str) -> Path:
    return out or Path(_settings().run_dir) / name


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="disttrain")
def cli() -> None:
    """Train one model on many processes with the result of one: torchrun, DDP, FSDP2 + DCP,
    Ray Train; survive a lost worker; name the straggler; know what scaling costs.

    \b
    Examples:
      disttrain launch --nproc 2                          # DDP on 2 processes (gloo on CPU)
      disttrain launch --strategy fsdp --nproc 2 --checkpoint-dir build/ck
      disttrain launch --nproc 2 --kill-at-step 25 --max-restarts 3 --checkpoint-dir build/ck
      disttrain launch --nodes 2 --nproc 1                # two torchrun "nodes" on loopback
      disttrain launch --nproc 2 --inject-delay rank=1,ms=40
      disttrain train --strategy single                   # one process, no torchrun
      disttrain train --strategy ray --nproc 2            # Ray Train TorchTrainer
      disttrain verify --nproc 2                          # ranks agree, DDP/FSDP == single
      disttrain scale                                     # 1 vs 2 processes + projection
      disttrain comm-bench --nproc 2                      # all_reduce algbw/busbw
      disttrain manifests --out build/k8s                 # PyTorchJob + RayJob, validated
    """


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json(report)
        return
    losses = report["losses"]
    click.echo(f"{report['name']}: {report['strategy']} on {report['world_size']} rank(s) "
               f"({report['backend']}), steps {report['start_step']}->{report['steps_done']}, "
               f"loss {losses[0] if losses else float('nan'):.4f} -> "
               f"{losses[-1] if losses else float('nan'):.4f}, "
               f"{report['samples_per_s']:.0f} samples/s"
               + (f", resumed from step {report['resumed_from']}"
                  if report.get("resumed_from") is not None else "")
               + (f", restarts {report['restart_count']}" if report.get("restart_count") else "")
               + ("" if report.get("ranks_agree", True) else ", RANKS DISAGREE"))
    for window in report.get("straggler_reports") or []:
        if window["straggler"] is not None:
            click.echo(f"  straggler: rank {window['straggler']} ({window['phase']}) made the "
                       f"others wait {window['lag_ms']:.1f} ms/step, steps "
                       f"{window['first_step']}-{window['last_step']}")


@cli.command()
@_train_options
@click.option("--nproc", type=int, default=None, help="Processes per node  [default: 2]")
@click.option("--nodes", type=int, default=1, show_default=True,
              help="torchrun launchers on loopback, one per simulated node.")
@click.option("--nnodes", type=str, default=None, help="Elastic membership MIN:MAX.")
@click.option("--port", type=int, default=None,
              help="c10d rendezvous port  [default: $DISTTRAIN_RDZV_PORT or 29400]")
@click.option("--max-restarts", type=int, default=None, help="[default: 3]")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run dir: reports, weights, per-rank logs  [default: build/runs/<name>]")
@click.option("--json", "as_json", is_flag=True)
@errors
def launch(config_path: Path | None, strategy: str | None, nproc: int | None, nodes: int,
           nnodes: str | None, port: int | None, max_restarts: int | None, out: Path | None,
           as_json: bool, **flags: Any) -> None:
    """Run training under torchrun (TorchElastic, c10d rendezvous) on NPROC x NODES ranks.

    Exit codes: 0 done, 1 the job failed after its restarts, 3 bad config (e.g. a global
    batch the world size does not divide), 6 rendezvous port in use.
    """
    from disttrain.launch import LaunchSpec, worker_error
    from disttrain.launch import launch as do_launch

    settings = _settings()
    cfg = _config(config_path, strategy, **flags)
    spec = LaunchSpec(nproc=nproc or settings.nproc, nodes=nodes, nnodes=nnodes,
                      host=settings.rdzv_host, port=port or settings.rdzv_port,
                      max_restarts=settings.max_restarts if max_restarts is None
                      else max_restarts, out=_run_dir(out, cfg.name))
    with progress_bar(f"{cfg.strategy} x{spec.world_size}", total=cfg.steps) as advance:
        state = {"done": 0}

        def progress(done: int, total: int) -> None:
            if done > state["done"]:
                advance(done - state["done"])
                state["done"] = done

        result = do_launch(spec, [cfg], progress=progress)
    report = result.reports.get(cfg.name)
    if result.returncode != 0 or report is None:
        reason = (worker_error(result) or result.error
                  or f"see the per-rank logs under {spec.out / 'logs'}")
        code = result.returncode if result.returncode in (ExitCode.CONFIG,
                                                          ExitCode.CONFLICT) else 1
        raise CLIError(f"torchrun exited {result.returncode}: {reason}", code)
    _print_report(report, as_json)
    if not as_json:
        click.echo(f"  report {spec.out / (cfg.name + '.json')}, logs {spec.out / 'logs'}")


@cli.command()
@_train_options
@click.option("--nproc", type=int, default=2, show_default=True,
              help="Ray Train workers (strategy ray only).")
@click.option("--out", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@errors
def train(config_path: Path | None, strategy: str | None, nproc: int, out: Path | None,
          as_json: bool, **flags: Any) -> None:
    """Train in this process (`single`) or on Ray Train workers (`ray`).

    DDP and FSDP need several processes: use `disttrain launch`.
    """
    from disttrain.worker import write_result

    cfg = _config(config_path, strategy or "single", **flags)
    run_dir = _run_dir(out, cfg.name)
    if cfg.strategy == "ray":
        from disttrain.ray_train import run_ray

        report = run_ray(cfg, nproc, run_dir)
    elif cfg.strategy in {"single", "deepspeed"}:
        from disttrain.runtime import init_distributed
        from disttrain.train import train as run

        result = run(cfg.overrides(strategy=cfg.strategy), init_distributed(cfg.device))
        report = result.as_report()
        write_result(run_dir, report, result.weights)
    else:
        raise ConfigurationError(f"strategy {cfg.strategy} needs a process group: "
                                 f"use `disttrain launch --strategy {cfg.strategy}`")
    _print_report(report, as_json)


@cli.command()
@click.option("--nproc", type=int, default=2, show_default=True)
@click.option("--steps", type=int, default=12, show_default=True)
@click.option("--atol", type=float, default=1e-5, show_default=True)
@click.option("--port", type=int, default=None)
@click.option("--out", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@errors
def verify(nproc: int, steps: int, atol: float, port: int | None, out: Path | None,
           as_json: bool) -> None:
    """Check that ranks agree and that DDP and FSDP land on the single-process weights.

    Exit 0 when every check passes, 1 when one does not.
    """
    from aiinfra_shared.procs.ports import free_port

    from disttrain.verify import run_verify

    result = run_verify(nproc, steps, atol, out or Path(_settings().run_dir) / "verify",
                        port or free_port())
    if as_json:
        echo_json(result)
    else:
        print_table("verify", ["strategy", "ranks agree", "max |w - w_single|", "ok"],
                    [[r["strategy"], r["ranks_agree"], f"{r['max_abs_diff']:.2e}", r["ok"]]
                     for r in result["runs"]])
    if not result["ok"]:
        sys.exit(ExitCode.FAILURE)


@cli.command("comm-bench")
@click.option("--nproc", type=int, default=2, show_default=True)
@click.option("--iters", type=int, default=20, show_default=True)
@click.option("--max-mib", type=int, default=64, show_default=True)
@click.option("--port", type=int, default=None)
@click.option("--out", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@errors
def comm_bench(nproc: int, iters: int, max_mib: int, port: int | None, out: Path | None,
               as_json: bool) -> None:
    """all_reduce from 1 KiB to 64 MiB: time, algbw and busbw (nccl-tests' definitions)."""
    from aiinfra_shared.procs.ports import free_port

    from disttrain.commbench import DEFAULT_SIZES
    from disttrain.launch import LaunchSpec
    from disttrain.launch import launch as do_launch

    sizes = [s for s in DEFAULT_SIZES if s <= max_mib * 1024 * 1024]
    spec = LaunchSpec(nproc=nproc, port=port or free_port(), max_restarts=0,
                      out=out or Path(_settings().run_dir) / "comm-bench")
    result = do_launch(spec, [], commbench={"sizes": sizes, "iters": iters})
    if result.returncode != 0 or "commbench" not in result.reports:
        raise CLIError(f"comm-bench failed (torchrun exit {result.returncode}); logs under "
                       f"{spec.out}", ExitCode.FAILURE)
    doc = result.reports["commbench"]
    if as_json:
        echo_json(doc)
        return
    print_table(f"all_reduce, {doc['backend']}, {doc['world_size']} ranks",
                ["size", "time (us)", "algbw (GB/s)", "busbw (GB/s)"],
                [[_size(r["bytes"]), r["time_us"], r["algbw_gbps"], r["busbw_gbps"]]
                 for r in doc["results"]])


def _size(n: int) -> str:
    return f"{n // 1024 // 1024} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


@cli.command()
@click.option("--procs", default="1,2", show_default=True,
              help="Process counts to measure (comma separated).")
@click.option("--per-rank-batch", type=int, default=256, show_default=True)
@click.option("--steps", type=int, default=30, show_default=True)
@click.option("--hidden", type=int, default=256, show_default=True)
@click.option("--blocks", type=int, default=4, show_default=True)
@click.option("--project", default="1,2,8,64,512", show_default=True,
              help="World sizes to project to (ring model).")
@click.option("--out", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@errors
def scale(procs: str, per_rank_batch: int, steps: int, hidden: int, blocks: int, project: str,
          out: Path | None, as_json: bool) -> None:
    """Samples/s, efficiency and communication share at 1 and 2 processes, and a projection
    for N GPUs from the measured compute and all-reduce costs."""
    from aiinfra_shared.procs.ports import free_port

    from disttrain.scale import run_scale

    try:
        worlds = [int(p) for p in procs.split(",")]
        targets = tuple(int(p) for p in project.split(","))
    except ValueError as exc:
        raise ConfigurationError("--procs/--project: comma-separated integers") from exc
    base = TrainConfig(steps=steps, hidden=hidden, blocks=blocks,
                       samples=per_rank_batch * max(worlds) * 8)
    run_dir = out or Path(_settings().run_dir) / "scale"
    doc = run_scale(base, worlds, per_rank_batch, run_dir, free_port, project_to=targets)
    atomic_write_json(run_dir / "scale.json", doc)
    if as_json:
        echo_json(doc)
        return
    print_table("measured (weak scaling, OMP_NUM_THREADS=1 per rank)",
                ["procs", "comm hook", "samples/s", "step ms", "speedup", "efficiency",
                 "comm share"],
                [[m["world"], m["comm_hook"], m["samples_per_s"], m["step_ms"], m["speedup"],
                  m["efficiency"], m["comm_share"]] for m in doc["measured"]])
    if "projection" in doc:
        fit = doc["ring_fit"]
        print_table(f"projection (ring: alpha {fit['alpha_us']} us, busbw {fit['bus_gbps']} "
                    f"GB/s, {doc['grad_bytes'] / 1e6:.2f} MB of gradients)",
                    ["ranks", "step ms", "comm share", "samples/s", "efficiency"],
                    [[p["world"], p["step_ms"], p["comm_share"], p["samples_per_s"],
                      p["efficiency"]] for p in doc["projection"]])


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("build/k8s"),
              show_default=True)
@click.option("--name", default="disttrain", show_default=True)
@click.option("--namespace", default="training", show_default=True)
@click.option("--image", default="disttrain:dev", show_default=True)
@click.option("--nodes", default="1:4", show_default=True, help="MIN:MAX worker pods.")
@click.option("--gpus-per-node", type=int, default=8, show_default=True)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@errors
def manifests(out: Path, name: str, namespace: str, image: str, nodes: str, gpus_per_node: int,
              config_path: Path | None) -> None:
    """Render a PyTorchJob (elastic), a RayJob, the checkpoint PVC and the config map;
    validate them (exit 3 naming the field when one is invalid)."""
    import yaml

    from disttrain import k8s

    low, _, high = nodes.partition(":")
    if not low.isdigit() or not (high or low).isdigit():
        raise ConfigurationError(f"--nodes {nodes!r}: expected MIN:MAX")
    cfg = load_train_config(config_path, strategy="fsdp" if config_path is None else None)
    spec = k8s.JobSpec(name=name, namespace=namespace, image=image, nodes_min=int(low),
                       nodes_max=int(high or low), gpus_per_node=gpus_per_node)
    docs = k8s.render(spec, yaml.safe_dump(cfg.model_dump(exclude_none=True), sort_keys=False))
    problems = k8s.validate_all(docs)
    if problems:
        raise CLIError(problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1
                                      else ""), ExitCode.CONFIG)
    atomic_write_text(out / f"{name}.yaml", k8s.dump(docs))
    click.echo(f"wrote {out / (name + '.yaml')}: " + ", ".join(d["kind"] for d in docs)
               + "; all valid")


@cli.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, exists=True), required=True)
@errors
def validate_cmd(files: tuple[Path, ...]) -> None:
    """Validate Kubernetes manifests (PyTorchJob, RayJob by our CRD schemas; core kinds)."""
    import yaml

    from disttrain import k8s

    problems: list[str] = []
    count = 0
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                count += 1
                problems += [f"{path}: {p}" for p in k8s.validate(doc)]
    if problems:
        for line in problems:
            click.echo(line, err=True)
        sys.exit(ExitCode.CONFIG)
    click.echo(f"ok: {count} objects valid")


@cli.command("show-config")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
def show_config(config_path: Path | None) -> None:
    """Print the effective TrainConfig and tool settings (file < env < flags) as JSON."""
    cfg = load_train_config(config_path)
    click.echo(json.dumps({"train": cfg.model_dump(), "settings": _settings().model_dump()},
                          indent=2))


main = cli
