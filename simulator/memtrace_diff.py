"""The soak's side of gate-app's heap tracing (firmware_app/appliance/memtrace.py): ask the gate-app
process for a snapshot (SIGUSR2, by our own process handle), wait for it, and print what grew
between two of them: the top allocation sites by bytes still held, and the object types by count.
"""
from __future__ import annotations

import json
import signal
import subprocess
import time
import tracemalloc
from pathlib import Path

DUMP_S = 120.0          # a full collection and a snapshot of a large traced heap take a while
TOP_SITES = 12
TOP_TYPES = 12


class MemtraceUnavailable(RuntimeError):
    """gate-app wrote no snapshot in time (is GATE_APP_MEMTRACE set for it?)."""


class MemtraceClient:
    def __init__(self, process: subprocess.Popen, directory: Path):
        self.process, self.directory = process, Path(directory)
        self.taken: list[tuple[int, Path]] = []     # (travellers done, the dump's base path)
        self.problem = ""

    def snapshot(self, done: int) -> Path | None:
        """Asks for one; a failure is kept for the report (the soak's RSS figures still count)."""
        try:
            return self._snapshot(done)
        except MemtraceUnavailable as exc:
            self.problem = str(exc)
            return None

    def _snapshot(self, done: int) -> Path:
        number = len(self.taken) + 1
        base = self.directory / f"heap-{number}"
        self.process.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + DUMP_S
        while not base.with_suffix(".done").exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise MemtraceUnavailable(f"gate-app wrote no heap snapshot {number} within {DUMP_S:.0f} s")
            time.sleep(0.1)
        self.taken.append((done, base))
        return base

    def diff_lines(self) -> list[str]:
        if len(self.taken) < 2:
            return [f"gate-app heap: fewer than two snapshots, no difference to show {self.problem}".strip()]
        (first_done, first), (last_done, last) = self.taken[0], self.taken[-1]
        return self.native_series() + heap_diff_lines(first, last, f"after {first_done} and {last_done} travellers")

    def native_series(self) -> list[str]:
        """SQLite's and malloc's figures at each snapshot (MB): bounded caches level off, a leak does not."""
        lines = []
        for key, label in NATIVE:
            points = [(done, json.loads(base.with_suffix(".json").read_text()).get(key)) for done, base in self.taken]
            if all(value is not None for _, value in points):
                lines.append(f"gate-app {label} (MB): " + ", ".join(f"{d}: {v / 2**20:.1f}" for d, v in points))
        return lines


NATIVE = (("sqlite_bytes", "SQLite's own memory"), ("malloc_in_use_bytes", "malloc in use"),
          ("malloc_free_bytes", "malloc held free"))


def heap_diff_lines(first: Path, last: Path, between: str) -> list[str]:
    old_figures = json.loads(first.with_suffix(".json").read_text())
    new_figures = json.loads(last.with_suffix(".json").read_text())
    lines = [f"gate-app native memory {between}: " + ", ".join(
        f"{label} {old_figures[key] / 2**20:.1f} -> {new_figures[key] / 2**20:.1f} MB"
        for key, label in NATIVE if key in old_figures and key in new_figures)]
    if first.with_suffix(".pickle").exists() and last.with_suffix(".pickle").exists():
        lines += _site_lines(first, last, between, new_figures["traced_bytes"] - old_figures["traced_bytes"])
    lines.append("gate-app live objects by type, growth:")
    for name, change, count in type_growth(old_figures["types"], new_figures["types"])[:TOP_TYPES]:
        lines.append(f"  {change:+8d} (now {count})  {name}")
    return lines


def _site_lines(first: Path, last: Path, between: str, traced_change: int) -> list[str]:
    old = tracemalloc.Snapshot.load(str(first.with_suffix(".pickle")))
    new = tracemalloc.Snapshot.load(str(last.with_suffix(".pickle")))
    lines = [f"gate-app Python heap (tracemalloc) {between}: {traced_change / 2**20:+.2f} MB; "
             "top allocation sites by growth:"]
    for stat in site_growth(old, new)[:TOP_SITES]:
        frame = stat.traceback[0]
        lines.append(f"  {stat.size_diff / 1024:+9.1f} kB {stat.count_diff:+7d} blocks  "
                     f"{frame.filename}:{frame.lineno}")
    return lines


def site_growth(old: tracemalloc.Snapshot, new: tracemalloc.Snapshot) -> list[tracemalloc.StatisticDiff]:
    """Allocation sites (file:line) by bytes gained, the largest first; shrinking sites left out."""
    return [stat for stat in new.compare_to(old, "lineno") if stat.size_diff > 0]


def type_growth(old: dict[str, int], new: dict[str, int]) -> list[tuple[str, int, int]]:
    """(type, count change, count now), the largest gain first; only types that grew."""
    changes = [(name, count - old.get(name, 0), count) for name, count in new.items()]
    return sorted((c for c in changes if c[1] > 0), key=lambda c: -c[1])
