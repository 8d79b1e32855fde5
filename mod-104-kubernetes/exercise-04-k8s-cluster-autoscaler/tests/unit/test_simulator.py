"""Seeded simulations: predictive beats reactive on daily spikes, KEDA scales to zero, spot
interruptions fall back to on-demand, Karpenter consolidates, VPA resizes requests."""

from __future__ import annotations

import pytest

from autoscale import clusterfile, policyfile, simulator, traces
from autoscale.errors import PolicyError
from tests.helpers import EXAMPLES, cluster_dict

DAY = 86400


@pytest.fixture(scope="module")
def policy() -> policyfile.PolicyFile:
    return policyfile.load(EXAMPLES / "policy.yaml")


@pytest.fixture(scope="module")
def spec() -> clusterfile.ClusterFile:
    return clusterfile.load(EXAMPLES / "cluster.yaml")


@pytest.mark.points(6)
def test_predictive_halves_violations_on_daily_spikes_within_ten_percent_cost(
        policy: policyfile.PolicyFile, spec: clusterfile.ClusterFile) -> None:
    """The headline: spikes at 09:00 and 18:30 rise within two minutes, faster than pods and
    nodes start. Holt-Winters, fitted on two days, scales up ahead of them."""
    trace = traces.load(EXAMPLES / "traces" / "spike.csv")
    reactive = simulator.simulate(trace, "hpa-cpu", policy, spec, warmup_seconds=2 * DAY)
    ahead = simulator.simulate(trace, "predictive", policy, spec, warmup_seconds=2 * DAY)
    assert reactive.violation_minutes >= 5  # reactive scaling does miss the spikes
    assert ahead.violation_minutes <= 0.5 * reactive.violation_minutes
    assert ahead.cost <= 1.10 * reactive.cost
    assert ahead.dropped_requests < reactive.dropped_requests
    assert ahead.simulated_hours == pytest.approx(24)


@pytest.mark.points(3)
def test_keda_scales_to_zero_and_back(policy: policyfile.PolicyFile,
                                      spec: clusterfile.ClusterFile) -> None:
    quiet = [0.0] * 120 + [60.0] * 60 + [0.0] * 60  # minutes
    trace = traces.Trace(0, 60, tuple(quiet), "quiet")
    result = simulator.simulate(trace, "keda", policy, spec, keep_series=True)
    replicas = result.series["replicas"]
    assert min(replicas[:400]) == 0  # idle for two hours: scaled to zero
    busy = replicas[int(150 * 60 / simulator.STEP)]  # half an hour into the traffic
    assert busy >= 4  # 60/s at 17.5 per replica
    assert replicas[-1] == 0  # cooldown after the traffic stops
    hpa = simulator.simulate(trace, "hpa-rps", policy, spec)
    assert min(hpa.series.get("replicas", [2])) >= 0 and hpa.max_replicas >= 2


@pytest.mark.points(3)
@pytest.mark.hidden
def test_spot_interruptions_fall_back_to_on_demand(policy: policyfile.PolicyFile) -> None:
    calm = clusterfile.parse(cluster_dict())
    raw = cluster_dict()
    raw["spot"] = {"interruptionsPerNodeHour": 3.0, "backoffSeconds": 1800, "seed": 5}
    stormy = clusterfile.parse(raw)
    trace = traces.generate(traces.Pattern.DIURNAL, days=1)
    before = simulator.simulate(trace, "hpa-cpu", policy, calm)
    after = simulator.simulate(trace, "hpa-cpu", policy, stormy)
    assert before.spot_interruptions == 0 and after.spot_interruptions > 0
    assert after.spot_node_hours < before.spot_node_hours  # backed-off spot group
    od_before = before.node_hours - before.spot_node_hours
    assert after.node_hours - after.spot_node_hours > od_before  # on-demand took over


@pytest.mark.points(2)
def test_karpenter_picks_the_cheapest_capacity(policy: policyfile.PolicyFile) -> None:
    """Cluster Autoscaler with least-waste sees spot and on-demand m6i.xlarge as equal (same
    waste; the tie goes to the name, general-od); Karpenter launches the cheapest fit."""
    raw = cluster_dict()
    raw["expander"] = "least-waste"
    spec = clusterfile.parse(raw)
    trace = traces.generate(traces.Pattern.DIURNAL, days=1)
    ca = simulator.simulate(trace, "hpa-cpu@cluster-autoscaler", policy, spec)
    karpenter = simulator.simulate(trace, "hpa-cpu@karpenter", policy, spec)
    assert (ca.provisioner, karpenter.provisioner) == ("cluster-autoscaler", "karpenter")
    assert ca.spot_node_hours == 0 and karpenter.spot_node_hours > 0
    assert karpenter.cost < 0.8 * ca.cost


@pytest.mark.points(2)
def test_vpa_policy_resizes_requests(policy: policyfile.PolicyFile,
                                     spec: clusterfile.ClusterFile) -> None:
    trace = traces.Trace(0, 60, tuple([10.0] * 360), "flat")
    result = simulator.simulate(trace, "vpa", policy, spec)
    assert result.max_replicas == policy.replicas.min  # VPA does not add pods
    # 10/s on two pods of 0.5 cores: ~0.12 cores used -> VPA lowers the request
    assert 0.1 <= result.final_cpu_request < 0.25


@pytest.mark.points(1)
@pytest.mark.hidden
def test_results_are_deterministic_and_names_checked(policy: policyfile.PolicyFile,
                                                     spec: clusterfile.ClusterFile) -> None:
    trace = traces.generate(traces.Pattern.RAMP, days=0.25)
    a = simulator.simulate(trace, "hpa-rps", policy, spec)
    b = simulator.simulate(trace, "hpa-rps", policy, spec)
    assert a.as_dict() == b.as_dict()
    with pytest.raises(PolicyError, match="unknown policy 'hpa-gpu'"):
        simulator.simulate(trace, "hpa-gpu", policy, spec)
    with pytest.raises(PolicyError, match="unknown provisioner 'gke'"):
        simulator.simulate(trace, "keda@gke", policy, spec)
    with pytest.raises(PolicyError, match="warm-up"):
        simulator.simulate(trace, "keda", policy, spec, warmup_seconds=DAY)


@pytest.mark.points(1)
def test_winner_is_the_cheapest_that_meets_the_best_slo() -> None:
    from autoscale.report import winner

    def result(policy: str, minutes: float, cost: float) -> simulator.Result:
        return simulator.Result(policy, "karpenter", 24, minutes, 0, 1, cost, 1, 0, 0, 0, 1)

    cheap_but_failing = result("vpa", 1440, 4.0)
    slow = result("hpa-cpu", 12, 5.2)
    ahead = result("predictive", 0.0, 5.4)
    ahead_naive = result("predictive-naive", 0.5, 5.3)
    assert winner([cheap_but_failing, slow, ahead]).label == "predictive@karpenter"
    assert winner([ahead, ahead_naive]).policy == "predictive-naive"  # within 1 min, cheaper
