"""Minify's pure parts: what a strace log says was touched, and what must be kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgopt.minify import closure, touched_paths

TRACE = """\
101 execve("/usr/sbin/chroot", ["/usr/sbin/chroot", "/tmp/r", "/bin/sh"], 0x7ff /* 2 vars */) = 0
101 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3
101 chroot("/tmp/r") = 0
101 chdir("/") = 0
101 execve("/bin/sh", ["/bin/sh", "-c", "cat conf"], 0x55 /* 2 vars */) = 0
101 chdir("/app") = 0
102 openat(AT_FDCWD, "conf", O_RDONLY <unfinished ...>
102 <... openat resumed>) = 3
102 stat("/missing", 0x7ffd) = -1 ENOENT (No such file or directory)
"""


@pytest.mark.points(2)
def test_only_paths_after_chroot_count() -> None:
    paths = touched_paths(TRACE)
    assert "/etc/ld.so.cache" not in paths
    assert {"/bin/sh", "/app/conf", "/missing"} <= paths


@pytest.mark.points(3)
def test_closure_keeps_symlink_targets_parents_and_keeps(tmp_path: Path) -> None:
    root = tmp_path
    (root / "bin").mkdir()
    (root / "bin" / "busybox").write_text("x")
    (root / "bin" / "sh").symlink_to("/bin/busybox")
    (root / "app").mkdir()
    (root / "app" / "conf").write_text("c")
    (root / "app" / "unused").write_text("u")
    (root / "share" / "data").mkdir(parents=True)
    (root / "share" / "data" / "keep.txt").write_text("k")
    (root / "dev").mkdir()
    (root / "dev" / "junk").write_text("j")
    kept = closure(root, {"/bin/sh", "/app/conf", "/missing", "/dev/junk"}, ["/share/data"])
    assert kept == {"bin", "bin/sh", "bin/busybox", "app", "app/conf", "share", "share/data",
                    "share/data/keep.txt", "dev"}
