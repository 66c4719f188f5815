"""The figures of a load run, and its reports: JSON, JUnit XML (CI dashboards), a readable summary,
and PNG charts (per-step timing distributions, throughput over time, memory over time)."""
from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from xml.etree import ElementTree as ET

TARGET_MACHINE_MEDIAN_S = 1.5
TARGET_CYCLE_S = 8.0
IN_SERVICE = "in-service e-gates: 8-15 s per traveller"
STEPS = ("document", "chip", "face", "decision", "passage")
REAL_TIME = ("real time: everything from the document on the reader until the traveller has left the gate "
             "(reader scan, chip air time and processing, camera frames, face, decision, door motors, "
             "walking through), and the bench's hand-over to the next traveller; accelerated: only the "
             "approach and the placing of the document while nobody walks out behind the lane, by the "
             "timing model's speedup, counted back at their modelled length in the lane cycle")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100.0 * len(ordered) - 1e-9)))
    return ordered[rank - 1]


def spread(values: list[float]) -> dict:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "max": max(values, default=0.0)}


def step_values(outcomes) -> dict[str, list[float]]:
    """Seconds per step: the appliance's own step timings, plus machine time and lane cycle."""
    steps: dict[str, list[float]] = {name: [] for name in STEPS}
    for outcome in outcomes:
        for name in STEPS:
            if name in outcome.timings_ms:
                steps[name].append(outcome.timings_ms[name] / 1000.0)
    steps["machine"] = [o.machine_s for o in outcomes if o.machine_s is not None]
    steps["cycle"] = [o.cycle_s for o in outcomes if o.cycle_s is not None]
    return {name: values for name, values in steps.items() if values}


def summarise(runs, sampler, elapsed_s: float, timing, asked: int, hours: float | None = None) -> dict:
    outcomes = [o for run in runs for o in run.outcomes]
    steps = step_values(outcomes)
    machine, cycle = steps.get("machine", []), steps.get("cycle", [])
    return {
        "travellers": {"asked": asked, "done": len(outcomes),
                       "as_expected": sum(o.as_expected for o in outcomes)},
        "hours": None if hours is None else {"per_lane": hours, "reached": [run.reached_hours for run in runs],
                                             "modelled_s": [run.modelled_s() for run in runs]},
        "lanes": [_lane(run) for run in runs],
        "steps_s": {name: spread(values) for name, values in steps.items()},
        "throughput": {"per_lane_per_hour_modelled": [_per_hour(run) for run in runs],
                       "all_lanes_per_hour_real": 3600.0 * len(outcomes) / elapsed_s if elapsed_s else 0.0,
                       "real_elapsed_s": elapsed_s},
        "memory": memory_of(sampler.samples),
        "cpu": {"per_traveller_s": spread([c for run in runs for c in run.cpu_s]),
                "total_s": sampler.samples[-1].cpu_s - sampler.samples[0].cpu_s if sampler.samples else 0.0},
        "targets": {"machine_median_s": {"target": TARGET_MACHINE_MEDIAN_S, "measured": percentile(machine, 50),
                                         "met": bool(machine) and percentile(machine, 50) < TARGET_MACHINE_MEDIAN_S},
                    "cycle_median_s": {"target": TARGET_CYCLE_S, "measured": percentile(cycle, 50),
                                       "met": bool(cycle) and percentile(cycle, 50) < TARGET_CYCLE_S},
                    "reference": IN_SERVICE},
        "bmis_exactly_once": all(run.delivery is not None and run.delivery.exactly_once
                                 and sum(run.delivery.crossings_per_transaction.values()) == len(run.outcomes)
                                 for run in runs),
        "timing_model": {name: getattr(timing, name) for name in timing.__dataclass_fields__},
        "real_time": REAL_TIME,
        "cycle_breakdown": _breakdown(runs),
        "rss_scope": "this process: the appliance(s), the simulated devices and the reference BMIS consumer",
    }


def _breakdown(runs) -> dict:
    from simulator.load_breakdown import lane_breakdown, summarise_breakdown
    rows = [row for run in runs for row in lane_breakdown(run.outcomes, getattr(run, "gate_events", []))]
    return summarise_breakdown(rows)


def _lane(run) -> dict:
    delivery = run.delivery
    return {"lane": run.lane, "travellers": len(run.outcomes), "error": run.error,
            "differences": [f"{o.label}: {'; '.join(o.differences())}" for o in run.outcomes if not o.as_expected],
            "bmis": None if delivery is None else {
                "stored": delivery.stored, "crossings": sum(delivery.crossings_per_transaction.values()),
                "duplicates_removed": delivery.duplicates_removed, "seq_gaps": delivery.seq_gaps,
                "left_at_gate": delivery.pending_at_gate, "exactly_once": delivery.exactly_once}}


def _per_hour(run) -> float:
    cycles = [o.cycle_s for o in run.outcomes if o.cycle_s]
    return 3600.0 / statistics.fmean(cycles) if cycles else 0.0


