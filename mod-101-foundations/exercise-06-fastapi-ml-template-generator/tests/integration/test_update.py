"""`mlscaffold update` with a changed template: real `git merge-file` three-way merges."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlscaffold.cli import cli

pytestmark = pytest.mark.integration


def mls(templates: Path, *args: str):
    return CliRunner().invoke(cli, ["--templates-dir", str(templates), *args])


def _bump(templates: Path, name: str, version: str) -> None:
    meta = templates / name / "template.yaml"
    meta.write_text(meta.read_text().replace('version: "1.0.0"', f'version: "{version}"'))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def project(templates_copy: Path, tmp_path: Path) -> Path:
    result = mls(templates_copy, "new", "svc", "-t", "sklearn", "-o", str(tmp_path / "w"),
                 "--no-interactive")
    assert result.exit_code == 0, result.output
    return tmp_path / "w" / "svc"


@pytest.mark.points(8)
def test_user_edits_and_template_changes_both_survive(templates_copy: Path,
                                                      project: Path) -> None:
    # The user edits the top of main.py and adds a Makefile target...
    main = project / "src/svc/main.py"
    _edit(main, "log = logging.getLogger(\"svc\")\n",
          "log = logging.getLogger(\"svc\")\nTEAM = \"fraud\"  # added by the team\n")
    (project / "Makefile").write_text((project / "Makefile").read_text()
                                      + "\nfraud-report: ## team target\n\techo report\n")
    (project / "notes.md").write_text("our own file\n")
    # ...while the template changes the bottom of main.py, the Dockerfile, and adds a file.
    src = templates_copy / "sklearn/files/src/{{package_name}}/main.py.j2"
    _edit(src, "        return BatchPrediction(", "        log.debug(\"batch done\")\n"
                                                  "        return BatchPrediction(")
    _edit(templates_copy / "_common/files/Dockerfile.j2", "--retries=3", "--retries=5")
    (templates_copy / "_common/files/SECURITY.md.j2").write_text("Report to {{ author }}\n")
    _bump(templates_copy, "sklearn", "1.1.0")

    dry = mls(templates_copy, "update", str(project), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    actions = {c["path"]: c["action"] for c in json.loads(dry.output)["changes"]}
    assert actions == {"src/svc/main.py": "merge", "Dockerfile": "update",
                       "SECURITY.md": "add",
                       # both record the template version:
                       "README.md": "update", "src/svc/__init__.py": "update"}
    assert "--retries=3" in (project / "Dockerfile").read_text()  # dry run wrote nothing

    result = mls(templates_copy, "update", str(project))
    assert result.exit_code == 0, result.output
    merged = main.read_text()
    assert 'TEAM = "fraud"' in merged and 'log.debug("batch done")' in merged
    assert "fraud-report:" in (project / "Makefile").read_text()
    assert "--retries=5" in (project / "Dockerfile").read_text()
    assert (project / "SECURITY.md").read_text() == "Report to ML Platform Team\n"
    assert (project / "notes.md").read_text() == "our own file\n"
    stored = yaml.safe_load((project / ".mlscaffold-answers.yml").read_text())
    assert stored["_template_version"] == "1.1.0"
    assert 'TEMPLATE_VERSION = "1.1.0"' in (project / "src/svc/__init__.py").read_text()
    # A second update has nothing left to do.
    again = mls(templates_copy, "update", str(project))
    assert again.exit_code == 0 and "already up to date" in again.output


@pytest.mark.points(5)
def test_conflicting_edit_is_reported(templates_copy: Path, project: Path) -> None:
    _edit(project / "Dockerfile", "--retries=3", "--retries=10")
    _edit(templates_copy / "_common/files/Dockerfile.j2", "--retries=3", "--retries=5")
    _bump(templates_copy, "sklearn", "1.0.1")
    result = mls(templates_copy, "update", str(project))
    assert result.exit_code == 6
    assert "1 file(s) with conflicts: Dockerfile" in result.output
    text = (project / "Dockerfile").read_text()
    assert "<<<<<<< yours" in text and "--retries=10" in text and "--retries=5" in text
    assert ">>>>>>> template" in text


@pytest.mark.hidden
@pytest.mark.points(3)
def test_update_can_change_an_answer(templates_copy: Path, project: Path) -> None:
    result = mls(templates_copy, "update", str(project), "--set", "max_replicas=9")
    assert result.exit_code == 0, result.output
    assert "maxReplicas: 9" in (project / "k8s/hpa.yaml").read_text()
    bad = mls(templates_copy, "update", str(project), "--set", "max_replicas=zero")
    assert bad.exit_code == 3 and "max_replicas" in bad.output


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.hidden
@pytest.mark.points(4)
def test_update_is_applied_all_or_nothing(templates_copy: Path, project: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole update is staged first; if moving the second file into place fails (disk
    full), the files already replaced are put back: the project is as it was."""
    _edit(templates_copy / "_common/files/Dockerfile.j2", "--retries=3", "--retries=5")
    (templates_copy / "_common/files/SECURITY.md.j2").write_text("Report to {{ author }}\n")
    _bump(templates_copy, "sklearn", "1.1.0")
    before = _tree(project)
    real_replace = os.replace
    moved: list[str] = []

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).is_relative_to(project) and ".mlscaffold-update-" in str(src) \
                and ".mlscaffold-update-" not in str(dst):
            moved.append(str(dst))
            if len(moved) == 2:
                raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    failed = mls(templates_copy, "update", str(project))
    assert failed.exit_code == 1, failed.output
    assert "nothing changed" in failed.output
    assert len(failed.output.strip().splitlines()) == 1
    # One file had been replaced already; it was put back (a third move, to the same path).
    assert len(moved) == 3 and moved[2] == moved[0]
    assert _tree(project) == before
    monkeypatch.undo()
    assert mls(templates_copy, "update", str(project)).exit_code == 0
    assert "--retries=5" in (project / "Dockerfile").read_text()
    assert not list(project.glob(".mlscaffold-update-*"))
