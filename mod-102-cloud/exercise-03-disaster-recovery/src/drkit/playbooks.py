"""Keep each playbook's "last measured" block current from drill results."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.io import atomic_write_text

from drkit.report import DrillResult, results_table

START = "<!-- drill:start -->"
END = "<!-- drill:end -->"


def replace_block(text: str, block: str) -> str:
    if START not in text or END not in text:
        return text.rstrip() + f"\n\n## Last measured\n{START}\n{block}\n{END}\n"
    head, rest = text.split(START, 1)
    return f"{head}{START}\n{block}\n{END}{rest.split(END, 1)[1]}"


def update_playbooks(directory: Path, results: list[DrillResult]) -> list[Path]:
    """Rewrite `<scenario>.md`'s block for each result; returns the files changed."""
    changed = []
    for result in results:
        path = directory / f"{result.scenario}.md"
        if not path.is_file():
            continue
        stamp = result.started_at.strftime("%Y-%m-%d %H:%M UTC")
        block = (f"Measured by `make run` / `drkit drill run` on {stamp}:\n\n"
                 + results_table([result]))
        atomic_write_text(path, replace_block(path.read_text(), block))
        changed.append(path)
    return changed
