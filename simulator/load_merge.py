"""One load report from the groups of a many-lane `gatesim load` (simulator/load_groups.py).

Each group process writes its raw results (every traveller's outcome, timings and marks, its lanes'
CPU shares, gate events and BMIS delivery, its own memory/CPU samples); the parent rebuilds them as
lane runs and summarises them as one run, so every percentile is taken over all travellers' values
(never averaged from the groups' percentiles). Memory: each group process's series, and their sum
on a common clock (the groups start walking together on the parent's word).
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from simulator.load import GROUP_LANES, LaneRun, Sample

RAW_VERSION = 1
TUPLE_FIELDS = ("reasons", "expected_reasons", "officer", "expected_officer")


class RawGroupError(ValueError):
    """A group's raw results are missing or not of this version."""


def _plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def raw_of(runs: list[LaneRun], samples: list[Sample], elapsed_s: float) -> dict:
    """A group's results as plain JSON-able data."""
    return {"version": RAW_VERSION, "elapsed_s": elapsed_s,
            "samples": [[s.t, s.rss_mb, s.cpu_s, s.done] for s in samples],
            "lanes": [_lane_raw(run) for run in runs]}


def _lane_raw(run: LaneRun) -> dict:
    delivery = None if run.delivery is None else dataclasses.asdict(run.delivery)
    if delivery is not None:
        delivery["stored_before_cuts"] = sorted(delivery["stored_before_cuts"])
    return {"lane": run.lane, "outcomes": [dataclasses.asdict(o) for o in run.outcomes],
            "finished_at": run.finished_at, "cpu_s": run.cpu_s, "delivery": delivery, "error": run.error,
            "gate_events": [list(e) for e in run.gate_events], "reached_hours": run.reached_hours}


def write_raw(path: Path, runs: list[LaneRun], samples: list[Sample], elapsed_s: float) -> None:
    path.write_text(json.dumps(raw_of(runs, samples, elapsed_s), default=_plain))


def read_raw(path: Path) -> dict:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RawGroupError(f"no readable results in {path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("version") != RAW_VERSION:
        raise RawGroupError(f"{path}: not a version {RAW_VERSION} group result")
    return raw


def runs_of(raw: dict) -> list[LaneRun]:
    from simulator.scenario_outcome import TravellerOutcome
    runs = []
    for lane in raw["lanes"]:
        outcomes = [TravellerOutcome(**_tuples(o)) for o in lane["outcomes"]]
        run = LaneRun(lane["lane"], outcomes, list(lane["finished_at"]), list(lane["cpu_s"]),
                      error=lane["error"], gate_events=[(float(t), str(n)) for t, n in lane["gate_events"]],
                      reached_hours=lane["reached_hours"])
        run.delivery = None if lane["delivery"] is None else _delivery(lane["delivery"])
        runs.append(run)
    return runs


def _tuples(values: dict) -> dict:
    return {k: tuple(v) if k in TUPLE_FIELDS and v is not None else v for k, v in values.items()}


def _delivery(values: dict):
    from simulator.scenario_cmd import Delivery
    return Delivery(**{**values, "stored_before_cuts": frozenset(values.get("stored_before_cuts", ()))})


def samples_of(raw: dict) -> list[Sample]:
    return [Sample(*row) for row in raw["samples"]]


def summed(series: list[list[Sample]]) -> list[Sample]:
    """The groups' samples added up at every moment any group sampled, each group as last sampled
    (before its first sample: its first), so the first and last points are the groups' firsts and
    lasts added up."""
    series = [s for s in series if s]
    times = sorted({s.t for group in series for s in group})
    at = [0] * len(series)
    out = []
    for t in times:
        for g, group in enumerate(series):
            while at[g] + 1 < len(group) and group[at[g] + 1].t <= t:
                at[g] += 1
        now = [group[at[g]] for g, group in enumerate(series)]
        out.append(Sample(t, sum(s.rss_mb for s in now), sum(s.cpu_s for s in now), sum(s.done for s in now)))
    return out


class MergedSampler:
    """What summarise() reads of a sampler: the groups' summed samples."""

    def __init__(self, series: list[list[Sample]]):
        self.samples = summed(series)


def merge(raws: list[dict]) -> tuple[list[LaneRun], MergedSampler, float]:
    """The groups' lane runs (in lane order), their summed samples and the longest group's time."""
    runs = sorted((run for raw in raws for run in runs_of(raw)), key=lambda run: run.lane)
    elapsed = max((raw["elapsed_s"] for raw in raws), default=0.0)
    return runs, MergedSampler([samples_of(raw) for raw in raws]), elapsed


def cores() -> int:
    return os.cpu_count() or 1


def grouped(report: dict, raws: list[dict], groups: list[list[int]], lanes: int, cpu_cores: int) -> dict:
    """Add to a summarised report what only a grouped run has: each group process's memory, and
    whether the lanes had a core each."""
    from simulator.load_report import memory_of
    if report["memory"]:            # no group sampled anything: no memory figures at all, as in one process
        report["memory"]["groups"] = [{"group": n, "lanes": lanes_of, **memory_of(samples_of(raw))}
                                      for n, (raw, lanes_of) in enumerate(zip(raws, groups), 1)]
    report["rss_scope"] = (f"the {len(groups)} group processes added up (each the appliances of up to "
                           f"{GROUP_LANES} lanes, their simulated devices and reference BMIS consumers)")
    report["groups"] = {"count": len(groups), "lanes": groups, "cores": cpu_cores,
                        "lanes_share_cores": lanes > cpu_cores, "note": contention_note(lanes, cpu_cores)}
    return report


def contention_note(lanes: int, cpu_cores: int) -> str:
    if lanes <= cpu_cores:
        return ""
    return (f"{lanes} lanes on {cpu_cores} cores: the lanes beyond the cores share CPU, so the machine time "
            f"and step figures are not comparable to the target (a gate has its own computer per lane)")


def group_lines(report: dict) -> list[str]:
    """The summary's lines about the groups (none for a run in one process)."""
    groups = report.get("groups")
    if not groups:
        return []
    lines = [f"groups: {groups['count']} processes, each its own pcscd in its own mount namespace: " +
             ", ".join(f"lanes {g[0]}-{g[-1]}" if len(g) > 1 else f"lane {g[0]}" for g in groups["lanes"])]
    for g in report["memory"].get("groups", []):
        if "start_mb" not in g:
            lines.append(f"  group {g['group']} memory (RSS): not sampled (the group did not run)")
            continue
        lines.append(f"  group {g['group']} memory (RSS): start {g['start_mb']:.0f} MB, peak {g['peak_mb']:.0f} MB, "
                     f"end {g['end_mb']:.0f} MB, growth after the first 10% {g['growth_after_warmup_mb']:+.1f} MB")
    if groups["note"]:
        lines.append(f"WARNING: {groups['note']}")
    return lines
