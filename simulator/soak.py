"""The long memory run ("no RSS growth over 5,000 travellers"): generated travellers through the
real assembled appliance one after another, memory sampled every few travellers, every crossing
checked at the BMIS at the end.

Accelerated time: the timing model is OFF (devices answer as fast as they go, doors swing in
50 ms, travellers walk at once): memory growth depends on how many transactions ran, not on how
long each took, so the run lasts what the machine's CPU needs and no more. Nothing of a traveller
is kept by the run itself (counts and the first differences only), so the simulator's own
bookkeeping does not grow with N.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.memory_probe import HeapProbe, ProcessGone, ProcessProbe

MAX_DIFFERENCES = 20
WARMUP = 1000                  # the "no growth": the slope after the first 1,000 (caches, models warm)
EDGE = 1000                    # first-1000 vs last-1000 travellers
SERIES_EVERY = 500             # the RSS series printed and reported: one figure per 500 travellers
GROWTH_LIMIT_MB_PER_1000 = 1.0  # "no growth": under 1 MB per 1,000 travellers (1 kB per traveller)


@dataclass
class SoakSample:
    done: int
    t: float            # real seconds since the first traveller
    rss_mb: float
    cpu_s: float
    heap_mb: float | None = None        # tracemalloc: the whole Python heap
    appliance_heap_mb: float | None = None  # tracemalloc: allocated with appliance code on the stack
    others_mb: dict[str, float] = field(default_factory=dict)   # other processes' RSS, by name


@dataclass
class SoakTally:
    asked: int
    done: int = 0
    as_expected: int = 0
    differences: list[str] = field(default_factory=list)
    samples: list[SoakSample] = field(default_factory=list)
    delivery: object = None
    error: str = ""

    def count(self, number: int, outcome, why=lambda outcome: "") -> None:
        """`why`: what the record says about an unexpected outcome (its exceptions), asked only then."""
        self.done += 1
        if outcome.as_expected:
            self.as_expected += 1
        elif len(self.differences) < MAX_DIFFERENCES:
            note = why(outcome)
            self.differences.append(f"{number} {outcome.label}: {'; '.join(outcome.differences())}"
                                    + (f" ({note})" if note else ""))


class SoakSampler:
    """Memory at a traveller count; the probe's pid is the process to watch (in-process: this one)."""

    def __init__(self, probe: ProcessProbe, heap: HeapProbe | None = None, heap_every: int = 0,
                 others: dict[str, Callable[[], float]] | None = None):
        """`others`: more processes' RSS in MB by name (gate-safety, gate-app's decode worker)."""
        self.probe, self.heap, self.heap_every = probe, heap, heap_every
        self.others = others or {}
        self._start = time.monotonic()

    def sample(self, done: int) -> SoakSample:
        sample = SoakSample(done, time.monotonic() - self._start, self.probe.rss_mb(), self.probe.cpu_s())
        for name, rss_mb in self.others.items():
            try:
                sample.others_mb[name] = rss_mb()
            except ProcessGone:
                continue
        if self.heap is not None:
            sample.heap_mb = self.heap.traced_mb()
            if self.heap_every and done % self.heap_every == 0:
                sample.appliance_heap_mb = self.heap.appliance_mb()
        return sample


