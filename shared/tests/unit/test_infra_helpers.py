"""Pure helpers behind the terraform, image-builder and Kubernetes fixtures (no tools run)."""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.images import ImageBuilder, ImageBuildError, is_static_elf
from aiinfra_shared.procs.terraform import (
    MIRROR_ENV,
    CliConfig,
    Terraform,
    TerraformResult,
    TerraformTestReport,
    find_provider_mirror,
    mirrored_providers,
    require_provider_mirror,
)


@pytest.fixture
def fake_mirror(tmp_path: Path) -> Iterator[Path]:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64").mkdir(parents=True)
    (mirror / "registry.terraform.io/hashicorp/random/3.6.0/linux_amd64").mkdir(parents=True)
    find_provider_mirror.cache_clear()
    yield mirror
    find_provider_mirror.cache_clear()


def test_mirror_env_override_accepts_the_dir_or_its_registry_child(
        fake_mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MIRROR_ENV, str(fake_mirror / "registry.terraform.io"))
    assert find_provider_mirror() == fake_mirror
    assert mirrored_providers(fake_mirror) == ["registry.terraform.io/hashicorp/aws",
                                               "registry.terraform.io/hashicorp/random"]


def test_an_empty_mirror_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    find_provider_mirror.cache_clear()
    try:
        with pytest.raises(MissingBinaryError, match="holds no providers"):
            require_provider_mirror()
    finally:
        find_provider_mirror.cache_clear()


def test_cli_config_renders_mirror_direct_hosts_and_credentials(tmp_path: Path) -> None:
    config = CliConfig(mirror=tmp_path, providers=("registry.terraform.io/hashicorp/aws",),
                       direct=True,
                       hosts={"registry.local": {"modules.v1": "http://127.0.0.1:9/v1/"}},
                       credentials={"registry.local": "s3cr3t"})
    text = config.render()
    assert f'path    = "{tmp_path}"' in text
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in text
    assert 'host "registry.local" {' in text and '"modules.v1" = "http://127.0.0.1:9/v1/"' in text
    assert 'token = "s3cr3t"' in text
    assert "direct" not in CliConfig(mirror=tmp_path, providers=()).render()


def test_run_adds_no_color_and_scrubs_the_callers_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    echo = shutil.which("echo")
    assert echo is not None
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", "/elsewhere.rc")
    runner = Terraform(binary=echo, config_file=tmp_path / "rc").with_env(AWS_PROFILE="")
    assert runner.run("plan", "-out=x", cwd=tmp_path).stdout.split() == [
        "plan", "-no-color", "-out=x"]
    assert runner.run("fmt", "-check", cwd=tmp_path).stdout.split() == ["fmt", "-check"]
    env = runner.environment()
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "rc") and "AWS_PROFILE" not in env


def test_test_report_reads_the_json_stream() -> None:
    stdout = "\n".join([
        '{"type": "version", "terraform": "1.11.4"}',
        "not json",
        '{"type": "test_run", "test_run": {"path": "t.tftest.hcl", "run": "a",'
        ' "progress": "complete", "status": "pass"}}',
        '{"type": "diagnostic", "diagnostic": {"summary": "Test assertion failed",'
        ' "detail": "nope"}}',
        '{"type": "test_summary", "test_summary": {"status": "fail", "passed": 1,'
        ' "failed": 1, "errored": 0, "skipped": 0}}',
    ])
    result = TerraformResult(("test", "-json"), 1, stdout, "", 0.1)
    report = TerraformTestReport(result=result, events=result.json_lines())
    assert len(report.events) == 4
    assert report.runs == {"t.tftest.hcl::a": "pass"}
    assert report.status == "fail" and report.summary["failed"] == 1
    assert report.diagnostics == ["Test assertion failed: nope"]


def _elf(program_types: list[int]) -> bytes:
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4], header[5] = 2, 1  # 64-bit, little-endian
    struct.pack_into("<Q", header, 32, 64)  # program headers right after the ELF header
    struct.pack_into("<HH", header, 54, 56, len(program_types))
    tables = b"".join(struct.pack("<I", p_type) + bytes(52) for p_type in program_types)
    return bytes(header) + tables


