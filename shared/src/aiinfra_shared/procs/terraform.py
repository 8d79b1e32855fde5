"""Run the terraform CLI offline: a provider filesystem mirror, a private CLI config, timeouts.

These machines have no route to registry.terraform.io, so `terraform init` must find its
providers in a filesystem mirror (a directory holding `registry.terraform.io/<ns>/<type>/...`).
Where that mirror lies differs between machine images and laptops, so it is found at run time:
`$AIINFRA_TF_PLUGIN_MIRROR` first, then Terraform's own implied mirror directories, then a
bounded `find /` (depth 4, a few seconds at most), cached per process. Nothing machine-specific
is ever written into a committed file.

Every command runs with its own CLI config (`TF_CLI_CONFIG_FILE`), `TF_IN_AUTOMATION=1`,
`TF_INPUT=0`, `CHECKPOINT_DISABLE=1` (no phone-home) and a hard timeout that kills the whole
process group: a resource that hangs against an emulator fails in minutes instead of blocking
CI until its global timeout.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiinfra_shared.procs.binaries import MissingBinaryError, require_binary
from aiinfra_shared.procs.ports import http_ready

MIRROR_ENV = "AIINFRA_TF_PLUGIN_MIRROR"
TERRAFORM_ENV = "AIINFRA_TERRAFORM"
DEFAULT_TIMEOUT = 120.0
REGISTRY_HOST = "registry.terraform.io"

TERRAFORM_HINT = (
    "terraform comes with the machine image (not installable from PyPI/apt); "
    f"on a laptop install terraform >= 1.7 or set ${TERRAFORM_ENV}"
)
MIRROR_HINT = (
    f"set ${MIRROR_ENV} to a provider filesystem mirror (a directory holding "
    f"{REGISTRY_HOST}/hashicorp/aws/<version>/<os_arch>/), e.g. one made by "
    "`terraform providers mirror DIR` on a machine with internet"
)

# Subcommands that accept -no-color (others, such as `fmt` or `version`, reject unknown flags).
_NO_COLOR_COMMANDS = frozenset({
    "init", "validate", "plan", "apply", "destroy", "refresh", "show", "output", "test",
    "import", "get", "taint", "untaint", "console", "providers",
})
# Terraform's implied local mirror directories (documented, not machine-specific).
_IMPLIED_MIRRORS = (
    "~/.terraform.d/plugins", "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins",
)


class TerraformError(RuntimeError):
    """A terraform command failed; the message ends with the tail of its output."""

    def __init__(self, message: str, result: TerraformResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class TerraformTimeoutError(TerraformError):
    """A terraform command ran past its timeout and its process group was killed."""


# --------------------------------------------------------------------------- finding things


def find_terraform() -> str:
    """The terraform binary: `$AIINFRA_TERRAFORM`, else PATH; MissingBinaryError otherwise."""
    override = os.environ.get(TERRAFORM_ENV)
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return override
        raise MissingBinaryError("terraform", f"${TERRAFORM_ENV}={override} is not executable")
    return require_binary("terraform", TERRAFORM_HINT)


def _is_mirror(path: Path) -> bool:
    """True when `path` holds at least one `<host>/<namespace>/<type>/<version>` directory."""
    host = path / REGISTRY_HOST
    return host.is_dir() and any(host.glob("*/*/*"))


def _search_mirror(timeout: float) -> Path | None:
    """`find / -maxdepth 4 -type d -name registry.terraform.io`, bounded in time."""
    find = shutil.which("find")
    if find is None:
        return None
    command = [find, "/", "-maxdepth", "4",
               "(", "-path", "/proc", "-o", "-path", "/sys", "-o", "-path", "/dev", ")",
               "-prune", "-o", "-type", "d", "-name", REGISTRY_HOST, "-print"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                check=False)
    except subprocess.TimeoutExpired:
        return None
    for line in sorted(result.stdout.splitlines()):
        candidate = Path(line).parent
        # skip working directories' own provider caches (.terraform/providers/...)
        if ".terraform" not in candidate.parts and _is_mirror(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=1)
def find_provider_mirror(search_timeout: float = 20.0) -> Path | None:
    """The provider filesystem mirror directory (the parent of `registry.terraform.io`).

    `$AIINFRA_TF_PLUGIN_MIRROR` wins (it may name the mirror or its `registry.terraform.io`
    child); then Terraform's implied mirror dirs; then a bounded search. Cached: the search
    walks the filesystem once per process.
    """
    override = os.environ.get(MIRROR_ENV)
    if override:
        path = Path(override).expanduser()
        if path.name == REGISTRY_HOST:
            path = path.parent
        return path if _is_mirror(path) else None
    for implied in _IMPLIED_MIRRORS:
        path = Path(implied).expanduser()
        if _is_mirror(path):
            return path
    return _search_mirror(search_timeout)


def require_provider_mirror() -> Path:
    """The mirror, or MissingBinaryError (a skip on a laptop, an error under CI=true)."""
    mirror = find_provider_mirror()
    if mirror is None:
        override = os.environ.get(MIRROR_ENV)
        detail = f"${MIRROR_ENV}={override} holds no providers; " if override else ""
        raise MissingBinaryError("terraform provider mirror", detail + MIRROR_HINT)
    return mirror


def mirrored_providers(mirror: Path) -> list[str]:
    """Provider source addresses in the mirror, e.g. `registry.terraform.io/hashicorp/aws`."""
    found = {
        f"{host.name}/{namespace.name}/{kind.name}"
        for host in mirror.iterdir() if host.is_dir()
        for namespace in host.iterdir() if namespace.is_dir()
        for kind in namespace.iterdir() if kind.is_dir()
    }
    return sorted(found)


# --------------------------------------------------------------------------- CLI config


def _hcl_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid HCL string literal


def _hcl_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_hcl_string(v) for v in values) + "]"


@dataclass(frozen=True)
class CliConfig:
    """A Terraform CLI config (`.terraformrc` syntax) with a filesystem mirror.

    `direct=False` (the default) leaves the network out entirely, so a provider missing from
    the mirror fails `init` at once instead of timing out on a registry it cannot reach;
    `direct=True` adds `direct { exclude = [mirrored providers] }` for machines with internet.
    `hosts` adds service-discovery overrides (a private module registry on loopback:
    `{"registry.local": {"modules.v1": "http://127.0.0.1:PORT/v1/modules/"}}`),
    `credentials` API tokens per host, and `extra` any further raw HCL.
    """

    mirror: Path
    providers: tuple[str, ...]
    direct: bool = False
    hosts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict)
    plugin_cache_dir: Path | None = None
    extra: str = ""

    def render(self) -> str:
        lines = ["provider_installation {", "  filesystem_mirror {",
                 f"    path    = {_hcl_string(str(self.mirror))}",
                 f"    include = {_hcl_list(self.providers)}", "  }"]
        if self.direct:
            lines += ["  direct {", f"    exclude = {_hcl_list(self.providers)}", "  }"]
        lines.append("}")
        if self.plugin_cache_dir is not None:
            lines.append(f"plugin_cache_dir = {_hcl_string(str(self.plugin_cache_dir))}")
        for host, services in self.hosts.items():
            lines.append(f"host {_hcl_string(host)} {{")
            lines.append("  services = {")
            lines += [f"    {_hcl_string(k)} = {_hcl_string(v)}" for k, v in services.items()]
            lines += ["  }", "}"]
        for host, token in self.credentials.items():
            lines += [f"credentials {_hcl_string(host)} {{", f"  token = {_hcl_string(token)}",
                      "}"]
        if self.extra:
            lines.append(self.extra)
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render())
        return path


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class TerraformResult:
    """What one terraform command did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def json(self) -> Any:
        """stdout parsed as one JSON document (`show -json`, `output -json`)."""
        return json.loads(self.stdout)

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout parsed as a JSON line stream (`test -json`, `plan -json`); other lines dropped."""
        events: list[dict[str, Any]] = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    events.append(json.loads(line))
        return events

    def tail(self, lines: int = 40) -> str:
        text = (self.stdout + "\n" + self.stderr).strip()
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class TerraformTestReport:
    """`terraform test -json`, digested: the summary and each run block's status."""

    result: TerraformResult
    events: list[dict[str, Any]]

    @property
    def summary(self) -> dict[str, Any]:
        """e.g. {"status": "pass", "passed": 2, "failed": 0, "errored": 0, "skipped": 0}."""
        for event in reversed(self.events):
            if event.get("type") == "test_summary":
                return dict(event["test_summary"])
        return {}

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "error"))

    @property
    def runs(self) -> dict[str, str]:
        """`"file.tftest.hcl::run_name"` -> final status (pass, fail, error, skip)."""
        statuses: dict[str, str] = {}
        for event in self.events:
            run = event.get("test_run") or {}
            if event.get("type") == "test_run" and run.get("progress") == "complete":
                statuses[f"{run['path']}::{run['run']}"] = str(run.get("status"))
        return statuses

    @property
    def diagnostics(self) -> list[str]:
        """Error and warning messages terraform reported (why a run failed)."""
        return [
            str(event["diagnostic"].get("summary", "")) + ": "
            + str(event["diagnostic"].get("detail", ""))
            for event in self.events if event.get("type") == "diagnostic"
        ]


