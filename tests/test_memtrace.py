"""gate-app's debug heap tracing (firmware_app/appliance/memtrace.py) and the soak's diff of two of
its snapshots (simulator/memtrace_diff.py): what grew between them is named by site and by type."""
from __future__ import annotations

import json
import time
import tracemalloc

from firmware_app.appliance.memtrace import ENV, MemTrace
from simulator.memtrace_diff import heap_diff_lines, type_growth


class _Hoarded:
    """A type only this test makes, so that its growth is unmistakable."""

    def __init__(self, n: int):
        self.payload = bytearray(256)
        self.n = n


def _dumped(trace: MemTrace, number: int):
    trace.request()
    deadline = time.monotonic() + 30
    base = trace.directory / f"heap-{number}"
    while not base.with_suffix(".done").exists():
        assert time.monotonic() < deadline, "no dump"
        time.sleep(0.02)
    return base


def test_off_unless_the_environment_names_a_folder(tmp_path):
    assert MemTrace.from_environ({}) is None and MemTrace.from_environ({ENV: " "}) is None
    assert MemTrace.from_environ({ENV: str(tmp_path)}).directory == tmp_path


def test_two_dumps_name_what_grew_between_them(tmp_path):
    trace = MemTrace(tmp_path, frames=4).start(install_signal=False)
    try:
        first = _dumped(trace, 1)
        hoard = [_Hoarded(n) for n in range(3000)]
        last = _dumped(trace, 2)
    finally:
        trace.stop()
    figures = json.loads(last.with_suffix(".json").read_text())
    assert figures["types"][f"{__name__}._Hoarded"] >= 3000 and figures["traced_bytes"] > 0
    lines = heap_diff_lines(first, last, "test")
    assert lines[0].startswith("gate-app native memory test: SQLite's own memory"), lines
    assert figures["malloc_in_use_bytes"] > 0 and "sqlite_bytes" in figures
    assert any("test_memtrace.py" in line for line in lines[2:9]), lines      # the hoarding line is a top site
    assert any(line.endswith(f"{__name__}._Hoarded") and "+3000" in line for line in lines), lines
    assert len(hoard) == 3000


def test_untraced_it_still_counts_types_and_native_memory(tmp_path):
    trace = MemTrace.from_environ({ENV: str(tmp_path), "GATE_APP_MEMTRACE_FRAMES": "0"}).start(install_signal=False)
    try:
        base = _dumped(trace, 1)
        assert not tracemalloc.is_tracing() and not base.with_suffix(".pickle").exists()
    finally:
        trace.stop()
    figures = json.loads(base.with_suffix(".json").read_text())
    assert figures["types"] and figures["malloc_in_use_bytes"] > 0
    assert "Python heap" not in "\n".join(heap_diff_lines(base, base, "same"))


def test_type_growth_lists_only_types_that_grew_largest_first():
    assert type_growth({"a": 5, "b": 9}, {"a": 7, "b": 9, "c": 40}) == [("c", 40, 40), ("a", 2, 7)]
