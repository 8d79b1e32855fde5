"""Layer analysis over hand-made layers: every expected number computed by hand."""

from __future__ import annotations

import pytest

from imgopt.layers import analyse, cache_kind, dive_metrics, replay
from imgopt.model import Entry, Image, Layer

MB = 1_000_000


def layer(index: int, *entries: Entry, created_by: str = "") -> Layer:
    return Layer(index, f"sha256:{index}", created_by or f"step {index}", tuple(entries))


def d(path: str) -> Entry:
    return Entry(path, "dir", mode=0o755)


def f(path: str, size: int, digest: str = "", mode: int = 0o644, uid: int = 0) -> Entry:
    return Entry(path, "file", size=size, digest=digest or f"h-{path}-{size}", mode=mode, uid=uid)


def wh(path: str) -> Entry:
    return Entry(path, "whiteout")


BASE = layer(0, d("bin"), f("bin/busybox", 2 * MB))
BIG = layer(1, f("big.bin", 5 * MB), d("var"), d("var/cache"), f("var/cache/x", 10))
RM = layer(2, wh("big.bin"), created_by="/bin/sh -c rm /big.bin")
TOOL = layer(3, d("usr"), f("usr/tool", 2 * MB, digest="same"))
CHMOD = layer(4, d("usr"), f("usr/tool", 2 * MB, digest="same", mode=0o755),
              created_by="/bin/sh -c chmod 755 /usr/tool")
LAYERS = [BASE, BIG, RM, TOOL, CHMOD]


@pytest.mark.points(3)
def test_dive_efficiency_by_hand() -> None:
    metrics = dive_metrics(LAYERS)
    # min copies: busybox 2 MB + big 0 + x 10 + tool 2 MB; all copies: 2 + 5 + 10 B + 4 MB
    assert metrics.efficiency == pytest.approx((4 * MB + 10) / (11 * MB + 10))
    assert metrics.wasted_bytes == 9 * MB  # every copy of big.bin and usr/tool
    assert metrics.size_bytes == 11 * MB + 10
    assert metrics.user_size_bytes == 9 * MB + 10
    assert metrics.user_wasted_percent == pytest.approx(9 * MB / (9 * MB + 10))
    assert metrics.inefficiencies == (("/big.bin", 2, 5 * MB), ("/usr/tool", 2, 4 * MB))


@pytest.mark.points(2)
def test_dive_counts_a_deleted_directory_once_at_its_size() -> None:
    # dive: the whiteout node of a dir costs the stacked subtree; the dir was no leaf below.
    layers = [layer(0, d("cache"), f("cache/a", 300), f("cache/b", 700)),
              layer(1, wh("cache"))]
    metrics = dive_metrics(layers)
    assert metrics.wasted_bytes == 0
    assert metrics.efficiency == 1.0
    visible, waste = replay(layers)
    assert visible == {}
    assert sorted((w.path, w.size, w.reason) for w in waste) == [
        ("cache/a", 300, "deleted-later"), ("cache/b", 700, "deleted-later")]


@pytest.mark.points(3)
def test_reclaimable_excludes_the_kept_copy() -> None:
    analysis = analyse(Image("test", tuple(LAYERS)))
    assert analysis.reclaimable_bytes == 7 * MB  # big.bin 5 MB + first tool copy 2 MB
    kept = 2 * MB  # the visible usr/tool
    assert analysis.dive.wasted_bytes - analysis.reclaimable_bytes == kept
    assert analysis.final_files == {"bin/busybox": 2 * MB, "var/cache/x": 10,
                                    "usr/tool": 2 * MB}


@pytest.mark.points(3)
def test_every_wasted_byte_is_explained() -> None:
    analysis = analyse(Image("test", tuple(LAYERS)))
    by_path = {w.path: w for w in analysis.waste}
    assert by_path["big.bin"].reason == "deleted-later"
    assert (by_path["big.bin"].layer, by_path["big.bin"].by_layer) == (1, 2)
    assert by_path["usr/tool"].reason == "metadata-only"
    assert by_path["usr/tool"].detail == "mode 644->755"
    assert (by_path["usr/tool"].layer, by_path["usr/tool"].by_layer) == (3, 4)


@pytest.mark.points(2)
def test_overwrite_with_new_content_and_chown() -> None:
    layers = [layer(0, f("app/a", 100, digest="v1"), f("app/b", 50, digest="b")),
              layer(1, f("app/a", 120, digest="v2"), f("app/b", 50, digest="b", uid=1000))]
    _, waste = replay(layers)
    reasons = {w.path: (w.reason, w.size, w.detail) for w in waste}
    assert reasons == {"app/a": ("overwritten", 100, ""),
                       "app/b": ("metadata-only", 50, "owner 0:0->1000:0")}


@pytest.mark.hidden
@pytest.mark.points(2)
def test_opaque_directory_hides_lower_contents() -> None:
    layers = [layer(0, d("data"), f("data/old", 400), f("keep", 1)),
              layer(1, d("data"), Entry("data", "opaque"), f("data/new", 10))]
    visible, waste = replay(layers)
    assert set(visible) == {"data", "data/new", "keep"}
    assert [(w.path, w.reason, w.by_layer) for w in waste] == [("data/old", "deleted-later", 1)]
    summary = analyse(Image("t", tuple(layers))).layers[1]
    assert summary.opaque_dirs == ("data",)


@pytest.mark.points(2)
@pytest.mark.parametrize(("path", "kind"), [
    ("var/lib/apt/lists/deb.debian.org_dists", "apt lists"),
    ("root/.cache/pip/wheels/ab/x.whl", "pip cache"),
    ("root/.npm/_cacache/index", "npm cache"),
    ("app/pkg/__pycache__/m.cpython-311.pyc", "__pycache__"),
    ("usr/lib/python3/site.py", None),
    ("var/lib/apt/extended_states", None),
])
def test_cache_kinds(path: str, kind: str | None) -> None:
    assert cache_kind(path) == kind


@pytest.mark.hidden
@pytest.mark.points(3)
def test_caches_left_behind_are_reported_apart() -> None:
    layers = [layer(0, f("root/.cache/pip/x.whl", 900), f("app/main.py", 10)),
              layer(1, f("app/__pycache__/main.cpython-311.pyc", 30))]
    analysis = analyse(Image("t", tuple(layers)))
    assert analysis.reclaimable_bytes == 0
    assert analysis.cache_bytes == 930
    assert {(w.path, w.detail) for w in analysis.waste} == {
        ("root/.cache/pip/x.whl", "pip cache"),
        ("app/__pycache__/main.cpython-311.pyc", "__pycache__")}


@pytest.mark.hidden
@pytest.mark.points(3)
def test_dive_whiteout_of_directory_after_partial_rewrite() -> None:
    # Layer 1 re-adds one file into the dir; layer 2 deletes the dir: the whiteout costs the
    # stacked size (a 300 + b 500), and path cache/a counts two copies.
    layers = [layer(0, d("cache"), f("cache/a", 300)),
              layer(1, d("cache"), f("cache/a", 300, digest="x2"), f("cache/b", 500)),
              layer(2, wh("cache"))]
    metrics = dive_metrics(layers)
    assert metrics.inefficiencies == (("/cache/a", 2, 600),)
    assert metrics.efficiency == pytest.approx((300 + 500 + 800) / (600 + 500 + 800))
    analysis = analyse(Image("t", tuple(layers)))
    assert analysis.reclaimable_bytes == 1100
