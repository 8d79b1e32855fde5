"""Running terraform for tfml: one CLI config with a plugin cache, fmt/validate/test helpers.

Built on `aiinfra_shared.procs.terraform` (the provider filesystem mirror is found at run
time). The plugin cache makes every `init` a symlink instead of a 670 MB copy; a first init
warms it before any parallel work so that two inits never fill it at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.terraform import (
    Terraform,
    TerraformError,
    TerraformTestReport,
    find_terraform,
)

from tfml.errors import UnavailableError
from tfml.layout import Module


def make_terraform(work_dir: Path, *, timeout: float = 600.0,
                   hosts: dict[str, dict[str, str]] | None = None,
                   env: dict[str, str] | None = None) -> Terraform:
    """A runner whose CLI config lives in `work_dir` (plugin cache in `work_dir/plugins`)."""
    work_dir = Path(work_dir).resolve()
    cache = work_dir / "plugin-cache"
    cache.mkdir(parents=True, exist_ok=True)
    try:
        return Terraform.create(work_dir, hosts=hosts or {}, env=env or {}, timeout=timeout,
                                extra_config=f"plugin_cache_dir = {json.dumps(str(cache))}")
    except MissingBinaryError as exc:
        raise UnavailableError(str(exc)) from exc


def fmt_check(paths: Iterable[Path]) -> list[str]:
    """Files `terraform fmt -check` would rewrite (fmt loads no provider: one cheap call each)."""
    import subprocess

    try:
        binary = find_terraform()
    except MissingBinaryError as exc:
        raise UnavailableError(str(exc)) from exc
    unformatted: list[str] = []
    for path in paths:
        result = subprocess.run([binary, "fmt", "-check", "-recursive", "-list=true", str(path)],
                                capture_output=True, text=True, check=False, timeout=120)
        if result.returncode not in (0, 3):
            raise UnavailableError(f"terraform fmt failed on {path}: {result.stderr.strip()}")
        unformatted += [line.strip() for line in result.stdout.splitlines() if line.strip()]
    return unformatted


_init_lock = threading.Lock()


def init_module(tf: Terraform, path: Path) -> None:
    """`init -backend=false`, one at a time: Terraform's plugin cache is not safe for
    concurrent installs (each init only symlinks a cached provider: quick)."""
    with _init_lock:
        tf.init(path, "-backend=false")


def validate_module(tf: Terraform, path: Path) -> list[str]:
    """`terraform validate` errors of one module (init first)."""
    init_module(tf, path)
    result = tf.validate(path)
    return [f"{d.get('summary', '')}: {d.get('detail', '')}".strip(": ")
            for d in result.get("diagnostics", []) if d.get("severity") == "error"]


@dataclass
class ModuleTestResult:
    module: Module
    report: TerraformTestReport | None
    error: str | None = None

    @property
    def runs(self) -> dict[str, str]:
        return self.report.runs if self.report else {}

    @property
    def ok(self) -> bool:
        return self.error is None and self.report is not None and self.report.status == "pass"


def test_module(tf: Terraform, module: Module) -> ModuleTestResult:
    """init, then `terraform test -json` (mock providers: no cloud, no emulator)."""
    try:
        init_module(tf, module.path)
    except TerraformError as exc:
        return ModuleTestResult(module, None, str(exc).splitlines()[0])
    return run_module_tests(tf, module)


def run_module_tests(tf: Terraform, module: Module) -> ModuleTestResult:
    """`terraform test -json` in an initialised module."""
    try:
        report = tf.test(module.path)
    except TerraformError as exc:
        return ModuleTestResult(module, None, str(exc).splitlines()[0])
    if not report.runs and report.result.returncode != 0:
        return ModuleTestResult(module, report, f"terraform test failed: {report.result.tail(5)}")
    return ModuleTestResult(module, report)


def map_parallel(fn: Callable[[Any], Any], items: list[Any], parallelism: int,
                 progress: Callable[[Any], None] | None = None) -> list[Any]:
    """`fn` over `items`, `parallelism` at a time, results in input order."""
    if not items:
        return []
    results: list[Any] = [None] * len(items)
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future, index in futures.items():
            results[index] = future.result()
            if progress:
                progress(items[index])
    return results
