"""Node provisioning: Cluster Autoscaler (expanders, scale-down) and Karpenter-style
consolidation, as pure functions over node and pod requests.

Modelled on kubernetes/autoscaler cluster-autoscaler (v1.31): `estimator/binpacking_estimator`
(first-fit decreasing of pending pods onto template nodes), `expander/{leastwaste,price,
priority,mostpods}`, `core/scaledown` (a node is *unneeded* below 50 % utilization of its
requests, removable after 10 min if its pods fit elsewhere and PodDisruptionBudgets allow;
empty nodes go in bulk, at most one non-empty node per loop), and Karpenter v1's disruption
controller (delete a node whose pods fit on the others; replace it by one cheaper node that
holds them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from autoscale.errors import PolicyError


class Expander(StrEnum):
    LEAST_WASTE = "least-waste"
    PRICE = "price"
    PRIORITY = "priority"
    MOST_PODS = "most-pods"


@dataclass(frozen=True)
class NodeGroup:
    name: str
    instance_type: str
    cpu: float  # allocatable cores
    memory: float  # allocatable GiB
    price: float  # per node-hour
    min_size: int = 0
    max_size: int = 10
    gpu: int = 0
    spot: bool = False
    priority: int = 0
    startup_seconds: float = 90.0

    def __post_init__(self) -> None:
        if self.min_size > self.max_size:
            raise PolicyError(f"node group {self.name}: min_size {self.min_size} > "
                              f"max_size {self.max_size}")
        if self.cpu <= 0 or self.memory <= 0:
            raise PolicyError(f"node group {self.name}: cpu and memory must be > 0")


@dataclass(frozen=True)
class PodRequest:
    name: str
    cpu: float
    memory: float  # GiB
    gpu: int = 0
    app: str = ""


@dataclass
class Node:
    name: str
    group: NodeGroup
    created_at: float
    ready_at: float
    pods: list[PodRequest] = field(default_factory=list)
    unneeded_since: float | None = None

    def free(self) -> tuple[float, float, int]:
        cpu = self.group.cpu - sum(p.cpu for p in self.pods)
        memory = self.group.memory - sum(p.memory for p in self.pods)
        gpu = self.group.gpu - sum(p.gpu for p in self.pods)
        return cpu, memory, gpu

    def ready(self, now: float) -> bool:
        return now >= self.ready_at

    def utilization(self) -> float:
        """Max over CPU, memory (and GPU when the node has one) of requested / allocatable."""
        used = [sum(p.cpu for p in self.pods) / self.group.cpu,
                sum(p.memory for p in self.pods) / self.group.memory]
        if self.group.gpu:
            used.append(sum(p.gpu for p in self.pods) / self.group.gpu)
        return max(used)


@dataclass(frozen=True)
class DisruptionBudget:
    """A PodDisruptionBudget over the pods of one app (minAvailable or maxUnavailable)."""

    app: str
    min_available: int | None = None
    max_unavailable: int | None = None

    def allowed(self, healthy: int) -> int:
        if self.min_available is not None:
            return max(healthy - self.min_available, 0)
        if self.max_unavailable is not None:
            return self.max_unavailable
        return healthy


def _fits(free: tuple[float, float, int], pod: PodRequest) -> bool:
    eps = 1e-9
    return pod.cpu <= free[0] + eps and pod.memory <= free[1] + eps and pod.gpu <= free[2]


def _take(free: tuple[float, float, int], pod: PodRequest) -> tuple[float, float, int]:
    return free[0] - pod.cpu, free[1] - pod.memory, free[2] - pod.gpu


def decreasing(pods: Iterable[PodRequest]) -> list[PodRequest]:
    """Largest first: GPUs, then CPU, then memory (the estimator's order)."""
    return sorted(pods, key=lambda p: (p.gpu, p.cpu, p.memory), reverse=True)


def first_fit_decreasing(pods: Iterable[PodRequest], bins: Sequence[tuple[float, float, int]]
                         ) -> tuple[dict[int, list[PodRequest]], list[PodRequest]]:
    """Place pods, largest first, on the first bin with room: (bin -> pods, unplaced)."""
    # BEGIN SOLUTION
    free = list(bins)
    placed: dict[int, list[PodRequest]] = {}
    unplaced: list[PodRequest] = []
    for pod in decreasing(pods):
        for index, room in enumerate(free):
            if _fits(room, pod):
                free[index] = _take(room, pod)
                placed.setdefault(index, []).append(pod)
                break
        else:
            unplaced.append(pod)
    return placed, unplaced
    # END SOLUTION


@dataclass(frozen=True)
class ScaleUpOption:
    group: NodeGroup
    nodes: int
    pods: tuple[PodRequest, ...]

    @property
    def price(self) -> float:
        return self.nodes * self.group.price

    def waste(self) -> float:
        """Least-waste score: unused CPU fraction + unused memory fraction of the new nodes."""
        cpu = self.nodes * self.group.cpu
        memory = self.nodes * self.group.memory
        return (cpu - sum(p.cpu for p in self.pods)) / cpu + \
            (memory - sum(p.memory for p in self.pods)) / memory


def estimate(group: NodeGroup, pods: Sequence[PodRequest], room: int) -> ScaleUpOption | None:
    """Binpacking estimator: how many new nodes of `group` (<= room) the pods need."""
    # BEGIN SOLUTION
    if room <= 0:
        return None
    template = (group.cpu, group.memory, group.gpu)
    bins: list[tuple[float, float, int]] = []
    placed: list[PodRequest] = []
    for pod in decreasing(pods):
        if not _fits(template, pod):
            continue  # this group can never hold it
        for index, free in enumerate(bins):
            if _fits(free, pod):
                bins[index] = _take(free, pod)
                placed.append(pod)
                break
        else:
            if len(bins) < room:
                bins.append(_take(template, pod))
                placed.append(pod)
    if not placed:
        return None
    return ScaleUpOption(group, len(bins), tuple(placed))
    # END SOLUTION


def choose(options: Sequence[ScaleUpOption], expander: Expander) -> ScaleUpOption | None:
    """The expander's pick; ties fall back to least waste, then the group name."""
    # BEGIN SOLUTION
    if not options:
        return None

    def waste_key(o: ScaleUpOption) -> tuple[float, str]:
        return (o.waste(), o.group.name)

    if expander is Expander.LEAST_WASTE:
        return min(options, key=waste_key)
    if expander is Expander.PRICE:
        return min(options, key=lambda o: (o.price / len(o.pods), *waste_key(o)))
    if expander is Expander.PRIORITY:
        top = max(o.group.priority for o in options)
        return min((o for o in options if o.group.priority == top), key=waste_key)
    return min(options, key=lambda o: (-len(o.pods), *waste_key(o)))
    # END SOLUTION


def scale_up_plan(pending: Sequence[PodRequest], groups: Sequence[NodeGroup],
                  sizes: Mapping[str, int], expander: Expander,
                  unavailable: Iterable[str] = ()) -> list[ScaleUpOption]:
    """Repeatedly pick an option until every pending pod is covered or nothing helps."""
    blocked = set(unavailable)
    sizes = dict(sizes)
    left = list(pending)
    plan: list[ScaleUpOption] = []
    while left:
        options = [o for g in groups if g.name not in blocked
                   if (o := estimate(g, left, g.max_size - sizes.get(g.name, 0)))]
        best = choose(options, expander)
        if best is None:
            break
        plan.append(best)
        sizes[best.group.name] = sizes.get(best.group.name, 0) + best.nodes
        taken = {id(p) for p in best.pods}
        left = [p for p in left if id(p) not in taken]
    return plan


def _pdb_allows(pods: Sequence[PodRequest], budgets: Sequence[DisruptionBudget],
                healthy: Mapping[str, int]) -> bool:
    for budget in budgets:
        evicted = sum(1 for p in pods if p.app == budget.app)
        if evicted and evicted > budget.allowed(healthy.get(budget.app, 0)):
            return False
    return True


def scale_down(nodes: Sequence[Node], now: float, budgets: Sequence[DisruptionBudget] = (),
               threshold: float = 0.5, unneeded_time: float = 600.0,
               max_empty_bulk: int = 10) -> list[Node]:
    """Nodes to remove now. Updates each node's `unneeded_since` (call once per loop)."""
    # BEGIN SOLUTION
    ready = [n for n in nodes if n.ready(now)]
    for node in ready:
        if node.utilization() < threshold:
            if node.unneeded_since is None:
                node.unneeded_since = now
        else:
            node.unneeded_since = None
    sizes: dict[str, int] = {}
    for node in nodes:
        sizes[node.group.name] = sizes.get(node.group.name, 0) + 1
    healthy: dict[str, int] = {}
    for node in ready:
        for pod in node.pods:
            healthy[pod.app] = healthy.get(pod.app, 0) + 1
    candidates = sorted((n for n in ready if n.unneeded_since is not None
                         and now - n.unneeded_since >= unneeded_time),
                        key=lambda n: (n.utilization(), n.name))
    removed: list[Node] = []
    non_empty_done = False
    for node in candidates:
        if sizes[node.group.name] - 1 < node.group.min_size:
            continue
        if not node.pods:
            if sum(1 for r in removed if not r.pods) >= max_empty_bulk:
                continue
        else:
            if non_empty_done or not _pdb_allows(node.pods, budgets, healthy):
                continue
            others = [n for n in ready if n is not node and n not in removed]
            _, unplaced = first_fit_decreasing(node.pods, [n.free() for n in others])
            if unplaced:
                continue
            non_empty_done = True
        removed.append(node)
        sizes[node.group.name] -= 1
    return removed
    # END SOLUTION


@dataclass(frozen=True)
class Consolidation:
    """Delete `node` (its pods fit elsewhere) or replace it by one node of `replacement`."""

    node: Node
    replacement: NodeGroup | None
    saving: float  # per hour


def consolidate(nodes: Sequence[Node], groups: Sequence[NodeGroup], now: float,
                consolidate_after: float = 60.0,
                budgets: Sequence[DisruptionBudget] = ()) -> Consolidation | None:
    """One Karpenter consolidation decision: the single action that saves the most."""
    # BEGIN SOLUTION
    ready = [n for n in nodes if n.ready(now)]
    healthy: dict[str, int] = {}
    for node in ready:
        for pod in node.pods:
            healthy[pod.app] = healthy.get(pod.app, 0) + 1
    best: Consolidation | None = None
    for node in ready:
        if now - node.created_at < consolidate_after:
            continue
        if not _pdb_allows(node.pods, budgets, healthy):
            continue
        others = [n.free() for n in ready if n is not node]
        _, unplaced = first_fit_decreasing(node.pods, others)
        if not unplaced:
            action = Consolidation(node, None, node.group.price)
        else:
            cheaper = [g for g in groups if g.price < node.group.price
                       and (o := estimate(g, node.pods, 1)) and len(o.pods) == len(node.pods)]
            if not cheaper:
                continue
            group = min(cheaper, key=lambda g: (g.price, g.name))
            action = Consolidation(node, group, node.group.price - group.price)
        if best is None or action.saving > best.saving:
            best = action
    return best
    # END SOLUTION


def unschedulable(pods: Sequence[PodRequest], groups: Sequence[NodeGroup]) -> list[PodRequest]:
    """Pods that fit no node group at all (they would stay Pending forever)."""
    return [p for p in pods
            if not any(_fits((g.cpu, g.memory, g.gpu), p) for g in groups)]