def slope_per_1000(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (travellers done, MB), in MB per 1,000 travellers (0 for < 2 points)."""
    if len(points) < 2 or len({x for x, _ in points}) < 2:
        return 0.0
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return 1000.0 * num / den


def warmup_of(total: int, asked: int | None = None) -> int:
    """The warm-up: `asked` (--warmup) or WARMUP; a short run scales it to 20% and says so."""
    return min(asked if asked is not None else WARMUP, total // 5)


def growth(samples: list[SoakSample], total: int, value=lambda s: s.rss_mb, warmup: int | None = None) -> dict:
    """The growth figures: the slope after the warm-up (the first WARMUP travellers), and the median
    of the first EDGE travellers' samples against the last EDGE's. A shorter run scales both windows
    (warm-up and edges: 20% each) and says so."""
    points = [(s.done, value(s)) for s in samples if value(s) is not None]
    warm = warmup_of(total, warmup)
    edge = min(EDGE, max(1, total // 5))
    first = [y for x, y in points if 0 < x <= edge]
    last = [y for x, y in points if x > total - edge]
    slope = slope_per_1000([(x, y) for x, y in points if x >= warm])
    after_warmup = next((y for x, y in points if x >= warm), None)
    first_mb = statistics.median(first) if first else None       # None: no sample in that window
    last_mb = statistics.median(last) if last else None
    change = last_mb - first_mb if first_mb is not None and last_mb is not None else None
    return {"warmup_travellers": warm, "slope_window_travellers": total - warm, "slope_mb_per_1000": slope,
            "start_mb": points[0][1] if points else None, "after_warmup_mb": after_warmup,
            "edge_travellers": edge, "first_median_mb": first_mb, "last_median_mb": last_mb,
            "last_minus_first_mb": change, "limit_mb_per_1000": GROWTH_LIMIT_MB_PER_1000,
            "flat": slope < GROWTH_LIMIT_MB_PER_1000}


def series(samples: list[SoakSample], every: int = SERIES_EVERY, value=lambda s: s.rss_mb) -> list[tuple[int, float]]:
    """(travellers done, MB) at the start and each `every` travellers (and the last sample); samples
    without a value (a process not sampled then) are left out."""
    valued = [(s.done, value(s)) for s in samples if value(s) is not None]
    picked = [(done, mb) for done, mb in valued if done % every == 0]
    if valued and (not picked or picked[-1][0] != valued[-1][0]):
        picked.append(valued[-1])
    return picked


def soak_report(tally: SoakTally, elapsed_s: float, pid: int | str, heap: bool, warmup: int | None = None,
                scope: str | None = None) -> dict:
    """`scope`: what the probed process holds (default: said from the pid)."""
    samples = tally.samples
    delivery = tally.delivery
    crossings = getattr(delivery, "crossings_per_transaction", {}) or {}
    exactly_once = bool(delivery is not None and delivery.exactly_once and len(crossings) == tally.done
                        and all(n == 1 for n in crossings.values()))
    report = {
        "travellers": {"asked": tally.asked, "done": tally.done, "as_expected": tally.as_expected,
                       "differences": tally.differences},
        "error": tally.error,
        "time": {"real_s": elapsed_s, "per_traveller_s": elapsed_s / tally.done if tally.done else 0.0,
                 "timing_model": "off (devices as fast as they go: the run is as accelerated as the CPU allows)"},
        "cpu_per_traveller_s": _cpu_per_traveller(samples),
        "rss": {"pid": pid, "scope": scope or _scope(pid), **growth(samples, tally.done, warmup=warmup),
                "start_mb": samples[0].rss_mb if samples else 0.0,
                "peak_mb": max((s.rss_mb for s in samples), default=0.0),
                "end_mb": samples[-1].rss_mb if samples else 0.0, "series": series(samples)},
        "bmis": {"crossings": sum(crossings.values()), "transactions": len(crossings),
                 "exactly_once": exactly_once},
        "samples": [[s.done, round(s.t, 1), round(s.rss_mb, 2), s.heap_mb and round(s.heap_mb, 2),
                     s.appliance_heap_mb and round(s.appliance_heap_mb, 2)] for s in samples],
    }
    names = sorted({name for s in samples for name in s.others_mb})
    report["other_rss"] = {name: {**growth(samples, tally.done, lambda s, n=name: s.others_mb.get(n), warmup),
                                  "series": series(samples, value=lambda s, n=name: s.others_mb.get(n))}
                           for name in names}
    if heap:
        report["python_heap"] = {"whole_process": growth(samples, tally.done, lambda s: s.heap_mb, warmup),
                                 "appliance_code": growth(samples, tally.done, lambda s: s.appliance_heap_mb,
                                                          warmup)}
    return report


def _cpu_per_traveller(samples: list[SoakSample]) -> float:
    if len(samples) < 2 or samples[-1].done == samples[0].done:
        return 0.0
    return (samples[-1].cpu_s - samples[0].cpu_s) / (samples[-1].done - samples[0].done)


def _scope(pid: int | str) -> str:
    if pid == "self":
        return ("this process: the appliance (in-process, as gate-app builds it) AND the simulated devices, "
                "the virtual chip and the reference BMIS consumer")
    return f"process {pid} alone"


def soak_ok(report: dict) -> bool:
    t = report["travellers"]
    return (not report["error"] and t["done"] == t["asked"] == t["as_expected"]
            and report["bmis"]["exactly_once"])


def soak_lines(report: dict) -> list[str]:
    t, rss, tm = report["travellers"], report["rss"], report["time"]
    lines = [f"soak: {t['done']} of {t['asked']} travellers done, {t['as_expected']} as expected; "
             f"{tm['real_s']:.0f} s real ({tm['per_traveller_s']:.2f} s per traveller), "
             f"timing model {tm['timing_model']}",
             f"CPU per traveller (process, all threads): {report['cpu_per_traveller_s']:.2f} s",
             f"RSS ({rss['scope']}): start {rss['start_mb']:.1f} MB, after the warm-up "
             f"({rss['warmup_travellers']} travellers) {_mb(rss['after_warmup_mb'])}, peak {rss['peak_mb']:.1f} MB, "
             f"end {rss['end_mb']:.1f} MB",
             "RSS per 500 travellers: " + ", ".join(f"{done}: {mb:.1f}" for done, mb in rss["series"]),
             _growth_line("RSS", rss)]
    for name, figures in report.get("other_rss", {}).items():
        lines.append(_growth_line(f"RSS of {name}: start {_mb(figures['start_mb'])}, after the warm-up "
                                  f"{_mb(figures['after_warmup_mb'])};", figures))
        lines.append(f"  {name} per 500 travellers: "
                     + ", ".join(f"{done}: {mb:.1f}" for done, mb in figures.get("series", [])))
    for name, figures in report.get("python_heap", {}).items():
        lines.append(_growth_line(f"Python heap ({name.replace('_', ' ')}, tracemalloc)", figures))
    lines.append(f"BMIS: {report['bmis']['crossings']} crossings for {report['bmis']['transactions']} transactions, "
                 f"exactly once: {'yes' if report['bmis']['exactly_once'] else 'NO'}")
    lines += [f"  differs: {d}" for d in t["differences"]]
    lines += [f"  stopped: {report['error']}"] if report["error"] else []
    return lines


def _growth_line(what: str, g: dict) -> str:
    verdict = "flat" if g["flat"] else "GROWING"
    edges = "no sample in the first or last window"
    if g["last_minus_first_mb"] is not None:
        edges = (f"median first {g['edge_travellers']} {g['first_median_mb']:.1f} MB, last {g['edge_travellers']} "
                 f"{g['last_median_mb']:.1f} MB ({g['last_minus_first_mb']:+.1f} MB)")
    return (f"{what} growth: slope {g['slope_mb_per_1000']:+.2f} MB per 1,000 travellers after the warm-up "
            f"(the last {g['slope_window_travellers']}); {edges}: {verdict} "
            f"(limit {g['limit_mb_per_1000']:.1f} MB per 1,000)")


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} MB"
