"""Debug only: gate-app's own Python heap, traced, so that a soak can see what grows.

Off unless the environment names a folder: `GATE_APP_MEMTRACE=/some/dir gate-app --config ...`.
Then tracemalloc runs from the start (every allocation is traced: slower, more memory; never on a
device in service; `GATE_APP_MEMTRACE_FRAMES=0`: not traced, full speed, counts only), and each
SIGUSR2 writes, into that folder:
    heap-N.pickle   the tracemalloc snapshot (tracemalloc.Snapshot.load reads it; not when untraced)
    heap-N.json     live objects counted by type after a full collection, the traced total, and
                    the native side: SQLite's own memory (sqlite3_memory_used: page caches,
                    statements) and glibc malloc's bytes in use and held free (mallinfo2), which
                    tell a leak (in use grows) from fragmentation (free grows)
    heap-N.done     written last: the dump is complete
The signal only flags the request; a worker thread does the writing (a handler runs between two
bytecodes of the main thread, which may hold a lock). Nothing personal is written: sizes, counts,
type names and source lines of the appliance's code, no object's content.
"""
from __future__ import annotations

import ctypes
import gc
import json
import logging
import signal
import threading
import tracemalloc
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger("gate.memtrace")
ENV = "GATE_APP_MEMTRACE"
FRAMES_ENV = "GATE_APP_MEMTRACE_FRAMES"
FRAMES = 12             # deep enough to get from a worker thread's generic helpers back to the caller
TOP_TYPES = 80


class MemTrace:
    def __init__(self, directory: Path, frames: int = FRAMES):
        self.directory, self.frames = Path(directory), frames
        self.dumps = 0
        self._asked = threading.Event()
        self._stopped = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> MemTrace | None:
        folder = environ.get(ENV, "").strip()
        frames = environ.get(FRAMES_ENV, "").strip()
        return cls(Path(folder), int(frames) if frames.isdigit() else FRAMES) if folder else None

    def start(self, install_signal: bool = True) -> MemTrace:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.frames > 0:
            tracemalloc.start(self.frames)
        if install_signal:
            signal.signal(signal.SIGUSR2, lambda signum, frame: self._asked.set())
        threading.Thread(target=self._serve, name="memtrace", daemon=True).start()
        log.warning("memory tracing on (%s=%s): debug only, slows the appliance", ENV, self.directory)
        return self

    def request(self) -> None:
        """What SIGUSR2 does: ask the worker for one dump."""
        self._asked.set()

    def stop(self) -> None:
        """Ends the worker and the tracing (gate-app itself never stops it: it ends with the process)."""
        self._stopped = True
        self._asked.set()
        if self.frames > 0:
            tracemalloc.stop()

    def _serve(self) -> None:
        while True:
            self._asked.wait()
            self._asked.clear()
            if self._stopped:
                return
            try:
                self.dump()
            except OSError as exc:      # a full or vanished folder must not end the appliance
                log.error("memory trace dump failed: %s", exc)

    def dump(self) -> Path:
        self.dumps += 1
        base = self.directory / f"heap-{self.dumps}"
        gc.collect()
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            snapshot.dump(str(base.with_suffix(".pickle")))
        figures = {"traced_bytes": tracemalloc.get_traced_memory()[0], "types": type_counts(), **native_figures()}
        base.with_suffix(".json").write_text(json.dumps(figures))
        base.with_suffix(".done").touch()
        return base


def type_counts(top: int = TOP_TYPES) -> dict[str, int]:
    """Live objects tracked by the collector, by type (module-qualified), the most numerous first."""
    counts = Counter(_type_name(obj) for obj in gc.get_objects())
    return dict(counts.most_common(top))


def _type_name(obj: object) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


def native_figures() -> dict[str, int]:
    """SQLite's and glibc malloc's own counts, where this system has them (empty otherwise)."""
    figures: dict[str, int] = {}
    try:
        sqlite = ctypes.CDLL("libsqlite3.so.0")     # the library the sqlite3 module already loaded
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
        figures["sqlite_bytes"] = int(sqlite.sqlite3_memory_used())
    except (OSError, AttributeError):
        pass
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()     # every arena, not only the main one
        figures.update(malloc_in_use_bytes=info.uordblks + info.hblkhd, malloc_free_bytes=info.fordblks)
    except (OSError, AttributeError):
        pass
    return figures
