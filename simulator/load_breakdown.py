"""Where a load run's lane cycle goes: each traveller's cycle (traveller in to the next traveller in)
cut into its parts, and the previous traveller's passage that the waiting part is spent on.

A traveller's cycle, on the lane clock (simulator/timing.py):

    approach  -> waiting for the lane  -> placing the document -> machine time (document on the
    reader to the decision) -> the entry door opening -> stepping in   (= the next traveller's "in")

The parts add up to the cycle exactly. The waiting is spent on the previous traveller's tail, which a
GateWatch sees on the gate's own sensors and the lane state (real time): the entry closing behind
them, the exit opening, their walk out, the lane settling (the exit closing, the record), and the
bench's hand-over (the BMIS receipt it waits for, the next passport being made). Each tail part is
reported with how much of the waiting it overlapped, so a slow part that hides behind the next
traveller's approach does not count against the cycle.
"""
from __future__ import annotations

import statistics
import threading
import time

from drivers.gate.layout import Door

WATCH_S = 0.005
CYCLE_PARTS = ("approach", "waiting", "place_document", "machine", "entry_door", "step_in")
TAIL_PARTS = ("entry_closing", "exit_opening", "walk_out", "lane_settling", "bench_record_wait", "bench_next_passport")
PART_HELP = {
    "approach": "traveller in: walking up to the kiosk (modelled)",
    "waiting": "at the kiosk, the lane not ready for the next document yet",
    "place_document": "finding the page, placing the document (modelled)",
    "machine": "document on the reader to the decision (reader scan, chip, face, policy)",
    "entry_door": "decision to the entry door sensed open (relay, door motor)",
    "step_in": "entry open to the traveller inside (modelled walk)",
    "entry_closing": "previous traveller inside to the entry sensed shut behind them",
    "exit_opening": "entry shut to the exit sensed open",
    "walk_out": "exit open to the previous traveller out (presence 0)",
    "lane_settling": "previous traveller out to the lane ready for a document (idle)",
    "bench_record_wait": "simulator: lane idle to the bench's runner done (BMIS receipt, screen settle); "
                         "counted out of the cycle (a traveller at the kiosk does not wait for it)",
    "bench_next_passport": "simulator: runner done to the next document placing (passport made, chip plugged); "
                           "counted out likewise",
}


class GateWatch:
    """Sensor and lane-state transitions of one bench lane, stamped on the real monotonic clock."""

    def __init__(self, bench, interval_s: float = WATCH_S, monotonic=time.monotonic):
        self.bench, self._interval, self._monotonic = bench, interval_s, monotonic
        self.events: list[tuple[float, str]] = []
        self._last: dict[str, object] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gate-watch", daemon=True)

    def start(self) -> GateWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.look()

    def look(self) -> None:
        gate, now = self.bench.gate, self._monotonic()
        seen = {"entry": gate.is_open(Door.ENTRY), "inside": gate.inside, "lane": self.bench.appliance.lane_state()}
        if Door.EXIT in gate.layout.doors:
            seen["exit"] = gate.is_open(Door.EXIT)
        for name, value in seen.items():
            if self._last.get(name, object()) != value:
                self._last[name] = value
                self.events.append((now, _event_name(name, value)))


def _event_name(name: str, value: object) -> str:
    if isinstance(value, bool):
        return f"{name}_{'open' if value else 'shut'}"
    return f"inside_{value}" if name == "inside" else f"lane_{value}"


def _first(events: list[tuple[float, str]], name: str, after: float | None) -> float | None:
    if after is None:
        return None
    return next((t for t, n in events if n == name and t >= after), None)


def tail_of(marks: dict[str, float], events: list[tuple[float, str]]) -> dict[str, float] | None:
    """The passed traveller's tail in real time: [start, end] of each part (None: not a full passage)."""
    offset = marks.get("offset", 0.0)
    entered = marks["entered"] - offset if "entered" in marks else None
    entry_shut = _first(events, "entry_shut", entered)
    exit_open = _first(events, "exit_open", entry_shut)
    left = _first(events, "inside_0", exit_open)
    idle = _first(events, "lane_idle", left)
    points = [entered, entry_shut, exit_open, left, idle, marks["done"] - offset if "done" in marks else None]
    if any(p is None for p in points):
        return None
    return {name: (points[i], points[i + 1]) for i, name in enumerate(TAIL_PARTS[:5])}