def memory_of(samples) -> dict:
    if not samples:
        return {}
    rss = [s.rss_mb for s in samples]
    settled = [s.rss_mb for s in samples if s.done >= max(1, samples[-1].done // 10)] or rss
    return {"start_mb": rss[0], "peak_mb": max(rss), "end_mb": rss[-1],
            "after_first_10pct_mb": settled[0], "growth_after_warmup_mb": rss[-1] - settled[0],
            "samples": [[round(s.t, 1), round(s.rss_mb, 1), s.done] for s in samples]}


def ok(report: dict) -> bool:
    """Correct: every traveller done as expected and delivered exactly once (targets are reported)."""
    t, hours = report["travellers"], report.get("hours")
    all_walked = t["done"] == t["asked"] or (hours is not None and all(hours["reached"]))
    return all_walked and t["done"] == t["as_expected"] and report["bmis_exactly_once"] and \
        not any(lane["error"] for lane in report["lanes"])


def summary_text(report: dict) -> str:
    t, steps, tp = report["travellers"], report["steps_s"], report["throughput"]
    lines = [f"travellers: {t['done']} of {t['asked']} done, {t['as_expected']} as expected; "
             f"lanes: {len(report['lanes'])}"]
    lines += hours_lines(report.get("hours"))
    lines.append("per step (s)      p50     p95     p99     max")
    for name, s in steps.items():
        lines.append(f"  {name:<12} {s['p50']:7.3f} {s['p95']:7.3f} {s['p99']:7.3f} {s['max']:7.3f}")
    per_lane = ", ".join(f"lane {n}: {v:.0f}" for n, v in enumerate(tp["per_lane_per_hour_modelled"], 1))
    lines.append(f"throughput: {per_lane} travellers/hour (modelled time); real run {tp['real_elapsed_s']:.0f} s")
    mem, cpu = report["memory"], report["cpu"]
    if mem:
        lines.append(f"memory (RSS, {report['rss_scope']}): start {mem['start_mb']:.0f} MB, peak "
                     f"{mem['peak_mb']:.0f} MB, end {mem['end_mb']:.0f} MB, growth after the first 10% "
                     f"{mem['growth_after_warmup_mb']:+.1f} MB")
    lines.append(f"CPU per traveller (process, all threads): p50 {cpu['per_traveller_s']['p50']:.2f} s, "
                 f"p95 {cpu['per_traveller_s']['p95']:.2f} s")
    lines += target_lines(report)
    from simulator.load_merge import group_lines
    lines += group_lines(report)
    if "cycle_breakdown" in report:
        from simulator.load_breakdown import breakdown_lines
        lines += breakdown_lines(report["cycle_breakdown"])
    lines.append(f"BMIS received every crossing exactly once: {'yes' if report['bmis_exactly_once'] else 'NO'}")
    for lane in report["lanes"]:
        lines += [f"  lane {lane['lane']} differs: {d}" for d in lane["differences"]]
        lines += [f"  lane {lane['lane']} stopped: {lane['error']}"] if lane["error"] else []
    lines.append("timing: " + report["real_time"])
    return "\n".join(lines)


def hours_lines(hours: dict | None) -> list[str]:
    if hours is None:
        return []
    lanes = ", ".join(f"lane {n}: {s / 3600.0:.2f} h{'' if reached else ' (ran out of travellers)'}"
                      for n, (s, reached) in enumerate(zip(hours["modelled_s"], hours["reached"]), 1))
    return [f"hours: {hours['per_lane']:g} per lane (modelled time); {lanes}"]


def target_lines(report: dict) -> list[str]:
    out = []
    for name, label in (("machine_median_s", "machine time median"),
                        ("cycle_median_s", "lane cycle median (hand-over included)")):
        target = report["targets"][name]
        out.append(f"target {label}: {target['measured']:.2f} s < {target['target']:.1f} s: "
                   f"{'met' if target['met'] else 'MISSED'}")
    out.append(f"  ({report['targets']['reference']})")
    return out


def write_reports(report: dict, runs, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, indent=2, default=str))
    (out / "load-summary.txt").write_text(summary_text(report) + "\n")
    write_junit(report, runs, out / "load-junit.xml")
    from simulator.load_charts import write_charts
    return [out / "load.json", out / "load-summary.txt", out / "load-junit.xml"] + write_charts(report, runs, out)


def write_junit(report: dict, runs, path: Path) -> None:
    suite = ET.Element("testsuite", name="gatesim-load")
    for run in runs:
        for number, outcome in enumerate(run.outcomes, start=1):
            case = ET.SubElement(suite, "testcase", classname=f"lane{run.lane}", name=f"{number} {outcome.label}",
                                 time=f"{outcome.cycle_s or outcome.seconds:.3f}")
            if not outcome.as_expected:
                ET.SubElement(case, "failure", message="; ".join(outcome.differences()))
        if run.error:
            ET.SubElement(ET.SubElement(suite, "testcase", classname=f"lane{run.lane}", name="run"),
                          "error", message=run.error)
    checks = [("bmis exactly once", report["bmis_exactly_once"], "a crossing was lost or duplicated")]
    checks += [(f"target {name}", value["met"], f"measured {value['measured']:.2f} s, target {value['target']} s")
               for name, value in report["targets"].items() if isinstance(value, dict)]
    for name, passed, why in checks:
        case = ET.SubElement(suite, "testcase", classname="load", name=name)
        if not passed:
            ET.SubElement(case, "failure", message=why)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
