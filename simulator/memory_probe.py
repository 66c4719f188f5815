"""Memory and CPU of a process, read from /proc by pid, and the Python heap of the appliance's own code.

Pluggable by pid: a load or soak run samples its own process today (the appliance runs in-process,
next to the simulated devices); pointed at a separate `gate-app` process's pid, the same probe reads
that process alone.

Two different figures, never to be mixed up:
- RSS (resident set size, /proc/PID/status VmRSS): what the kernel holds in RAM for the whole
  process: the Python heap, native libraries' memory (onnxruntime, OpenSSL, SQLite) and the
  interpreter. In-process it covers the appliance AND the simulator's devices and BMIS consumer.
- the Python heap of the appliance (tracemalloc): only Python-level allocations (numpy included)
  made with the appliance's code (firmware_app/, drivers/) on the call stack; native allocations of
  onnxruntime or SQLite are not seen. Costly (every allocation is traced): opt-in.
"""
from __future__ import annotations

import fnmatch
import os
import tracemalloc
from pathlib import Path

APPLIANCE_CODE = ("*/firmware_app/*", "*/drivers/*")
HEAP_FRAMES = 16        # deep enough that a worker thread's own frames stay in the stored traceback


class ProcessGone(RuntimeError):
    """The probed process does not exist (any more)."""


class ProcessProbe:
    """RSS and CPU time of one process by pid ("self": this process)."""

    def __init__(self, pid: int | str = "self", proc: Path = Path("/proc")):
        self.pid, self._dir = pid, proc / str(pid)

    def rss_mb(self) -> float:
        for line in self._read("status").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
        raise ProcessGone(f"no VmRSS for pid {self.pid} (a zombie or a kernel thread)")

    def cpu_s(self) -> float:
        """User + system CPU time of all its threads."""
        stat = self._read("stat")
        fields = stat[stat.rindex(")") + 2:].split()      # the command name may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _read(self, name: str) -> str:
        try:
            return (self._dir / name).read_text()
        except (FileNotFoundError, ProcessLookupError) as exc:
            raise ProcessGone(f"pid {self.pid} is gone") from exc


class ChildrenProbe:
    """The summed RSS of a process's children (gate-app's image decode worker, restarted with a new
    pid when it is killed): looked up at each sample; a child gone meanwhile counts nothing."""

    def __init__(self, pid: int, proc: Path = Path("/proc")):
        self.pid, self.proc = pid, proc

    def rss_mb(self) -> float:
        total = 0.0
        for child in self.children():
            try:
                total += ProcessProbe(child, self.proc).rss_mb()
            except ProcessGone:
                pass
        return total

    def children(self) -> list[int]:
        pids: list[int] = []
        for task in (self.proc / str(self.pid) / "task").glob("*"):
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        return pids


class HeapProbe:
    """tracemalloc: the whole process's Python heap (cheap) and the appliance's share (a snapshot)."""

    def __init__(self, frames: int = HEAP_FRAMES, patterns: tuple[str, ...] = APPLIANCE_CODE):
        self.frames, self.patterns = frames, patterns

    def start(self) -> HeapProbe:
        tracemalloc.start(self.frames)
        return self

    def stop(self) -> None:
        tracemalloc.stop()

    @staticmethod
    def traced_mb() -> float:
        return tracemalloc.get_traced_memory()[0] / 2**20

    def appliance_mb(self) -> float:
        """Python memory still held that was allocated with appliance code on the call stack."""
        snapshot = tracemalloc.take_snapshot()
        ours: dict[str, bool] = {}      # a file name is matched once, not once per trace
        held = 0
        for trace in snapshot.traces:
            if any(self._ours(frame.filename, ours) for frame in trace.traceback):
                held += trace.size
        return held / 2**20

    def _ours(self, filename: str, cache: dict[str, bool]) -> bool:
        if filename not in cache:
            cache[filename] = any(fnmatch.fnmatch(filename, pattern) for pattern in self.patterns)
        return cache[filename]
