import pytest

from imgsec.layers import flatten, split_whiteout
from tests.unit.helpers import layer


@pytest.mark.points(1)
def test_whiteout_names() -> None:
    assert split_whiteout("root/.aws/.wh.credentials") == ("whiteout", "root/.aws/credentials")
    assert split_whiteout(".wh.etc") == ("whiteout", "etc")
    assert split_whiteout("usr/lib/.wh..wh..opq") == ("opaque", "usr/lib")
    assert split_whiteout("usr/lib/libz.so") is None


@pytest.mark.points(3)
def test_whiteout_removes_file_and_everything_below_a_directory() -> None:
    layers = [layer(0, {"root/.aws/credentials": "x", "root/.aws/config": "y", "etc/a": "a"}),
              layer(1, whiteouts={"root/.aws"}),
              layer(2, {"etc/b": "b"})]
    view = flatten(layers)
    assert sorted(view.files) == ["etc/a", "etc/b"]
    assert sorted((d.path, d.added_in, d.removed_in) for d in view.deleted) == [
        ("root/.aws/config", 0, 1), ("root/.aws/credentials", 0, 1)]


@pytest.mark.points(2)
def test_opaque_dir_hides_lower_contents_but_keeps_its_own() -> None:
    layers = [layer(0, {"app/old.py": "1", "app/keep/x": "2", "other/y": "3"}),
              layer(1, {"app/new.py": "4"}, opaque={"app"})]
    view = flatten(layers)
    assert sorted(view.files) == ["app/new.py", "other/y"]
    assert {d.path for d in view.deleted} == {"app/old.py", "app/keep/x"}


@pytest.mark.points(1)
def test_upper_layer_overrides_and_a_file_can_come_back() -> None:
    layers = [layer(0, {"etc/conf": "v1"}), layer(1, whiteouts={"etc/conf"}),
              layer(2, {"etc/conf": "v3"})]
    view = flatten(layers)
    assert view.layer_of("etc/conf") == 2
    assert [(d.path, d.added_in, d.removed_in) for d in view.deleted] == [("etc/conf", 0, 1)]
