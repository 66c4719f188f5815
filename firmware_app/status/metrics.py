"""The Prometheus view of a status snapshot: text exposition format, written to a file for
node_exporter's textfile collector (`[metrics] textfile`), atomically (written aside, renamed),
every `interval_s` on its own thread.

    border_gate_up{device="gate-1",version="0.2.0"} 1
    border_gate_lane_state{device="gate-1",state="ready"} 1
    border_gate_outbox_pending{device="gate-1"} 0
    border_gate_outbox_pending{device="osbp-1",authority="exit"} 0     # a one-stop post: per authority
    border_gate_certificate_days_left{device="osbp-1",authority="entry"} 364
    ...
"""
from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger(__name__)
_LABEL_BAD = re.compile(r'[\\"\n]')
_NAME_BAD = re.compile(r"[^a-zA-Z0-9_]")
Snapshot = Callable[[], dict]
PER_AUTHORITY = ("outbox", "certificate")     # snapshot parts given per authority on a one-stop post

# (metric, help, path into the snapshot)
GAUGES = (
    ("border_gate_uptime_seconds", "seconds since gate-app started", ("uptime_s",)),
    ("border_gate_outbox_pending", "records not yet acknowledged by the broker", ("outbox", "pending")),
    ("border_gate_outbox_unreceipted", "records acknowledged, not yet receipted by the BMIS",
     ("outbox", "unreceipted")),
    ("border_gate_outbox_oldest_unreceipted_age_seconds", "age of the oldest unreceipted record",
     ("outbox", "oldest_unreceipted_age_s")),
    ("border_gate_outbox_oldest_pending_age_seconds", "age of the oldest record kept",
     ("outbox", "oldest_pending_age_s")),
    ("border_gate_outbox_dead_letters", "records the broker refused", ("outbox", "dead_letters")),
    ("border_gate_certificate_days_left", "days until the MQTT client certificate expires",
     ("certificate", "days_left")),
)


def _label(value: object) -> str:
    return _LABEL_BAD.sub("_", str(value))[:128]


def _dig(snapshot: dict, path: tuple[str, ...]) -> int | float | None:
    value: object = snapshot
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def render(snapshot: dict) -> str:
    device = _label(snapshot.get("device_id", "unknown"))
    base = f'device="{device}"'
    version = _label((snapshot.get("versions") or {}).get("app", "unknown"))
    lines = ["# HELP border_gate_up 1 while gate-app answers its status socket",
             "# TYPE border_gate_up gauge", f'border_gate_up{{{base},version="{version}"}} 1']
    lines += _state_lines(base, snapshot)
    for name, help_text, path in GAUGES:
        samples = _samples(snapshot, name, path, base)
        if samples:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples]
    lines += _component_lines(base, snapshot.get("devices") or {})
    return "\n".join(lines) + "\n"


def _samples(snapshot: dict, name: str, path: tuple[str, ...], base: str) -> list[str]:
    """The gauge's sample; on a one-stop post (outbox and certificate {"authorities": {role: ...}})
    one per authority's outbox or client certificate, labelled with its role (an outbox that cannot
    be read, or an authority without a certificate, has none)."""
    authorities = _dig_dict(snapshot, (path[0], "authorities")) if path[0] in PER_AUTHORITY else None
    if authorities is None:
        value = _dig(snapshot, path)
        return [] if value is None else [f"{name}{{{base}}} {value}"]
    return [f'{name}{{{base},authority="{_label(role)}"}} {value}' for role, counts in sorted(authorities.items())
            if isinstance(counts, dict) and (value := _dig(counts, path[1:])) is not None]


def _dig_dict(snapshot: dict, path: tuple[str, ...]) -> dict | None:
    value: object = snapshot
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else None


def _state_lines(base: str, snapshot: dict) -> list[str]:
    lines = ["# HELP border_gate_lane_state the lane's state (1 for the current one)",
             "# TYPE border_gate_lane_state gauge",
             f'border_gate_lane_state{{{base},state="{_label(snapshot.get("state", "unknown"))}"}} 1']
    mode = snapshot.get("mode")
    if mode is not None:
        lines += ["# HELP border_gate_lane_mode the lane's mode (1 for the current one)",
                  "# TYPE border_gate_lane_mode gauge", f'border_gate_lane_mode{{{base},mode="{_label(mode)}"}} 1']
    return lines


def _component_lines(base: str, components: dict) -> Iterable[str]:
    if not components:
        return []
    lines = ["# HELP border_gate_component_ok 1 when the component reports ok",
             "# TYPE border_gate_component_ok gauge"]
    for name, entry in sorted(components.items()):
        status = entry.get("status") if isinstance(entry, dict) else entry
        lines.append(f'border_gate_component_ok{{{base},component="{_label(_NAME_BAD.sub("_", str(name)))}"}} '
                     f'{1 if status == "ok" else 0}')
    return lines


def write_textfile(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.chmod(0o644)     # node_exporter runs as its own user
    os.replace(partial, path)


class TextfileWriter:
    def __init__(self, path: Path, snapshot: Snapshot, interval_s: float = 15.0):
        self.path, self._snapshot, self._interval = Path(path), snapshot, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._writing = threading.Lock()     # one writer of the aside file at a time

    def write_once(self) -> None:
        try:
            with self._writing:
                write_textfile(self.path, render(self._snapshot()))
        except Exception as exc:
            log.warning("metrics textfile %s not written: %s", self.path, type(exc).__name__)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="metrics-textfile", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.write_once()
            if self._stop.wait(self._interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._writing:
            self.path.unlink(missing_ok=True)    # a stopped gate must not look alive to Prometheus
