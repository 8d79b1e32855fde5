"""Replay a job trace with Kueue's admission rules: nominal quota per flavor, cohort
borrowing (borrowingLimit), lending (lendingLimit), BestEffortFIFO by priority, preemption
within the ClusterQueue (LowerPriority) and reclaim within the cohort (Any).

Time is in whole minutes. An evicted job goes back to its queue and restarts from scratch
(Kueue requeues the Workload; the job's pods are deleted)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet.errors import TraceError
from gpufleet.fleet import Fleet

INF = 10**12


@dataclass
class Job:
    id: str
    team: str
    submit: int
    duration: int
    gpus: int
    flavor: str
    priority: int
    started: int | None = None
    waited: int = 0
    queued_since: int = 0
    preempted: int = 0
    finished: int | None = None
    admissions: list[int] = field(default_factory=list)


@dataclass
class TeamStats:
    team: str
    jobs: int
    mean_wait: float
    max_wait: int
    gpu_minutes: int
    borrowed_gpu_minutes: int
    preemptions: int
    utilisation: float  # gpu_minutes / (nominal x makespan), over all flavors


@dataclass
class Result:
    jobs: dict[str, Job]
    teams: dict[str, TeamStats]
    makespan: int
    fleet_utilisation: float


def load_trace(path: Path, fleet: Fleet) -> list[Job]:
    """CSV `id,team,submit_min,duration_min,gpus,flavor[,priority]`; errors name the line."""
    teams = {t.name: t for t in fleet.teams}
    pools = {p.name for p in fleet.pools}
    jobs = []
    try:
        with Path(path).open(newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    team = teams[row["team"]]
                    if row["flavor"] not in pools:
                        raise KeyError(row["flavor"])
                    job = Job(row["id"], team.name, int(row["submit_min"]),
                              int(row["duration_min"]), int(row["gpus"]), row["flavor"],
                              int(row.get("priority") or team.priority))
                except (KeyError, ValueError, TypeError) as exc:
                    raise TraceError(f"{path}:{line}: bad row ({exc})") from exc
                if job.gpus <= 0 or job.duration <= 0 or job.submit < 0:
                    raise TraceError(f"{path}:{line}: gpus and duration must be > 0")
                jobs.append(job)
    except OSError as exc:
        raise TraceError(f"{path}: cannot read ({exc.strerror})") from exc
    return jobs


class Quotas:
    """Per-flavor quota book-keeping for the cohort rules."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.usage: dict[tuple[str, str], int] = {}

    def nominal(self, team: str, flavor: str) -> int:
        return self.fleet.team(team).quota.get(flavor, 0)

    def lendable(self, team: str, flavor: str) -> int:
        t = self.fleet.team(team)
        nominal = self.nominal(team, flavor)
        return nominal if t.lending_limit is None else min(t.lending_limit, nominal)

    def used(self, team: str, flavor: str) -> int:
        return self.usage.get((team, flavor), 0)

    def members(self, team: str) -> list[str]:
        cohort = self.fleet.team(team).cohort
        if cohort is None:
            return [team]
        return [t.name for t in self.fleet.teams if t.cohort == cohort]

    def fits(self, team: str, flavor: str, gpus: int) -> bool:
        # BEGIN SOLUTION
        t = self.fleet.team(team)
        nominal = self.nominal(team, flavor)
        after = self.used(team, flavor) + gpus
        if t.cohort is None:
            return after <= nominal
        limit = INF if t.borrowing_limit is None else nominal + t.borrowing_limit
        if after > limit:
            return False
        pool = sum(self.lendable(m, flavor) for m in self.members(team))
        in_pool = 0
        for m in self.members(team):
            guaranteed = self.nominal(m, flavor) - self.lendable(m, flavor)
            use = after if m == team else self.used(m, flavor)
            in_pool += max(0, use - guaranteed)
        return in_pool <= pool
        # END SOLUTION

    def borrowing(self, team: str, flavor: str) -> int:
        return max(0, self.used(team, flavor) - self.nominal(team, flavor))

    def add(self, job: Job, sign: int) -> None:
        key = (job.team, job.flavor)
        self.usage[key] = self.used(*key) + sign * job.gpus


