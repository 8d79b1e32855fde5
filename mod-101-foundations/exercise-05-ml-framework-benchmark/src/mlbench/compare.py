"""`mlbench compare OLD NEW`: pair results by job key and flag significant slowdowns.

With repeated runs on both sides (`mlbench run --repeats 3` or more) the gate compares runs:
median of the per-run medians, a bootstrap interval of the ratio, and a noise floor from the
baseline's own repeats (`stats.compare_runs`). With single runs it falls back to Welch's test
over the iterations, which cannot see run-to-run noise, and says so in the row's note.
"""

from __future__ import annotations

from pydantic import BaseModel

from mlbench.schema import ResultsFile
from mlbench.stats import Comparison, RunComparison, compare_runs, compare_samples

MIN_REPEATS = 3
SINGLE_RUN_NOTE = ("single run: run-to-run noise unknown, Welch over iterations; record both "
                   f"sides with --repeats {MIN_REPEATS} or more")


class Row(BaseModel):
    key: str
    verdict: str  # regression | improvement | unchanged | missing-old | missing-new | not-ok
    comparison: Comparison | None = None
    runs: RunComparison | None = None
    note: str | None = None


class Report(BaseModel):
    rows: list[Row]
    alpha: float
    min_effect: float

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == "regression"]


def compare_files(old: ResultsFile, new: ResultsFile, alpha: float = 0.01,
                  min_effect: float = 0.05) -> Report:
    """Welch's t-test per paired job, plus a minimum slowdown of `min_effect` (relative)."""
    # BEGIN SOLUTION: pair results by key and give each pair a verdict
    olds = {r.key: r for r in old.results}
    news = {r.key: r for r in new.results}
    rows: list[Row] = []
    for key in sorted(olds.keys() | news.keys()):
        o, n = olds.get(key), news.get(key)
        if o is None:
            rows.append(Row(key=key, verdict="missing-old"))
        elif n is None:
            rows.append(Row(key=key, verdict="missing-new"))
        elif o.status != "ok" or n.status != "ok" or len(o.samples_s) < 2 \
                or len(n.samples_s) < 2:
            rows.append(Row(key=key, verdict="not-ok",
                            note=f"old {o.status}, new {n.status}"))
        elif len(o.run_medians_s) >= MIN_REPEATS and len(n.run_medians_s) >= MIN_REPEATS:
            r = compare_runs(o.run_medians_s, n.run_medians_s, min_effect=min_effect,
                             confidence=1 - alpha)
            verdict = ("regression" if r.regression else
                       "improvement" if r.improvement else "unchanged")
            rows.append(Row(key=key, verdict=verdict, runs=r, note=r.note))
        else:
            c = compare_samples(o.samples_s, n.samples_s, alpha=alpha, min_effect=min_effect)
            verdict = ("regression" if c.regression else
                       "improvement" if c.improvement else "unchanged")
            rows.append(Row(key=key, verdict=verdict, comparison=c, note=SINGLE_RUN_NOTE))
    return Report(rows=rows, alpha=alpha, min_effect=min_effect)
    # END SOLUTION
