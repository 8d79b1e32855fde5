"""`aiinfra test-all`: run every package's test suite, even after one fails, and report.

Each suite runs through its own `make test` (the exercise's documented test command) with a
JUnit XML path added; the counts come from that XML. A suite that collects no test (pytest
exit 5) counts as failed: every package must ship tests.

CI has 90 minutes for all 26 suites, so the runner guards the budget: a suite that runs past
`AIINFRA_SUITE_TIMEOUT_S` (900 s) is stopped, its whole process group, and counted as failed;
the summary names the five slowest suites with their share of the total and warns about any
suite over 180 s. Processes a suite leaves behind (found by an environment tag every
descendant inherits, even one that started its own session) are reported and stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aiinfra_shared.io import atomic_write_json
from aiinfra_shared.workspace.exercises import Exercise, discover

PYTEST_NO_TESTS = 5
SUITE_TIMEOUT_S = float(os.environ.get("AIINFRA_SUITE_TIMEOUT_S", "900"))
SLOW_SUITE_S = 180.0
SUITE_TAG = "AIINFRA_TEST_SUITE"


@dataclass
class SuiteResult:
    name: str
    path: str
    passed: int
    failed: int
    errors: int
    skipped: int
    seconds: float
    exit_code: int
    note: str = ""
    leftovers: list[str] = field(default_factory=list)  # "pid command" left running

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.failed == 0 and self.errors == 0 and (
            self.passed + self.skipped > 0
        )


def parse_junit(path: Path) -> tuple[int, int, int, int]:
    """(passed, failed, errors, skipped) from a pytest JUnit XML file."""
    if not path.is_file():
        return 0, 0, 0, 0
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's output
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failures = errors = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0))
        errors += int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failures - errors - skipped, failures, errors, skipped


def _tagged_processes(tag: str) -> dict[int, str]:
    """Processes (pid -> command line) whose environment carries SUITE_TAG=tag."""
    marker = f"{SUITE_TAG}={tag}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if marker in environ.split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").strip()
                found[int(entry.name)] = command.decode(errors="replace")[:160]
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def _stop_processes(pids: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        time.sleep(1.0)


def run_suite(name: str, folder: Path, reports: Path, repo_root: Path,
              extra_pytest_args: str = "", timeout: float = SUITE_TIMEOUT_S) -> SuiteResult:
    """Run `make test` in `folder`, with output streamed to the console."""
    junit = reports / "junit" / f"{name}.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    args = f"--junitxml={junit} {extra_pytest_args}".strip()
    print(f"\n===== {name} ({folder.relative_to(repo_root)}) =====", flush=True)
    started = time.monotonic()
    # Each suite uses its own .venv: drop the shared venv that `uv run` activated for us.
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env[SUITE_TAG] = name
    proc = subprocess.Popen(["make", "--no-print-directory", "-C", str(folder), "test",
                             f"PYTEST_ARGS={args}"], env=env, start_new_session=True)
    timed_out = False
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        returncode = proc.returncode if proc.returncode is not None else -9
    seconds = time.monotonic() - started
    leftover = _tagged_processes(name)
    if leftover:
        _stop_processes(list(leftover))
    passed, failed, errors, skipped = parse_junit(junit)
    note = ""
    if timed_out:
        note = f"stopped after {timeout:.0f}s (suite timeout)"
    elif returncode == PYTEST_NO_TESTS or (returncode == 0 and passed + skipped == 0):
        note = "no tests collected"
    elif returncode != 0 and failed + errors == 0:
        note = f"make test exited {returncode} (install or collection failure)"
    return SuiteResult(name, folder.relative_to(repo_root).as_posix(), passed, failed, errors,
                       skipped, round(seconds, 1), 124 if timed_out else returncode, note,
                       [f"{pid} {cmd}" for pid, cmd in sorted(leftover.items())])


def run_all(repo_root: Path, only: list[Exercise] | None = None, include_shared: bool = True,
            extra_pytest_args: str = "") -> list[SuiteResult]:
    reports = repo_root / "reports"
    suites: list[tuple[str, Path]] = []
    if include_shared:
        suites.append(("shared", repo_root / "shared"))
    suites += [(ex.code, ex.path) for ex in (only if only is not None else discover(repo_root))]
    results = [run_suite(name, folder, reports, repo_root, extra_pytest_args)
               for name, folder in suites]
    atomic_write_json(reports / "test-all.json", {
        "ok": all(r.ok for r in results),
        "suites": [{**asdict(r), "ok": r.ok} for r in results],
    })
    return results


def render_table(results: list[SuiteResult]) -> str:
    """Plain-text summary table (also readable in CI logs without colour)."""
    header = f"{'suite':<10} {'passed':>7} {'failed':>7} {'skipped':>8} {'seconds':>8}  status"
    lines = [header, "-" * len(header)]
    for r in results:
        status = "ok" if r.ok else f"FAIL {r.note}".strip()
        lines.append(f"{r.name:<10} {r.passed:>7} {r.failed + r.errors:>7} {r.skipped:>8} "
                     f"{r.seconds:>8.1f}  {status}")
    total_passed = sum(r.passed for r in results)
    total_failed = sum(r.failed + r.errors for r in results)
    total_skipped = sum(r.skipped for r in results)
    total_seconds = sum(r.seconds for r in results)
    lines.append("-" * len(header))
    lines.append(f"{'total':<10} {total_passed:>7} {total_failed:>7} {total_skipped:>8} "
                 f"{total_seconds:>8.1f}  {'ok' if all(r.ok for r in results) else 'FAIL'}")
    lines += _time_report(results, total_seconds)
    return "\n".join(lines)


def _time_report(results: list[SuiteResult], total_seconds: float) -> list[str]:
    """The five slowest suites with their share, warnings for slow suites and leftovers."""
    lines = ["", "slowest suites:"]
    for r in sorted(results, key=lambda r: r.seconds, reverse=True)[:5]:
        share = 100 * r.seconds / total_seconds if total_seconds else 0.0
        lines.append(f"  {r.name:<10} {r.seconds:>8.1f} s  {share:5.1f}%")
    for r in results:
        if r.seconds > SLOW_SUITE_S:
            lines.append(f"warning: {r.name} took {r.seconds:.0f} s (> {SLOW_SUITE_S:.0f} s): "
                         "make it cheaper before adding more suites")
        if r.leftovers:
            lines.append(f"warning: {r.name} left {len(r.leftovers)} process(es) running "
                         f"(stopped now): {'; '.join(r.leftovers[:3])}")
    return lines
