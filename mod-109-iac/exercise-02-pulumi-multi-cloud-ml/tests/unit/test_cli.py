"""The command line: entry point, help with examples, the mock preview as JSON, graph and
Markdown files written atomically, the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pulumiml.report import MARKER
from tests.conftest import json_out, run_cli


@pytest.mark.points(1)
def test_entry_point_help_lists_commands_examples_and_exit_codes():
    exe = Path(sys.executable).parent / "pulumiml"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for word in ("preview", "up", "destroy", "refresh", "outputs", "affected", "Examples:",
                 "7 a mandatory policy violation"):
        assert word in result.stdout


@pytest.mark.points(4)
def test_mock_preview_yields_the_resource_graph_as_json(infra: Path, tmp_path: Path):
    graph_file = tmp_path / "out" / "graph.json"
    result = run_cli("--infra-dir", str(infra), "preview", "--mock", "--cloud", "azure",
                     "--env", "dev", "--layer", "data", "--layer", "network", "--json",
                     "--graph-out", str(graph_file))
    assert result.exit_code == 0, result.output
    payload = json_out(result)
    assert payload["order"] == [["azure-dev-network"], ["azure-dev-data"]]
    summary = {s["stack"]: s for s in payload["stacks"]}
    assert summary["azure-dev-data"]["types"]["azure-native:storage:StorageAccount"] == 2
    assert payload["policy"]["mandatory"] == 0 and payload["policy"]["evaluations"] > 10
    graphs = json.loads(graph_file.read_text())
    resources = graphs["azure-dev-data"]["resources"]
    account = next(r for r in resources if r["type"] == "azure-native:storage:StorageAccount")
    parent = next(r for r in resources if r["urn"] == account["parent"])
    assert parent["type"] == "pulumiml:azure:SecureBucket"
    assert account["inputs"]["allowBlobPublicAccess"] is False
    assert account["id"].startswith("/subscriptions/")
    containers = [r for r in resources if r["type"] == "azure-native:storage:BlobContainer"]
    assert all(account["urn"] in c["dependencies"] or c["dependencies"] for c in containers)
    assert list(tmp_path.joinpath("out").iterdir()) == [graph_file]  # no temp file left


@pytest.mark.points(2)
def test_markdown_report_for_the_pr_comment(infra: Path, tmp_path: Path):
    comment = tmp_path / "comment.md"
    result = run_cli("--infra-dir", str(infra), "preview", "--mock", "--changed",
                     "infra/Pulumi.gcp-dev.yaml", "--markdown", str(comment))
    assert result.exit_code == 0, result.output
    text = comment.read_text()
    assert text.startswith(MARKER)
    assert "`gcp-dev-serving`" in text and "aws-dev" not in text
    assert "Deploy order: [`gcp-dev-network`]" in text
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    nothing = run_cli("--infra-dir", str(infra), "preview", "--mock", "--changed-list",
                      str(empty), "--markdown", str(comment))
    assert nothing.exit_code == 0 and "No stack is affected" in comment.read_text()


@pytest.mark.points(2)
def test_demo_previews_every_dev_stack_with_summary_policy_and_order():
    result = run_cli("demo")
    assert result.exit_code == 0, result.output
    for cloud in ("aws", "gcp", "azure"):
        for layer in ("network", "data", "ml", "serving"):
            assert f"{cloud}-dev-{layer}" in result.stdout
    assert "policy report:" in result.stdout and "no violations" in result.stdout
    assert "deploy order: [aws-dev-network, azure-dev-network, gcp-dev-network]" in result.stdout


@pytest.mark.points(1)
@pytest.mark.hidden
def test_settings_come_from_a_file_and_env_vars_win(infra: Path, tmp_path: Path):
    config = tmp_path / "pulumiml.yaml"
    config.write_text(f"infra_dir: {tmp_path / 'nowhere'}\nparallelism: 3\n")
    failing = run_cli("--config", str(config), "stacks")
    assert failing.exit_code == 2 and "no such project directory" in failing.stderr
    ok = run_cli("--config", str(config), "stacks", "--env", "prod", "--json",
                 env={"PULUMIML_INFRA_DIR": str(infra)})
    assert ok.exit_code == 0 and json_out(ok)["order"][0] == [
        "aws-prod-network", "azure-prod-network", "gcp-prod-network"]
    config.write_text("parallelism: 0\n")
    bad = run_cli("--config", str(config), "stacks")
    assert bad.exit_code == 3 and "parallelism" in bad.stderr
