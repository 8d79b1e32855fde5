"""Solution regions and hidden tests: what the starter generator keeps, removes and refuses."""

from __future__ import annotations

import textwrap

import pytest

from aiinfra_shared.grading.markers import (
    DEFAULT_HINT,
    MarkerError,
    strip_hidden_tests,
    strip_solutions,
)

MODULE = textwrap.dedent('''\
    """A module."""
    import math

    LIMIT = 3


    def area(radius: float) -> float:
        """Area of a circle."""
        # BEGIN SOLUTION: multiply pi by the square of the radius
        return math.pi * radius**2
        # END SOLUTION


    class Shape:
        def scale(self, factor: float) -> float:
            if factor < 0:
                raise ValueError("negative")
            # BEGIN SOLUTION
            value = factor * LIMIT
            return value
            # END SOLUTION
    ''')


def test_regions_become_not_implemented_with_the_hint_and_the_rest_stays() -> None:
    stripped, regions = strip_solutions(MODULE, "shapes.py")
    assert [(r.begin, r.end) for r in regions] == [(9, 11), (18, 21)]
    namespace: dict[str, object] = {}
    exec(compile(stripped, "shapes.py", "exec"), namespace)  # noqa: S102 (our own source)
    with pytest.raises(NotImplementedError, match="multiply pi by the square"):
        namespace["area"](2.0)  # type: ignore[operator]
    shape = namespace["Shape"]()  # type: ignore[operator]
    with pytest.raises(ValueError):  # code before the region is kept
        shape.scale(-1)
    with pytest.raises(NotImplementedError, match=DEFAULT_HINT.split(" (")[0]):
        shape.scale(2)
    assert '"""Area of a circle."""' in stripped and "def area(radius: float) -> float:" in stripped
    assert "math.pi *" not in stripped and "factor * LIMIT" not in stripped
    assert "import math" in stripped


def test_a_module_without_regions_is_unchanged() -> None:
    assert strip_solutions("x = 1\n", "plain.py") == ("x = 1\n", [])


@pytest.mark.parametrize(("source", "line", "problem"), [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", 3, "without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n"
     "    # END SOLUTION\n    # END SOLUTION\n", 3, "cannot nest"),
    ("# BEGIN SOLUTION\nX = 1\n# END SOLUTION\n", 1, "module level"),
    ("class C:\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n", 2, "class body"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n\n\ndef g():\n    return 2\n"
     "    # END SOLUTION\n", 2, "runs past the end of its function"),
    ("def f():\n    x = 1\n# BEGIN SOLUTION\n    return x\n# END SOLUTION\n", 3,
     "indented like the code"),
    ("def f():\n    # BEGIN SOLUTION\n    # only a comment\n    # END SOLUTION\n    pass\n", 2,
     "empty solution region"),
])
def test_malformed_regions_name_file_and_line(source: str, line: int, problem: str) -> None:
    with pytest.raises(MarkerError) as err:
        strip_solutions(source, "pkg/core.py")
    message = str(err.value)
    assert message.startswith(f"pkg/core.py:{line}:")
    assert problem in message
    assert "\n" not in message


TESTS = textwrap.dedent('''\
    import pytest


    @pytest.mark.points(2)
    def test_visible() -> None:
        assert True


    @pytest.mark.hidden
    @pytest.mark.points(3)
    def test_secret() -> None:
        assert True


    class TestMixed:
        def test_kept(self) -> None:
            assert True

        @pytest.mark.hidden
        def test_gone(self) -> None:
            assert True


    @pytest.mark.hidden()
    class TestAllHidden:
        def test_a(self) -> None:
            assert True
    ''')


def test_hidden_functions_methods_and_classes_are_removed() -> None:
    kept, removed = strip_hidden_tests(TESTS, "tests/test_x.py")
    assert kept is not None and removed == 3
    assert "test_visible" in kept and "test_kept" in kept
    for name in ("test_secret", "test_gone", "TestAllHidden", "test_a"):
        assert name not in kept
    compile(kept, "tests/test_x.py", "exec")


def test_a_class_whose_every_test_is_hidden_goes_whole() -> None:
    source = ("import pytest\n\n\nclass TestC:\n    \"\"\"Doc.\"\"\"\n\n"
              "    @pytest.mark.hidden\n    def test_a(self):\n        pass\n")
    kept, removed = strip_hidden_tests(source, "tests/test_c.py")
    assert kept is not None and "TestC" not in kept and removed == 1


@pytest.mark.parametrize("mark", ["pytest.mark.hidden",
                                  "[pytest.mark.points(3), pytest.mark.hidden]"])
def test_a_module_marked_hidden_is_dropped(mark: str) -> None:
    kept, _ = strip_hidden_tests(f"import pytest\npytestmark = {mark}\n\n\ndef test_a():\n"
                                 "    pass\n", "tests/test_h.py")
    assert kept is None


def test_hidden_params_are_refused() -> None:
    source = ("import pytest\n\n\n@pytest.mark.parametrize('x', [1, pytest.param(2, "
              "marks=pytest.mark.hidden)])\ndef test_p(x):\n    pass\n")
    with pytest.raises(MarkerError, match=r"tests/test_p.py:4: pytest.param"):
        strip_hidden_tests(source, "tests/test_p.py")
