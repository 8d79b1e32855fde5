"""`tfml demo` (make run): the library's whole loop on loopback, no config needed.

1. copy the module library into a scratch git repository;
2. lint, `terraform test` (mock provider) and document `aws/object-store`;
3. release it (1.0.0, then a compatible 1.1.0 with a new optional variable);
4. serve the registry over HTTPS; a consumer asks for `~> 1.0`, `init` resolves 1.1.0 and
   `plan` runs against moto.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from aiinfra_shared.procs.services import start_moto_server

from tfml.config import Settings
from tfml.consumer import consumer_terraform, installed_version, write_object_store_consumer
from tfml.docs import update_module_docs
from tfml.errors import TfmlError, UnavailableError
from tfml.layout import resolve
from tfml.lint import lint_module
from tfml.registry import start_background
from tfml.release import execute, git, plan_release
from tfml.runner import make_terraform, test_module
from tfml.tls import ensure_tls

IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")


def init_repo(repo: Path, modules_dir: Path) -> Path:
    """A git repository holding a copy of the library under terraform/modules."""
    target = repo / "terraform" / "modules"
    shutil.copytree(modules_dir, target, ignore=IGNORE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "demo@tfml.test")
    git(repo, "config", "user.name", "tfml demo")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "module library")
    return target


def run_demo(settings: Settings, *, keep: bool = False,
             echo: Callable[[str], None] = print) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="tfml-demo-"))
    moto = None
    server = None
    try:
        modules = init_repo(scratch / "repo", settings.modules_dir)
        module = resolve(modules, "aws/object-store")
        findings = lint_module(module.path, module.key)
        echo(f"[1/5] lint {module.key}: {len(findings)} finding(s)")
        if findings:
            raise TfmlError("; ".join(f.format() for f in findings))
        tf = make_terraform(settings.work_dir, timeout=settings.terraform_timeout)
        result = test_module(tf, module)
        echo(f"[2/5] terraform test {module.key}: "
             f"{sum(s == 'pass' for s in result.runs.values())}/{len(result.runs)} runs pass")
        if not result.ok:
            raise TfmlError(f"terraform test failed: {result.error or result.runs}")
        shutil.rmtree(module.path / ".terraform", ignore_errors=True)
        (module.path / ".terraform.lock.hcl").unlink(missing_ok=True)
        docs = update_module_docs(module.path)
        echo(f"[3/5] docs: README {'regenerated' if docs.written else 'already current'}")
        repo = scratch / "repo"
        if docs.written:
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", "docs: regenerate")
        dist = scratch / "dist"
        first = execute(plan_release(module), dist=dist, namespace=settings.namespace)
        variables = module.path / "variables.tf"
        variables.write_text(variables.read_text() + '''
variable "object_lock_days" {
  type        = number
  description = "Reserved for object lock (demo: a new optional input is a minor change)."
  default     = null
}
''')
        git(repo, "commit", "-q", "-am", "feat: object_lock_days input")
        second = execute(plan_release(module), dist=dist, namespace=settings.namespace)
        echo(f"[4/5] released {first.tag} and {second.tag} (semver gate: "
             f"{second.required.name.lower()}); archives in {dist}")
        tls = ensure_tls(settings.work_dir / "tls", settings.registry_host)
        server = start_background(dist, tls)
        moto = start_moto_server(scratch)
        consumer = write_object_store_consumer(
            scratch / "consumer", host=settings.registry_host, namespace=settings.namespace,
            constraint="~> 1.0", bucket="tfml-demo-consumer")
        ctf = consumer_terraform(settings.work_dir / "consumer", server, tls,
                                 settings.registry_host, settings.terraform_timeout)
        ctf = ctf.with_moto(moto.endpoint_url, moto.region)
        ctf.init(consumer)
        version = installed_version(consumer)
        plan = ctf.run("plan", "-input=false", "-detailed-exitcode", cwd=consumer, check=False)
        if plan.returncode != 2:
            raise UnavailableError(f"consumer plan failed: {plan.tail(5)}")
        adds = next((ln for ln in plan.stdout.splitlines() if ln.startswith("Plan:")), "")
        echo(f"[5/5] consumer: registry resolved ~> 1.0 to {version}; plan on moto: {adds}")
    except subprocess.SubprocessError as exc:
        raise UnavailableError(str(exc)) from exc
    finally:
        if server is not None:
            server.stop()
        if moto is not None:
            moto.stop()
        if keep:
            echo(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