def simulate(fleet: Fleet, jobs: list[Job]) -> Result:
    quotas = Quotas(fleet)
    pending: list[Job] = []
    running: list[Job] = []
    arrivals = sorted(jobs, key=lambda j: (j.submit, j.id))
    by_id = {j.id: j for j in jobs}
    gpu_minutes: dict[str, int] = {t.name: 0 for t in fleet.teams}
    borrowed: dict[str, int] = {t.name: 0 for t in fleet.teams}
    t = 0

    def evict(victim: Job, now: int) -> None:
        running.remove(victim)
        quotas.add(victim, -1)
        victim.preempted += 1
        victim.started = None
        victim.queued_since = now
        pending.append(victim)

    empty = Quotas(fleet)
    for job in jobs:
        if not empty.fits(job.team, job.flavor, job.gpus):
            raise TraceError(f"job {job.id} asks {job.gpus} GPUs of {job.flavor}: more than "
                             f"queue {job.team} can ever admit")

    # BEGIN SOLUTION
    def try_preempt(job: Job, now: int) -> bool:
        """Find victims: same team's lower priority (withinClusterQueue: LowerPriority),
        else other teams' borrowing jobs when `job` stays within nominal (reclaim: Any)."""
        same = sorted((r for r in running if r.team == job.team and r.flavor == job.flavor
                       and r.priority < job.priority),
                      key=lambda r: (r.priority, -(r.started or 0)))
        within_nominal = quotas.used(job.team, job.flavor) + job.gpus <= \
            quotas.nominal(job.team, job.flavor)
        others = []
        if within_nominal:
            others = sorted((r for r in running if r.team != job.team and r.flavor == job.flavor
                             and r.team in quotas.members(job.team)
                             and quotas.borrowing(r.team, r.flavor) > 0),
                            key=lambda r: (r.priority, -(r.started or 0)))
        for candidates in (same, others):
            chosen: list[Job] = []
            for victim in candidates:
                if victim.team != job.team and quotas.borrowing(victim.team, victim.flavor) <= 0:
                    continue
                quotas.add(victim, -1)
                chosen.append(victim)
                if quotas.fits(job.team, job.flavor, job.gpus):
                    for v in chosen:
                        quotas.add(v, +1)
                        evict(v, now)
                    return True
            for v in chosen:
                quotas.add(v, +1)
        return False

    while arrivals or pending or running:
        for job in [r for r in running if r.started is not None
                    and r.started + r.duration <= t]:
            running.remove(job)
            quotas.add(job, -1)
            job.finished = t
        while arrivals and arrivals[0].submit <= t:
            job = arrivals.pop(0)
            job.queued_since = job.submit
            pending.append(job)
        pending.sort(key=lambda j: (-j.priority, j.submit, j.id))
        for job in list(pending):
            if quotas.fits(job.team, job.flavor, job.gpus) or try_preempt(job, t):
                pending.remove(job)
                quotas.add(job, +1)
                job.waited += t - job.queued_since
                job.started = t
                job.admissions.append(t)
                running.append(job)
        for job in running:
            gpu_minutes[job.team] += job.gpus
        for name in gpu_minutes:
            borrowed[name] += sum(quotas.borrowing(name, p.name) for p in fleet.pools)
        if not (arrivals or pending or running):
            break
        t += 1
    makespan = max((j.finished or 0 for j in jobs), default=0)
    # END SOLUTION
    stats = {}
    capacity = sum(p.capacity for p in fleet.pools)
    for team in fleet.teams:
        mine = [j for j in jobs if j.team == team.name]
        nominal = sum(team.quota.values())
        stats[team.name] = TeamStats(
            team.name, len(mine),
            sum(j.waited for j in mine) / len(mine) if mine else 0.0,
            max((j.waited for j in mine), default=0), gpu_minutes[team.name],
            borrowed[team.name], sum(j.preempted for j in mine),
            gpu_minutes[team.name] / (nominal * makespan) if nominal and makespan else 0.0)
    total = sum(gpu_minutes.values())
    return Result(by_id, stats, makespan,
                  total / (capacity * makespan) if makespan and capacity else 0.0)