# --------------------------------------------------------------------------- runner


def moto_env(endpoint_url: str, region: str = "us-east-1") -> dict[str, str]:
    """Environment that points the AWS provider at an emulator, with test keys only.

    Drops what could lead the provider to a real account (profiles, session tokens, the
    instance metadata service). The provider block still needs `skip_credentials_validation`,
    `skip_requesting_account_id` and `s3_use_path_style` (see `moto_provider_hcl`).
    """
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PROFILE": "",
        "AWS_SESSION_TOKEN": "",
    }


def moto_provider_hcl(region: str = "us-east-1", alias: str | None = None) -> str:
    """A `provider "aws"` block for an emulator reached through `AWS_ENDPOINT_URL`."""
    alias_line = f"  alias = {_hcl_string(alias)}\n" if alias else ""
    return (
        'provider "aws" {\n'
        f"{alias_line}"
        f"  region                      = {_hcl_string(region)}\n"
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  s3_use_path_style           = true\n"
        "}\n"
    )


# Variables that would make a test run depend on the caller's shell.
_SCRUBBED_ENV = ("TF_CLI_CONFIG_FILE", "TF_CLI_ARGS", "TF_WORKSPACE", "TF_LOG", "TF_DATA_DIR")
_EMPTY_MEANS_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class Terraform:
    """Runs `terraform` with a private CLI config, `-no-color` and a hard timeout.

    Immutable: `with_env()` / `with_moto()` / `with_timeout()` return adjusted copies, so a
    session-wide runner can be specialised per test without leaking environment.
    """

    binary: str
    config_file: Path
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT

    # ---------------------------------------------------------------- construction

    @classmethod
    def create(
        cls,
        work_dir: Path,
        *,
        direct: bool = False,
        hosts: Mapping[str, Mapping[str, str]] | None = None,
        credentials: Mapping[str, str] | None = None,
        extra_config: str = "",
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Terraform:
        """Find terraform and the mirror, write the CLI config into `work_dir`."""
        binary = find_terraform()
        mirror = require_provider_mirror()
        config = CliConfig(mirror=mirror, providers=tuple(mirrored_providers(mirror)),
                           direct=direct, hosts=dict(hosts or {}),
                           credentials=dict(credentials or {}), extra=extra_config)
        config_file = config.write(Path(work_dir) / "terraform.rc")
        return cls(binary=binary, config_file=config_file, env=dict(env or {}),
                   timeout=timeout)

    def with_env(self, **env: str) -> Terraform:
        return replace(self, env={**self.env, **env})

    def with_timeout(self, timeout: float) -> Terraform:
        return replace(self, timeout=timeout)

    def with_moto(self, endpoint_url: str, region: str = "us-east-1",
                  check: bool = True) -> Terraform:
        """A copy aimed at an AWS emulator. Checks it answers first: against a dead endpoint
        the AWS provider retries for minutes before failing."""
        if check and not http_ready(endpoint_url):
            raise TerraformError(f"the AWS endpoint {endpoint_url} does not answer")
        return replace(self, env={**self.env, **moto_env(endpoint_url, region)})

    def environment(self) -> dict[str, str]:
        """The full environment a command gets."""
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
        env.update({
            "TF_CLI_CONFIG_FILE": str(self.config_file),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        })
        env.update(self.env)
        for name in _EMPTY_MEANS_UNSET:
            if env.get(name) == "":
                del env[name]
        return env

    # ---------------------------------------------------------------- running

    def run(
        self,
        *args: str,
        cwd: Path | str,
        check: bool = True,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> TerraformResult:
        """`terraform ARGS` in `cwd`; `-no-color` is added after the subcommand.

        Raises TerraformError on a non-zero exit when `check`, TerraformTimeoutError (after
        killing the process group) when it runs past `timeout` seconds.
        """
        argv = list(args)
        if argv and argv[0] in _NO_COLOR_COMMANDS and "-no-color" not in argv:
            argv.insert(1, "-no-color")
        command = [self.binary, *argv]
        full_env = self.environment()
        full_env.update(env or {})
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        proc = subprocess.Popen(command, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            stdout, stderr = _kill_group(proc)
            result = TerraformResult(tuple(argv), -9, stdout, stderr,
                                     time.monotonic() - started)
            raise TerraformTimeoutError(
                f"terraform {' '.join(argv)} ran past {limit:.0f}s and was killed; "
                f"output tail:\n{result.tail()}", result) from None
        result = TerraformResult(tuple(argv), proc.returncode, stdout, stderr,
                                 time.monotonic() - started)
        if check and not result.ok:
            raise TerraformError(
                f"terraform {' '.join(argv)} exited with {result.returncode}; output tail:\n"
                f"{result.tail()}", result)
        return result

    def init(self, cwd: Path | str, *extra: str, **kwargs: Any) -> TerraformResult:
        return self.run("init", "-input=false", *extra, cwd=cwd, **kwargs)

    def validate(self, cwd: Path | str, **kwargs: Any) -> dict[str, Any]:
        """`validate -json`: {"valid": bool, "diagnostics": [...]} (never raises on invalid)."""
        result = self.run("validate", "-json", cwd=cwd, check=False, **kwargs)
        return dict(result.json())

    def plan(self, cwd: Path | str, *extra: str, out: str | None = "tfplan",
             **kwargs: Any) -> TerraformResult:
        args = ["plan", "-input=false", *([f"-out={out}"] if out else []), *extra]
        return self.run(*args, cwd=cwd, **kwargs)

    def apply(self, cwd: Path | str, *extra: str, plan_file: str | None = None,
              **kwargs: Any) -> TerraformResult:
        args = ["apply", "-input=false", "-auto-approve", *extra]
        if plan_file:
            args.append(plan_file)
        return self.run(*args, cwd=cwd, **kwargs)

    def destroy(self, cwd: Path | str, *extra: str, **kwargs: Any) -> TerraformResult:
        return self.run("destroy", "-input=false", "-auto-approve", *extra, cwd=cwd, **kwargs)

    def show_json(self, cwd: Path | str, plan_file: str | None = None,
                  **kwargs: Any) -> dict[str, Any]:
        """`show -json [PLAN]`: the state (or a saved plan) as Terraform's JSON format."""
        args = ["show", "-json", *([plan_file] if plan_file else [])]
        return dict(self.run(*args, cwd=cwd, **kwargs).json())

    def output_json(self, cwd: Path | str, **kwargs: Any) -> dict[str, Any]:
        """`output -json`, flattened to {name: value}."""
        raw = self.run("output", "-json", cwd=cwd, **kwargs).json()
        return {name: entry.get("value") for name, entry in dict(raw).items()}

    def test(self, cwd: Path | str, *extra: str, **kwargs: Any) -> TerraformTestReport:
        """`test -json`; never raises on failing tests (assert on `.status` / `.runs`)."""
        kwargs.setdefault("check", False)
        result = self.run("test", "-json", *extra, cwd=cwd, **kwargs)
        return TerraformTestReport(result=result, events=result.json_lines())


def _kill_group(proc: subprocess.Popen[str], grace: float = 5.0) -> tuple[str, str]:
    """SIGTERM the process group (terraform stops gracefully), SIGKILL after `grace`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        stdout, stderr = proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # provider plugins left in the group
    return stdout or "", stderr or ""


def terraform_files(directory: Path, files: Mapping[str, str]) -> Path:
    """Write `{relative path: text}` under `directory` (a module, its tests) and return it."""
    for name, text in files.items():
        path = Path(directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Path(directory)


__all__ = [
    "MIRROR_ENV",
    "TERRAFORM_ENV",
    "CliConfig",
    "Terraform",
    "TerraformError",
    "TerraformResult",
    "TerraformTestReport",
    "TerraformTimeoutError",
    "find_provider_mirror",
    "find_terraform",
    "mirrored_providers",
    "moto_env",
    "moto_provider_hcl",
    "require_provider_mirror",
    "terraform_files",
]
