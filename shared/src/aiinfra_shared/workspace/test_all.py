"""`aiinfra test-all`: run every package's test suite, even after one fails, and report.

Each suite runs through its own `make test` (the exercise's documented test command) with a
JUnit XML path added; the counts come from that XML. A suite that collects no test (pytest
exit 5) counts as failed: every package must ship tests.
"""

from __future__ import annotations

import os
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

from aiinfra_shared.io import atomic_write_json
from aiinfra_shared.workspace.exercises import Exercise, discover

PYTEST_NO_TESTS = 5


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


def run_suite(name: str, folder: Path, reports: Path, repo_root: Path,
              extra_pytest_args: str = "") -> SuiteResult:
    """Run `make test` in `folder`, with output streamed to the console."""
    junit = reports / "junit" / f"{name}.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    args = f"--junitxml={junit} {extra_pytest_args}".strip()
    print(f"\n===== {name} ({folder.relative_to(repo_root)}) =====", flush=True)
    started = time.monotonic()
    # Each suite uses its own .venv: drop the shared venv that `uv run` activated for us.
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    result = subprocess.run(["make", "--no-print-directory", "-C", str(folder), "test",
                             f"PYTEST_ARGS={args}"], check=False, env=env)
    seconds = time.monotonic() - started
    passed, failed, errors, skipped = parse_junit(junit)
    note = ""
    if result.returncode == PYTEST_NO_TESTS or (result.returncode == 0 and passed + skipped == 0):
        note = "no tests collected"
    elif result.returncode != 0 and failed + errors == 0:
        note = f"make test exited {result.returncode} (install or collection failure)"
    return SuiteResult(name, folder.relative_to(repo_root).as_posix(), passed, failed, errors,
                       skipped, round(seconds, 1), result.returncode, note)


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
    return "\n".join(lines)
