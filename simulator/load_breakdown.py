"""Where a load run's lane cycle goes: each traveller's cycle (traveller in to the next traveller in)
cut into its parts, what their waiting at the kiosk was spent on, and how much of the previous
traveller's tail their own checks overlapped.

A traveller's cycle, on the lane clock (simulator/timing.py):

    approach  -> waiting for the lane  -> placing the document -> machine time (document on the
    reader to the decision) -> the entry door opening -> stepping in   (= the next traveller's "in")

The parts add up to the cycle exactly; nothing is counted out (the bench's hand-over to the next
traveller is in the waiting). The waiting covers the window from arriving at the kiosk to placing the
document, and that window is cut in two that tile it: the lane still busy with the previous
traveller at the front (stepping in, the entry shutting behind them, or a whole passage when no
overlap is possible), and the bench's hand-over after that (the next passport made, the chip
plugged, BMIS pushes). The previous traveller's tail (entry shutting, exit opening, walking out,
exit shutting) is seen by a GateWatch on the gate's own sensors (real time); each tail part is
reported with how much of it the next traveller's machine time overlapped (read while the previous
traveller was still between the doors: lane/leaving.py).
"""
from __future__ import annotations

import statistics
import threading
import time

from drivers.gate.layout import Door

WATCH_S = 0.005
CYCLE_PARTS = ("approach", "waiting", "place_document", "machine", "entry_door", "step_in")
WAIT_PARTS = ("previous_front", "bench_hand_over")
TAIL_PARTS = ("entry_closing", "exit_opening", "walk_out", "exit_closing")
PART_HELP = {
    "approach": "traveller in: walking up to the kiosk (modelled)",
    "waiting": "at the kiosk until the document can be placed (the bench's hand-over included)",
    "place_document": "finding the page, placing the document (modelled)",
    "machine": "document on the reader to the decision (reader scan, chip, face, policy)",
    "entry_door": "decision to the entry door sensed open (a PASS waiting for the exit to shut behind the "
                  "previous traveller, relay, door motor)",
    "step_in": "entry open to the traveller inside (modelled walk)",
    "previous_front": "the lane still serving the previous traveller at the front (stepping in, the entry "
                      "shutting behind them; a whole passage when they could not walk out behind the lane)",
    "bench_hand_over": "simulator: the next passport made, its chip plugged, BMIS pushes (counted in the cycle)",
    "entry_closing": "previous traveller inside to the entry sensed shut behind them",
    "exit_opening": "entry shut to the exit sensed open",
    "walk_out": "exit open to the previous traveller out (presence 0)",
    "exit_closing": "previous traveller out to the exit sensed shut",
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


def tail_of(marks: dict[str, float], events: list[tuple[float, str]]) -> dict[str, tuple[float, float]] | None:
    """The passed traveller's tail in real time: [start, end] of each part (None: not a full passage)."""
    offset = marks.get("offset", 0.0)
    entered = marks["entered"] - offset if "entered" in marks else None
    entry_shut = _first(events, "entry_shut", entered)
    exit_open = _first(events, "exit_open", entry_shut)
    left = _first(events, "inside_0", exit_open)
    exit_shut = _first(events, "exit_shut", left)
    points = [p for p in (entered, entry_shut, exit_open, left, exit_shut) if p is not None]
    if len(points) < len(TAIL_PARTS) + 1:
        return None
    return {name: (points[i], points[i + 1]) for i, name in enumerate(TAIL_PARTS)}


def cycle_parts(marks: dict[str, float]) -> dict[str, float] | None:
    """The traveller's own cycle parts on the lane clock; None unless they entered the gate."""
    order = ("set_off", "arrived", "place_start", "placed", "decided", "entry_open", "entered")
    if any(name not in marks for name in order):
        return None
    return {part: marks[order[i + 1]] - marks[order[i]] for i, part in enumerate(CYCLE_PARTS)}


def _overlap(span: tuple[float, float], window: tuple[float, float]) -> float:
    return max(0.0, min(span[1], window[1]) - max(span[0], window[0]))


def lane_breakdown(outcomes, events: list[tuple[float, str]]) -> list[dict]:
    """Per passed traveller after a passed traveller: their cycle parts, what their waiting went on,
    the previous traveller's tail and how much of it their machine time overlapped."""
    rows = []
    previous: dict | None = None
    for outcome in outcomes:
        marks = outcome.marks
        parts = cycle_parts(marks)
        if parts is not None and previous is not None and previous.get("tail") is not None:
            rows.append({"cycle": outcome.cycle_s, "parts": parts, **_spent(previous, marks, parts)})
        tail = tail_of(marks, events) if parts is not None else None
        previous = {"marks": marks, "tail": tail}
    return rows


def _real(marks: dict[str, float], name: str) -> float:
    return marks[name] - marks.get("offset", 0.0)


def _spent(previous: dict, marks: dict[str, float], parts: dict[str, float]) -> dict:
    """Real time: the waiting window [placing began - waiting, placing began] cut into the previous
    traveller's front and the bench's hand-over (they tile it), and the tail's overlap with this
    traveller's machine time [document placed, decided]."""
    place_start = _real(marks, "place_start")
    window = (place_start - parts["waiting"], place_start)
    front_done = _real(previous["marks"], "front_done")
    spans = {"previous_front": (_real(previous["marks"], "entered"), front_done),
             "bench_hand_over": (front_done, place_start)}
    machine = (_real(marks, "placed"), _real(marks, "decided"))
    tail = previous["tail"]
    return {"waited_on": {n: _overlap(span, window) for n, span in spans.items()},
            "tail": {n: max(0.0, b - a) for n, (a, b) in tail.items()},
            "overlapped": {n: _overlap(span, machine) for n, span in tail.items()}}


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
            "waited_on": {p: stats([r["waited_on"][p] for r in rows]) for p in WAIT_PARTS},
            "previous_tail": {p: stats([r["tail"][p] for r in rows]) for p in TAIL_PARTS},
            "overlapped": {p: stats([r["overlapped"][p] for r in rows]) for p in TAIL_PARTS},
            "help": PART_HELP}


def breakdown_lines(summary: dict) -> list[str]:
    if not summary.get("travellers"):
        return ["lane cycle breakdown: no two passages in a row to break down"]
    lines = [f"lane cycle breakdown ({summary['travellers']} passages after a passage; mean adds up, "
             f"hand-over included, s)", "  part                    mean     p50     p95"]
    for name in CYCLE_PARTS:
        s = summary["parts"][name]
        lines.append(f"  {name:<20} {s['mean']:7.2f} {s['p50']:7.2f} {s['p95']:7.2f}   {PART_HELP[name]}")
    c = summary["cycle"]
    lines.append(f"  {'= cycle':<20} {c['mean']:7.2f} {c['p50']:7.2f} {c['p95']:7.2f}")
    lines.append("  the waiting went on (mean, adds up to the waiting):")
    for name in WAIT_PARTS:
        lines.append(f"    {name:<22} {summary['waited_on'][name]['mean']:7.2f} s   {PART_HELP[name]}")
    lines.append("  the previous traveller's tail:  took (mean)  overlapped by this one's machine time (mean)")
    for name in TAIL_PARTS:
        lines.append(f"    {name:<22} {summary['previous_tail'][name]['mean']:7.2f} s     "
                     f"{summary['overlapped'][name]['mean']:7.2f} s   {PART_HELP[name]}")
    return lines
