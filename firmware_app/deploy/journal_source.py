"""Our units' journal entries for the support bundle, read with journalctl (JSON output).

DEBUG entries are left out (the only level that may carry personal data); every read is bounded
in entries, message length and time. `directory` reads another machine's journal (a gate's SD
card mounted on the support laptop)."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

UNITS = ("gate-app.service", "gate-safety.service", "kiosk-browser.service", "gate-cert-renew.service",
         "bmis-ingest.service")
MAX_ENTRIES = 50_000
MAX_MESSAGE_CHARS = 2_000
TIMEOUT_S = 60.0
DEBUG = 7


@dataclass(frozen=True)
class JournalRead:
    lines: list[str]
    note: str           # what was read or why nothing was


def read_journal(since: str | None, directory: Path | None = None) -> JournalRead:
    binary = shutil.which("journalctl")
    if binary is None:
        return JournalRead([], "journalctl not available on this machine: no journal in the bundle")
    argv = [binary, "-o", "json", "--no-pager", "--priority=0..6", "-n", str(MAX_ENTRIES)]
    argv += [f"--unit={unit}" for unit in UNITS]
    argv += [f"--since={since}"] if since else []
    argv += [f"--directory={directory}"] if directory else []
    try:
        done = subprocess.run(argv, capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return JournalRead([], f"journalctl did not finish within {TIMEOUT_S:g} s")
    lines = [line for line in map(_format, done.stdout.splitlines()[:MAX_ENTRIES]) if line is not None]
    note = f"{len(lines)} entries (priority info and above) of {', '.join(UNITS)}"
    if done.returncode != 0:
        note += f"; journalctl exit {done.returncode}: {done.stderr.decode('utf-8', 'replace').strip()[:300]}"
    return JournalRead(lines, note)


def _format(raw: bytes) -> str | None:
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict) or _priority(entry) >= DEBUG:
        return None
    when = _time(entry.get("__REALTIME_TIMESTAMP"))
    unit = _text(entry.get("_SYSTEMD_UNIT") or entry.get("SYSLOG_IDENTIFIER") or "-")
    event = _text(entry.get("GATE_EVENT") or "")
    message = _text(entry.get("MESSAGE", ""))[:MAX_MESSAGE_CHARS]
    return f"{when} {unit} p{_priority(entry)}{' ' + event if event else ''}: {message}"


def _priority(entry: dict) -> int:
    try:
        return int(entry.get("PRIORITY", 6))
    except (TypeError, ValueError):
        return 6


def _text(value) -> str:
    if isinstance(value, list):       # journalctl's spelling of a non-UTF-8 field: a byte array
        return bytes(v for v in value if isinstance(v, int) and 0 <= v < 256).decode("utf-8", "replace")
    return str(value)


def _time(value) -> str:
    try:
        return datetime.fromtimestamp(int(value) / 1e6, UTC).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError):
        return "-"
