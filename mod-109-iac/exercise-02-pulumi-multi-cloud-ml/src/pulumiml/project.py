"""The project on disk: `infra/Pulumi.<cloud>-<env>.yaml` stack files, per-env policy
config (`infra/policy/<env>.json`), and the layer stacks they define."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumiml.errors import SpecError, UnknownStackError
from pulumiml.spec import Cloud, Env, Layer, PlatformSpec, StackFile, StackName, parse_stack_file


@dataclass
class Project:
    """Stack files under `root`; parsed lazily and cached."""

    root: Path
    _files: dict[str, StackFile] = field(default_factory=dict)

    def stack_file_path(self, cloud_env: str) -> Path:
        return self.root / f"Pulumi.{cloud_env}.yaml"

    def cloud_envs(self) -> list[str]:
        """`aws-dev`, ... for every stack file present."""
        if not self.root.is_dir():
            raise UnknownStackError(f"{self.root}: no such project directory")
        return sorted(p.name[len("Pulumi."):-len(".yaml")]
                      for p in self.root.glob("Pulumi.*-*.yaml"))

    def stack_file(self, cloud_env: str) -> StackFile:
        if cloud_env not in self._files:
            path = self.stack_file_path(cloud_env)
            if not path.is_file():
                known = ", ".join(self.cloud_envs()) or "none"
                raise UnknownStackError(f"no stack file {path.name} in {self.root} "
                                        f"(stack files: {known})")
            self._files[cloud_env] = parse_stack_file(path)
        return self._files[cloud_env]

    def spec(self, stack: StackName) -> PlatformSpec:
        return self.stack_file(stack.spec_stack).spec

    def stacks(self, clouds: Iterable[str] = (), envs: Iterable[str] = (),
               layers: Iterable[str] = ()) -> list[StackName]:
        """Every layer stack of every stack file, filtered (names validated)."""
        clouds, envs, layers = set(clouds), set(envs), set(layers)
        for values, enum in ((clouds, Cloud), (envs, Env), (layers, Layer)):
            valid = {member.value for member in enum}
            for value in values - valid:
                raise UnknownStackError(f"unknown {enum.__name__.lower()} {value!r} "
                                        f"(one of {', '.join(sorted(valid))})")
        result = []
        for cloud_env in self.cloud_envs():
            cloud, env = cloud_env.split("-", 1)
            if (clouds and cloud not in clouds) or (envs and env not in envs):
                continue
            for layer in Layer:
                if not layers or layer.value in layers:
                    result.append(StackName(Cloud(cloud), Env(env), layer))
        return result

    def resolve(self, names: Iterable[str]) -> list[StackName]:
        """Parse stack names and check their stack files exist."""
        stacks = [StackName.parse(name) for name in names]
        for stack in stacks:
            self.stack_file(stack.spec_stack)
        return stacks

    def references(self, stack: StackName) -> tuple[StackName, ...]:
        """The layer's own references plus the stack file's extra ones."""
        extra = self.stack_file(stack.spec_stack).references.get(stack.layer, ())
        return tuple(dict.fromkeys((*stack.references, *extra)))

    def reference_graph(self, stacks: Iterable[StackName]) -> dict[StackName, list[StackName]]:
        """{stack: the stacks it references}, for the given stacks."""
        return {s: list(self.references(s)) for s in stacks}

    def policy_layers(self, stack: StackName) -> list[dict[str, Any]]:
        """The env's policy config file, then the stack file's `pulumiml:policy` overrides."""
        layers: list[dict[str, Any]] = []
        env_file = self.root / "policy" / f"{stack.env.value}.json"
        if env_file.is_file():
            try:
                data = json.loads(env_file.read_text())
            except json.JSONDecodeError as exc:
                raise SpecError(f"{env_file}: invalid JSON: {exc.msg} "
                                f"at line {exc.lineno}") from exc
            if not isinstance(data, dict):
                raise SpecError(f"{env_file}: expected an object of policy -> config")
            layers.append(data)
        layers.append(self.stack_file(stack.spec_stack).policy)
        return layers
