"""Multi-stack orchestration: order stacks by their StackReferences, run independent ones in
parallel, destroy in reverse, and update dependents whose upstream outputs changed.

Pulumi itself runs one stack at a time (pulumi/pulumi#5462: no multi-stack destroy;
pulumi/pulumi#2309: dependents are not updated when a referenced output changes). The logic
here is generic over stack names so it is tested with fake stacks.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pulumiml.errors import CycleError, PulumimlError

N = TypeVar("N", bound=Hashable)


def find_cycle(references: Mapping[N, Iterable[N]]) -> list[N] | None:
    """A cycle as [a, b, ..., a], or None (only edges between known nodes count)."""
    # BEGIN SOLUTION
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(references, white)
    path: list[N] = []

    def visit(node: N) -> list[N] | None:
        colour[node] = grey
        path.append(node)
        for upstream in references[node]:
            if upstream not in colour:
                continue
            if colour[upstream] == grey:
                return [*path[path.index(upstream):], upstream]
            if colour[upstream] == white:
                found = visit(upstream)
                if found:
                    return found
        colour[node] = black
        path.pop()
        return None

    for node in sorted(references, key=str):
        if colour[node] == white:
            found = visit(node)
            if found:
                return found
    return None
    # END SOLUTION


def levels(references: Mapping[N, Iterable[N]]) -> list[list[N]]:
    """Deploy order as levels: every stack comes after the stacks it references; stacks in
    one level are independent (they may run in parallel). References to stacks outside the
    mapping are ignored (they are deployed already, or not part of this run)."""
    # BEGIN SOLUTION
    cycle = find_cycle(references)
    if cycle:
        raise CycleError("stack references form a cycle: " + " -> ".join(map(str, cycle)))
    remaining = {node: {up for up in ups if up in references and up != node}
                 for node, ups in references.items()}
    result: list[list[N]] = []
    done: set[N] = set()
    while remaining:
        ready = sorted((n for n, ups in remaining.items() if ups <= done), key=str)
        result.append(ready)
        done.update(ready)
        for node in ready:
            del remaining[node]
    return result
    # END SOLUTION


def dependents(references: Mapping[N, Iterable[N]], roots: Iterable[N]) -> list[N]:
    """Every stack that (transitively) references one of `roots`, in deploy order."""
    # BEGIN SOLUTION
    downstream: dict[N, set[N]] = {node: set() for node in references}
    for node, ups in references.items():
        for up in ups:
            downstream.setdefault(up, set()).add(node)
    seen: set[N] = set()
    stack = list(roots)
    while stack:
        for child in downstream.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    order = [n for level in levels(references) for n in level]
    return [n for n in order if n in seen]
    # END SOLUTION


@dataclass
class StackRun:
    """What happened to one stack in a multi-stack operation."""

    stack: str
    status: str  # "ok", "failed", "skipped"
    result: Any = None
    error: str = ""
    exit_code: int = 0
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"stack": self.stack, "status": self.status}
        if self.reason:
            payload["reason"] = self.reason
        if self.error:
            payload["error"], payload["exit_code"] = self.error, self.exit_code
        if self.result is not None and hasattr(self.result, "as_dict"):
            payload["result"] = self.result.as_dict()
        return payload


@dataclass
class RunReport:
    runs: list[StackRun] = field(default_factory=list)
    order: list[list[str]] = field(default_factory=list)

    @property
    def failed(self) -> list[StackRun]:
        return [r for r in self.runs if r.status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        return {"order": self.order, "stacks": [r.as_dict() for r in self.runs],
                "failed": [r.stack for r in self.failed]}


def run_ordered(references: Mapping[N, Sequence[N]], action: Callable[[N], Any],
                parallelism: int = 4, reverse: bool = False,
                on_done: Callable[[StackRun], None] | None = None) -> RunReport:
    """Run `action` on every stack in dependency order (reverse: dependents first).

    A stack starts as soon as everything it waits for is done, up to `parallelism` at once.
    When one fails, everything waiting on it is skipped; independent stacks still run.
    """
    # BEGIN SOLUTION
    order = levels(references)
    waits: dict[N, set[N]] = {n: {u for u in references[n] if u in references and u != n}
                              for n in references}
    if reverse:
        flipped: dict[N, set[N]] = {n: set() for n in references}
        for node, ups in waits.items():
            for up in ups:
                flipped[up].add(node)
        waits = flipped
        order = levels({n: sorted(ups, key=str) for n, ups in flipped.items()})
    report = RunReport(order=[[str(n) for n in level] for level in order])
    status: dict[N, str] = {}
    pending = dict(waits)
    running: dict[Future[Any], N] = {}

    def finish(run: StackRun, node: N) -> None:
        status[node] = run.status
        report.runs.append(run)
        if on_done:
            on_done(run)

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        while pending or running:
            progressed = True
            while progressed:
                progressed = False
                for node in sorted(pending, key=str):
                    blockers = pending[node]
                    bad = [b for b in blockers if status.get(b) in ("failed", "skipped")]
                    if bad:
                        del pending[node]
                        finish(StackRun(str(node), "skipped",
                                        reason=f"waits for {bad[0]}, which did not complete"),
                               node)
                        progressed = True
                    elif all(status.get(b) == "ok" for b in blockers) and \
                            len(running) < max(1, parallelism):
                        del pending[node]
                        running[pool.submit(action, node)] = node
                        progressed = True
            if not running:
                continue
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                node = running.pop(future)
                try:
                    finish(StackRun(str(node), "ok", result=future.result()), node)
                except PulumimlError as exc:
                    finish(StackRun(str(node), "failed", error=str(exc).splitlines()[0],
                                    exit_code=int(exc.exit_code)), node)
    return report
    # END SOLUTION
