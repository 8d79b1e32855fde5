"""The driver behind the CLI: mock previews of many stacks, and ordered multi-stack
operations through an `Engine`, including updating dependents whose references changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumiml.automation import (
    EmulatedEngine,
    Engine,
    OnOutput,
    OpResult,
    PulumiEngine,
    backend_dir_from_url,
)
from pulumiml.config import Settings, passphrase
from pulumiml.errors import PulumimlError
from pulumiml.mockrun import MockResult, run_program
from pulumiml.orchestrate import RunReport, StackRun, dependents, levels, run_ordered
from pulumiml.policy.client import (
    AnalyzerClient,
    PolicyReport,
    merge_policy_config,
    shared_analyzer,
)
from pulumiml.project import Project
from pulumiml.spec import StackName


def stack_references(project: Project, stacks: Iterable[StackName]
                     ) -> dict[StackName, list[StackName]]:
    """The reference graph of `stacks` (references to stacks outside it are dropped)."""
    selected = set(stacks)
    return {s: [u for u in project.references(s) if u in selected] for s in selected}


def deploy_order(project: Project, stacks: Iterable[StackName]) -> list[list[StackName]]:
    return levels(stack_references(project, stacks))


@dataclass
class MockPreview:
    """Mock previews of a set of stacks: graphs, outputs, policy findings."""

    results: dict[StackName, MockResult] = field(default_factory=dict)
    policy: PolicyReport = field(default_factory=PolicyReport)
    order: list[list[StackName]] = field(default_factory=list)
    upstream_only: list[StackName] = field(default_factory=list)

    def summary(self) -> list[dict[str, Any]]:
        rows = []
        for stack, result in self.results.items():
            types: dict[str, int] = {}
            for r in result.registrations:
                if r.custom and not r.read:
                    types[r.type] = types.get(r.type, 0) + 1
            findings = [d for d in self.policy.diagnostics if d.stack == str(stack)]
            rows.append({"stack": str(stack), "resources": sum(types.values()),
                         "components": sum(1 for r in result.registrations if not r.custom),
                         "types": types,
                         "mandatory": sum(1 for d in findings if d.level == "mandatory"),
                         "advisory": sum(1 for d in findings if d.level != "mandatory")})
        return rows

    def as_dict(self, graphs: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "order": [[str(s) for s in level] for level in self.order],
            "stacks": self.summary(), "policy": self.policy.as_dict(),
            "outputs": {str(s): r.outputs for s, r in self.results.items()}}
        if graphs:
            payload["graphs"] = {str(s): r.graph() for s, r in self.results.items()}
        return payload


def mock_preview(project: Project, stacks: Sequence[StackName], policy: bool = True,
                 progress: Callable[[int], None] | None = None,
                 client: AnalyzerClient | None = None) -> MockPreview:
    """Run `stacks` under mocks in deploy order; upstream stacks they reference but that are
    not selected run too (for their outputs) but are neither reported nor policy-checked."""
    # BEGIN SOLUTION
    selected = set(stacks)
    needed = set(selected)
    frontier = list(selected)
    while frontier:
        for upstream in project.references(frontier.pop()):
            if upstream not in needed:
                needed.add(upstream)
                frontier.append(upstream)
    preview = MockPreview(order=deploy_order(project, selected),
                          upstream_only=sorted(needed - selected))
    outputs: dict[str, dict[str, Any]] = {}
    analyzer = (client or shared_analyzer()) if policy else None
    defaults = analyzer.default_levels() if analyzer is not None else {}
    for level in deploy_order(project, needed):
        for stack in level:
            result = run_program(stack, project.spec(stack), outputs,
                                 extra_references=project.references(stack))
            outputs[stack.fully_qualified()] = result.outputs
            if stack not in selected:
                continue
            preview.results[stack] = result
            if policy and analyzer is not None:
                config = merge_policy_config(defaults, *project.policy_layers(stack))
                preview.policy.extend(analyzer.evaluate(str(stack), result.registrations,
                                                        config))
            if progress:
                progress(1)
    ordered = [s for level in preview.order for s in level]
    preview.results = {s: preview.results[s] for s in ordered}
    return preview
    # END SOLUTION


class Driver:
    """Engine operations over one or many stacks."""

    def __init__(self, settings: Settings, project: Project | None = None,
                 engine: Engine | None = None, on_output: OnOutput | None = None) -> None:
        self.settings = settings
        self.project = project or Project(settings.infra_dir)
        self._engine = engine
        self.on_output = on_output

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            if self.settings.engine == "pulumi":
                self._engine = PulumiEngine(self.project, self.settings.backend_url, passphrase(),
                                            self.settings.policy_pack_dir, self.settings.work_dir)
            else:
                self._engine = EmulatedEngine(self.project,
                                              backend_dir_from_url(self.settings.backend_url),
                                              passphrase())
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()

    def _action(self, operation: str, preview_only: bool = True) -> Callable[[StackName], OpResult]:
        engine = self.engine

        def act(stack: StackName) -> OpResult:
            if operation == "preview":
                return engine.preview(stack, self.on_output)
            if operation == "up":
                return engine.up(stack, self.on_output)
            if operation == "destroy":
                return engine.destroy(stack, self.on_output)
            if operation == "refresh":
                return engine.refresh(stack, preview_only, self.on_output)
            raise ValueError(operation)

        return act

    def run(self, operation: str, stacks: Sequence[StackName], cascade: bool = True,
            preview_only: bool = True, on_done: Callable[[StackRun], None] | None = None
            ) -> RunReport:
        """`operation` on `stacks` in reference order (destroy: reverse). After `up`, stacks
        outside the selection that reference a stack whose outputs changed are updated too."""
        # BEGIN SOLUTION
        references = stack_references(self.project, stacks)
        report = run_ordered(references, self._action(operation, preview_only),
                             parallelism=self.settings.parallelism,
                             reverse=operation == "destroy", on_done=on_done)
        if operation != "up" or not cascade:
            return report
        changed = {StackName.parse(r.stack): r.result.changed_outputs for r in report.runs
                   if r.status == "ok" and r.result.changed_outputs}
        if not changed:
            return report
        every = self.project.stacks()
        up = self._action("up")
        for stack in dependents(stack_references(self.project, every), list(changed)):
            if stack in references:
                continue
            sources = [u for u in self.project.references(stack) if u in changed]
            if not sources or not self._deployed(stack):
                continue
            reason = "; ".join(f"{u} outputs changed: {', '.join(changed[u])}" for u in sources)
            try:
                run = StackRun(str(stack), "ok", result=up(stack), reason=reason)
                if run.result.changed_outputs:
                    changed[stack] = run.result.changed_outputs
            except PulumimlError as exc:
                run = StackRun(str(stack), "failed", error=str(exc).splitlines()[0],
                               exit_code=int(getattr(exc, "exit_code", 1)), reason=reason)
            report.runs.append(run)
            if on_done:
                on_done(run)
        return report
        # END SOLUTION

    def _deployed(self, stack: StackName) -> bool:
        engine = self.engine
        if isinstance(engine, EmulatedEngine):
            return engine.deployed(stack)
        try:
            engine.outputs(stack)
        except Exception:
            return False
        return True

    def outputs(self, stack: StackName) -> dict[str, Any]:
        return self.engine.outputs(stack)
