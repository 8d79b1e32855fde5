"""Talk to the policy pack the way the Pulumi engine does: start it as a subprocess, read the
port it prints, then `GetAnalyzerInfo`, `Configure`, `Analyze` (per resource, inputs) and
`AnalyzeStack` (all resources, outputs) over gRPC with the stubs in `pulumi.runtime.proto`.
"""

from __future__ import annotations

import atexit
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from pulumiml.errors import EngineUnavailableError, SpecError
from pulumiml.mockrun import Registration

LEVELS = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory",
          analyzer_pb2.DISABLED: "disabled", analyzer_pb2.REMEDIATE: "remediate"}
_LEVEL_VALUES = {name: value for value, name in LEVELS.items()}


@dataclass(frozen=True)
class Diagnostic:
    """One policy violation, as the engine would print it."""

    stack: str
    policy: str
    level: str
    urn: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"stack": self.stack, "policy": self.policy, "level": self.level,
                "urn": self.urn, "message": self.message}


@dataclass
class PolicyReport:
    """Violations of one or more stacks; mandatory ones block a deployment."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    evaluations: int = 0

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "mandatory"]

    def extend(self, other: PolicyReport) -> None:
        self.diagnostics.extend(other.diagnostics)
        self.evaluations += other.evaluations

    def as_dict(self) -> dict[str, Any]:
        return {"evaluations": self.evaluations, "mandatory": len(self.mandatory),
                "advisory": len(self.diagnostics) - len(self.mandatory),
                "diagnostics": [d.as_dict() for d in self.diagnostics]}


def merge_policy_config(info_levels: Mapping[str, str],
                        *layers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Pulumi's policy-config format, later layers winning: a value is a level string or
    `{"enforcementLevel": ..., <property>: ...}`. Unknown policies or levels are errors."""
    # BEGIN SOLUTION
    merged: dict[str, dict[str, Any]] = {name: {"enforcementLevel": level}
                                         for name, level in info_levels.items()}
    for layer in layers:
        for name, value in layer.items():
            if name == "all":
                if value not in _LEVEL_VALUES:
                    raise SpecError(f"policy config 'all': unknown level {value!r}")
                for entry in merged.values():
                    entry["enforcementLevel"] = value
                continue
            if name not in merged:
                raise SpecError(f"policy config: unknown policy {name!r} "
                                f"(one of {', '.join(sorted(merged))})")
            entry = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
            level = entry.get("enforcementLevel", merged[name]["enforcementLevel"])
            if level not in _LEVEL_VALUES:
                raise SpecError(f"policy config {name!r}: unknown level {level!r} "
                                f"(one of {', '.join(_LEVEL_VALUES)})")
            merged[name] = {**merged[name], **entry, "enforcementLevel": level}
    return merged
    # END SOLUTION


def _struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(dict(data), message)
    return message


class AnalyzerClient:
    """The policy pack in a subprocess, reached over loopback gRPC."""

    def __init__(self, command: list[str] | None = None, start_timeout: float = 30.0) -> None:
        self.command = command or [sys.executable, "-m", "pulumiml.policy"]
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.port = 0
        self.lock = threading.Lock()  # Configure + Analyze is one stateful exchange

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        # BEGIN SOLUTION
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, env=env)
        except OSError as exc:
            raise EngineUnavailableError(f"cannot start the policy pack: {exc}") from exc
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.start_timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                self.close()
                raise EngineUnavailableError("policy pack printed no port within "
                                             f"{self.start_timeout:.0f} s")
            chunk = os.read(self.process.stdout.fileno(), 64)
            if not chunk:
                stderr = self.process.stderr
                err = stderr.read().decode(errors="replace") if stderr else ""
                self.close()
                tail = err.strip().splitlines()[-1:] or ["no output"]
                raise EngineUnavailableError(f"policy pack exited before serving: {tail[0]}")
            line += chunk
        selector.close()
        self.port = int(line.strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=self.start_timeout)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        # END SOLUTION

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
            self.process = None

    def _stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self.stub is None:
            raise EngineUnavailableError("the policy pack is not running (use it as a context)")
        return self.stub

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        info: analyzer_pb2.AnalyzerInfo = self._stub().GetAnalyzerInfo(empty_pb2.Empty())
        return info

    def default_levels(self) -> dict[str, str]:
        return {p.name: LEVELS[p.enforcementLevel] for p in self.info().policies}

    def configure(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        """Send a merged config (`merge_policy_config`) with `Configure`."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in config.items():
            properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            request.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(
                enforcementLevel=_LEVEL_VALUES[entry["enforcementLevel"]],
                properties=_struct(properties)))
        self._stub().Configure(request)

    def analyze(self, stack: str, resource: Registration) -> list[Diagnostic]:
        """`Analyze` one resource's inputs (what the engine checks before creating it)."""
        response = self._stub().Analyze(analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=_struct(resource.inputs), urn=resource.urn,
            name=resource.name))
        return [self._diagnostic(stack, d, resource.urn) for d in response.diagnostics]

    def analyze_stack(self, stack: str, resources: Iterable[Registration]) -> list[Diagnostic]:
        """`AnalyzeStack` over every custom resource's final state."""
        request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            item = request.resources.add()
            item.type, item.urn, item.name = resource.type, resource.urn, resource.name
            item.properties.CopyFrom(_struct(resource.state or resource.inputs))
            item.parent = resource.parent
            item.dependencies.extend(resource.dependencies)
            for key, urns in resource.property_dependencies.items():
                item.propertyDependencies[key].urns.extend(urns)
        response = self._stub().AnalyzeStack(request)
        return [self._diagnostic(stack, d, "") for d in response.diagnostics]

    @staticmethod
    def _diagnostic(stack: str, d: analyzer_pb2.AnalyzeDiagnostic, urn: str) -> Diagnostic:
        message = d.message.split("\n", 1)[-1] if "\n" in d.message else d.message
        return Diagnostic(stack, d.policyName, LEVELS[d.enforcementLevel], d.urn or urn, message)

    def evaluate(self, stack: str, registrations: Iterable[Registration],
                 config: Mapping[str, Mapping[str, Any]]) -> PolicyReport:
        """Configure for the stack, then check each resource and the whole stack."""
        # BEGIN SOLUTION
        custom = [r for r in registrations if r.custom and not r.read]
        report = PolicyReport()
        with self.lock:
            self.configure(config)
            for resource in custom:
                report.diagnostics.extend(self.analyze(stack, resource))
                report.evaluations += 1
            report.diagnostics.extend(self.analyze_stack(stack, custom))
            report.evaluations += 1
        return report
        # END SOLUTION


_SHARED: AnalyzerClient | None = None
_SHARED_LOCK = threading.Lock()


def shared_analyzer() -> AnalyzerClient:
    """One policy pack process per Python process (started on first use, stopped at exit)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or _SHARED.process is None or _SHARED.process.poll() is not None:
            client = AnalyzerClient()
            client.start()
            atexit.register(client.close)
            _SHARED = client
        return _SHARED
