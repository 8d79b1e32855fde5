"""Mann-Whitney U canary comparison and the PromQL templates."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from meshobs.delivery.compare import compare_samples
from meshobs.delivery.spec import load_canary, parse_canary
from meshobs.delivery.templates import QueryContext, render_query
from meshobs.errors import SpecError
from meshobs.spec import default_spec

CTX = QueryContext(service="model", version="v2", namespace="serving", interval="30s")


@pytest.mark.points(2)
def test_fully_separated_samples_give_the_exact_p_value() -> None:
    # 8 canary values all above 8 primary values: U = 64, exact one-sided p = 1 / C(16, 8)
    result = compare_samples("c", "q", [20.0 + i for i in range(8)],
                             [1.0 + i for i in range(8)], alpha=0.01, min_samples=8)
    assert result.value == pytest.approx(1 / math.comb(16, 8), rel=1e-9)
    assert result.verdict == "fail" and "U=64" in result.detail


@pytest.mark.points(1)
@pytest.mark.hidden
def test_similar_or_better_canaries_pass_and_few_samples_are_no_data() -> None:
    same = compare_samples("c", "q", [5, 6, 7, 8, 9, 10, 11, 12], [5, 6, 7, 8, 9, 10, 11, 12],
                           alpha=0.01, min_samples=8)
    assert same.verdict == "pass"
    faster = compare_samples("c", "q", [1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16],
                             alpha=0.01, min_samples=8)
    assert faster.verdict == "pass" and faster.value is not None and faster.value > 0.99
    few = compare_samples("c", "q", [1, 2], [1, 2, 3, 4, 5, 6, 7, 8], 0.01, 8)
    assert few.verdict == "no-data" and "2 canary / 8 primary" in few.detail
    flat = compare_samples("c", "q", [1.0] * 8, [1.0] * 8, 0.01, 8)
    assert flat.verdict == "pass"


@pytest.mark.points(2)
def test_templates_per_provider() -> None:
    istio = render_query("istio", "request-success-rate", None, CTX)
    assert 'destination_workload="model-v2"' in istio
    assert 'destination_workload_namespace="serving"' in istio
    assert 'response_code!~"5.*"' in istio and "[30s]" in istio
    linkerd = render_query("linkerd", "request-duration-p99", None, CTX)
    assert linkerd.startswith("histogram_quantile(0.99, sum by (le) (rate(response_latency_ms")
    assert 'deployment="model-v2"' in linkerd and 'direction="inbound"' in linkerd
    local = render_query("local", "request-success-rate", None, CTX)
    assert 'proxy=~"model_via_.+"' in local and 'server="v2"' in local


@pytest.mark.points(1)
def test_custom_queries_use_flagger_variables() -> None:
    query = render_query("local", None, 'sum(rate(x{app="{{ target }}",ns="{{namespace}}"}'
                         "[{{ interval }}]))", CTX)
    assert query == 'sum(rate(x{app="model-v2",ns="serving"}[30s]))'
    with pytest.raises(SpecError, match=r"unknown variable \{\{ pod \}\}"):
        render_query("local", None, "up{pod='{{ pod }}'}", CTX)


@pytest.mark.points(1)
def test_canary_file_is_checked_against_the_mesh(tmp_path: Path) -> None:
    mesh = default_spec()
    example = load_canary(Path(__file__).resolve().parents[2] / "examples" / "canary.yaml",
                          mesh)
    assert example.service == "model" and example.canary == "v2"
    with pytest.raises(SpecError, match="service: unknown service 'modle'"):
        parse_canary({"service": "modle", "primary": "v1", "canary": "v2"}, mesh)
    with pytest.raises(SpecError, match="canary: unknown version 'v3'"):
        parse_canary({"service": "model", "primary": "v1", "canary": "v3"}, mesh)
    with pytest.raises(SpecError, match="no header route x-beta=yes -> v2"):
        parse_canary({"service": "model", "primary": "v1", "canary": "v2", "mode": "ab",
                      "match": [{"header": "x-beta", "exact": "yes"}]}, mesh)
    with pytest.raises(SpecError, match="step_weight: Input should be less than or equal"):
        parse_canary({"service": "model", "primary": "v1", "canary": "v2",
                      "step_weight": 500}, mesh)