def test_static_elf_detection(tmp_path: Path) -> None:
    static, dynamic, script = tmp_path / "s", tmp_path / "d", tmp_path / "x"
    static.write_bytes(_elf([1, 1]))  # PT_LOAD only
    dynamic.write_bytes(_elf([6, 3, 1]))  # PT_PHDR, PT_INTERP, PT_LOAD
    script.write_text("#!/bin/sh\n")
    assert is_static_elf(static)
    assert not is_static_elf(dynamic)
    assert not is_static_elf(script)


def test_image_cache_key_follows_every_input() -> None:
    base = ImageBuilder.cache_key("FROM scratch", {"a": b"1"}, {}, None, True)
    assert base == ImageBuilder.cache_key("FROM scratch", {"a": b"1"}, {}, None, True)
    variants = [
        ImageBuilder.cache_key("FROM scratch\n", {"a": b"1"}, {}, None, True),
        ImageBuilder.cache_key("FROM scratch", {"a": b"2"}, {}, None, True),
        ImageBuilder.cache_key("FROM scratch", {"b": b"1"}, {}, None, True),
        ImageBuilder.cache_key("FROM scratch", {"a": b"1"}, {"V": "1"}, None, True),
        ImageBuilder.cache_key("FROM scratch", {"a": b"1"}, {}, "x:1", True),
        ImageBuilder.cache_key("FROM scratch", {"a": b"1"}, {}, None, False),
    ]
    assert base not in variants and len(set(variants)) == len(variants)


def test_label_selectors() -> None:
    k8s = pytest.importorskip("aiinfra_shared.procs.k8s")
    labels = {"app": "web", "tier": "gpu"}
    assert k8s._labels_match(labels, "app=web,tier==gpu")
    assert not k8s._labels_match(labels, "app=api")
    assert k8s._labels_match(labels, "app!=api,tier,!missing")
    assert not k8s._labels_match(labels, "!tier")


def _fake_buildah(directory: Path, failures: int) -> Path:
    """A `buildah` that fails its first `failures` runs the way a memfd-sealing EBUSY does."""
    directory.mkdir()
    counter = directory / "runs"
    script = directory / "buildah"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "{counter}"\n'
        f'if [ "$n" -le {failures} ]; then\n'
        '  echo "Close_Fd sealing memfd copy: Device or resource busy" >&2\n'
        '  echo \'Error: building at STEP "RUN chmod 755 /x": exit status 1\' >&2; exit 1\n'
        "fi\n"
        'echo "built on run $n"\n'
    )
    script.chmod(0o755)
    return counter


def test_buildah_reexec_failure_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _fake_buildah(tmp_path / "bin", failures=2)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setattr("aiinfra_shared.procs.images.REEXEC_BACKOFF_S", 0.0)
    builder = ImageBuilder(tmp_path / "work")
    assert builder.buildah_cmd("bud", ".").strip() == "built on run 3"
    assert builder.reexec_retries == 2
    assert counter.read_text().strip() == "3"


def test_buildah_reexec_failure_gives_up_after_three_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _fake_buildah(tmp_path / "bin", failures=5)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setattr("aiinfra_shared.procs.images.REEXEC_BACKOFF_S", 0.0)
    builder = ImageBuilder(tmp_path / "work")
    with pytest.raises(ImageBuildError, match="sealing memfd copy"):
        builder.buildah_cmd("bud", ".")
    assert counter.read_text().strip() == "3"


def test_a_real_build_failure_is_not_retried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "buildah").write_text(
        f'#!/bin/sh\necho run >> "{bin_dir / "runs"}"\n'
        "echo 'Error: building at STEP \"RUN false\": exit status 1' >&2; exit 1\n")
    (bin_dir / "buildah").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    builder = ImageBuilder(tmp_path / "work")
    with pytest.raises(ImageBuildError, match="RUN false"):
        builder.buildah_cmd("bud", ".")
    assert (bin_dir / "runs").read_text().count("run") == 1
