"""Is the new release healthy? Checks polled over a window; healthy means every check passed
without a break for `stable_s` before the window closed (a unit that reaches READY and then
crash-loops is not healthy, whatever moment one looks at it).

Checks are callables returning a HealthReading; one that raises counts as unhealthy. The unit
check is what systemd knows (Type=notify: `active/running` only after READY=1; NRestarts counts
crashes and watchdog kills); the status check asks the app itself over its status socket: it must
answer, its lane must have started, and no component may have failed that had not failed before
the update (a camera already broken does not make every release look bad; models that no longer
load do).
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from firmware_app.errors import GateError

from .system import UnitState


@dataclass(frozen=True)
class HealthReading:
    healthy: bool
    detail: str


@dataclass(frozen=True)
class HealthWindow:
    window_s: float = 180.0
    stable_s: float = 30.0
    poll_s: float = 2.0


@dataclass(frozen=True)
class HealthVerdict:
    healthy: bool
    detail: str
    waited_s: float

    def to_dict(self) -> dict:
        return {"healthy": self.healthy, "detail": self.detail, "waited_s": round(self.waited_s, 1)}


HealthCheck = Callable[[], HealthReading]


def unit_check(unit_state: Callable[[], UnitState]) -> HealthCheck:
    """Running, and not restarted since the first reading of this window."""
    first: list[int] = []

    def check() -> HealthReading:
        state = unit_state()
        if not first:
            first.append(state.restarts)
        restarted = state.restarts - first[0]
        if not state.running:
            return HealthReading(False, f"unit {state.active}/{state.sub}, restarted {restarted} time(s)")
        if restarted > 0:
            return HealthReading(False, f"unit restarted {restarted} time(s)")
        return HealthReading(True, "unit active/running")
    return check


def failed_components(snapshot: dict) -> set[str]:
    devices = snapshot.get("devices")
    if not isinstance(devices, dict):
        return set()
    return {str(name) for name, entry in devices.items() if isinstance(entry, dict) and entry.get("status") == "failed"}


def status_check(query: Callable[[], dict], failed_before: set[str] | None) -> HealthCheck:
    """`failed_before`: what had failed before the update (None: the app did not answer then)."""
    def check() -> HealthReading:
        snapshot = query()
        if snapshot.get("state") in (None, "starting") or "error" in snapshot:
            return HealthReading(False, f"app status: {snapshot.get('state') or snapshot.get('error')}")
        new = failed_components(snapshot) - (failed_before or set())
        if failed_before is not None and new:
            return HealthReading(False, f"failed since the update: {', '.join(sorted(new))}")
        return HealthReading(True, f"app {snapshot['state']}")
    return check


def read_all(checks: Sequence[HealthCheck]) -> HealthReading:
    details = []
    for check in checks:
        try:
            reading = check()
        except (OSError, ValueError, subprocess.SubprocessError, GateError) as exc:
            reading = HealthReading(False, f"check failed: {type(exc).__name__}: {exc}"[:300])
        if not reading.healthy:
            return reading
        details.append(reading.detail)
    return HealthReading(True, "; ".join(details))


def watch(checks: Sequence[HealthCheck], window: HealthWindow, *, monotonic: Callable[[], float],
          sleep: Callable[[float], None]) -> HealthVerdict:
    start = monotonic()
    healthy_since: float | None = None
    last_problem = "no reading"
    while True:
        now = monotonic()
        reading = read_all(checks)
        if reading.healthy:
            healthy_since = now if healthy_since is None else healthy_since
            if now - healthy_since >= window.stable_s:
                return HealthVerdict(True, reading.detail, now - start)
        else:
            healthy_since, last_problem = None, reading.detail
        if now - start >= window.window_s:
            detail = last_problem if healthy_since is None else f"not yet stable ({last_problem})"
            return HealthVerdict(False, detail, now - start)
        sleep(window.poll_s)