def cycle_parts(marks: dict[str, float]) -> dict[str, float] | None:
    """The traveller's own cycle parts on the lane clock; None unless they entered the gate."""
    order = ("set_off", "arrived", "place_start", "placed", "decided", "entry_open", "entered")
    if any(name not in marks for name in order):
        return None
    return {part: marks[order[i + 1]] - marks[order[i]] for i, part in enumerate(CYCLE_PARTS)}


def _overlap(span: tuple[float, float], window: tuple[float, float]) -> float:
    return max(0.0, min(span[1], window[1]) - max(span[0], window[0]))


def lane_breakdown(outcomes, events: list[tuple[float, str]]) -> list[dict]:
    """Per passed traveller: their cycle parts, the previous traveller's tail and what of it they waited."""
    rows = []
    previous: dict | None = None
    for outcome in outcomes:
        marks = outcome.marks
        parts = cycle_parts(marks)
        if parts is not None and previous is not None and previous.get("tail") is not None:
            rows.append({"cycle": outcome.cycle_s, "parts": parts, **_waited(previous, marks)})
        tail = tail_of(marks, events) if parts is not None else None
        previous = {"marks": marks, "tail": tail}
    return rows


def _waited(previous: dict, marks: dict[str, float]) -> dict:
    """The previous traveller's tail parts (real seconds, with the bench's hand-over) and how much of
    each fell in this traveller's waiting (both on the previous traveller's lane-clock offset)."""
    offset = previous["marks"]["offset"]
    spans = dict(previous["tail"])
    spans["bench_next_passport"] = (spans["bench_record_wait"][1], marks["place_start"] - offset)
    window = (marks["arrived"] - offset, marks["place_start"] - offset)
    return {"tail": {n: max(0.0, b - a) for n, (a, b) in spans.items()},
            "waited_on": {n: _overlap(span, window) for n, span in spans.items()}}


def summarise_breakdown(rows: list[dict]) -> dict:
    """Mean (the means add up), median and p95 of every part, over the travellers who walked through
    after a traveller who walked through (others' cycles have no passage in them)."""
    from simulator.load_report import percentile

    def stats(values: list[float]) -> dict:
        return {"mean": statistics.fmean(values) if values else 0.0, "p50": percentile(values, 50),
                "p95": percentile(values, 95)}
    return {"travellers": len(rows),
            "cycle": stats([r["cycle"] for r in rows if r["cycle"] is not None]),
            "parts": {p: stats([r["parts"][p] for r in rows]) for p in CYCLE_PARTS},
            "previous_tail": {p: stats([r["tail"][p] for r in rows]) for p in TAIL_PARTS},
            "waited_on": {p: stats([r["waited_on"][p] for r in rows]) for p in TAIL_PARTS},
            "help": PART_HELP}


def breakdown_lines(summary: dict) -> list[str]:
    if not summary.get("travellers"):
        return ["lane cycle breakdown: no two passages in a row to break down"]
    lines = [f"lane cycle breakdown ({summary['travellers']} passages after a passage; mean adds up, s)",
             "  part                    mean     p50     p95"]
    for name in CYCLE_PARTS:
        s = summary["parts"][name]
        lines.append(f"  {name:<20} {s['mean']:7.2f} {s['p50']:7.2f} {s['p95']:7.2f}   {PART_HELP[name]}")
    c = summary["cycle"]
    lines.append(f"  {'= cycle':<20} {c['mean']:7.2f} {c['p50']:7.2f} {c['p95']:7.2f}")
    lines.append("  the waiting went on the previous traveller's tail:   took (mean)  of it waited (mean)")
    for name in TAIL_PARTS:
        lines.append(f"    {name:<22} {summary['previous_tail'][name]['mean']:7.2f} s     "
                     f"{summary['waited_on'][name]['mean']:7.2f} s   {PART_HELP[name]}")
    return lines
