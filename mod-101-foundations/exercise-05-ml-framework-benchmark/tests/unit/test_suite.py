"""Suite files and their expansion into jobs."""

from pathlib import Path

import pytest

from mlbench.suite import SuiteError, expand, load_suite


@pytest.mark.points(2)
def test_defaults_expand_to_every_framework_model_mode_and_batch() -> None:
    jobs = expand(load_suite(None))
    assert len(jobs) == 3 * 3 * 2 * 2
    assert {j.framework for j in jobs} == {"torch", "tensorflow", "jax"}
    # jit "auto": each framework's default fast path
    assert {(j.framework, j.jit) for j in jobs} == {("torch", False), ("tensorflow", False),
                                                     ("jax", True)}
    assert len({j.key() for j in jobs}) == len(jobs)


@pytest.mark.points(2)
def test_yaml_suite_with_overrides_scenarios_and_model_sizes(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("""
name: nightly
size: tiny
frameworks: [torch, jax]
models: {cnn: {widths: [4]}, lstm: {}}
modes: [infer]
batch_sizes: [1, 4, 4]
channels_last: [false, true]
scenarios: [offline, server]
iterations: 7
""")
    suite = load_suite(path, {"dtypes": ["fp32", "bf16"]})
    jobs = expand(suite)
    assert suite.name == "nightly" and suite.batch_sizes == [1, 4]
    cnn = [j for j in jobs if j.model == "cnn"]
    assert all(j.model_spec["widths"] == [4] for j in cnn)
    # channels_last only multiplies PyTorch CNN jobs
    assert {j.channels_last for j in jobs if j.framework == "torch" and j.model == "cnn"} == {
        False, True}
    assert not any(j.channels_last for j in jobs if j.framework == "jax" or j.model == "lstm")
    offline = [j for j in jobs if j.scenario == "offline"]
    assert offline and all(j.batch_size == 4 for j in offline)
    assert all(j.batch_size == 1 for j in jobs if j.scenario == "server")
    assert all(j.iterations == 7 for j in jobs)
    # torch cnn: 2 layouts x 2 dtypes x (2 batch sizes + 2 scenarios)
    assert len([j for j in jobs if j.framework == "torch" and j.model == "cnn"]) == 16


@pytest.mark.points(1)
@pytest.mark.parametrize(("content", "message"), [
    ("models: [cnn\n", "malformed YAML"),
    ("- a list\n", "must be a YAML mapping"),
    ("frameworks: [mxnet]\n", "frameworks.0"),
    ("models: [mlp]\n", "unknown model 'mlp'"),
    ("batch_sizes: [0, 8]\n", "batch sizes must be between 1 and 65536"),
    ("batch_sizes: []\n", "at least one batch size"),
    ("threads: [0]\n", "thread counts must be >= 1"),
    ("iterations: 1\n", "iterations"),
    ("bogus_key: 1\n", "bogus_key"),
    ("models: {transformer: {d_model: 30, heads: 4}}\n", "divisible"),
])
def test_bad_suites_fail_with_one_line_naming_the_problem(tmp_path: Path, content: str,
                                                          message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(SuiteError, match=message) as info:
        load_suite(path)
    assert "\n" not in str(info.value)


@pytest.mark.hidden
@pytest.mark.points(1)
def test_missing_suite_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="not found"):
        load_suite(tmp_path / "nope.yaml")
