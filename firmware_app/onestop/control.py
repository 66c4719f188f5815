"""What each authority's BMIS commands may do to the shared lane.

Each authority sets its own mode; the lane runs in the more restrictive of the two, so closing the
lane is open to either and reopening it needs the one who closed it. Door overrides that secure
the doors are open to either; opening the doors by override bypasses both controls and is refused
(an officer on the spot opens them; per-authority override rules are not built yet).
"""
from __future__ import annotations

import logging
import threading

from firmware_app.policy import LaneMode
from firmware_app.policy.onestop import Role

from .errors import CommandNotPermitted

log = logging.getLogger("gate.onestop")
# most restrictive last: the lane takes the later of the two authorities' modes
RESTRICTION = (LaneMode.NORMAL, LaneMode.ASSISTED, LaneMode.REGISTRATION_ONLY, LaneMode.CLOSED)


class ModeArbiter:
    def __init__(self, start: LaneMode):
        self._modes = {Role.EXIT: start, Role.ENTRY: start}
        self._lock = threading.Lock()

    def set(self, role: Role, mode: LaneMode) -> LaneMode:
        """This authority's mode; returns the lane's mode (the more restrictive)."""
        with self._lock:
            self._modes[role] = LaneMode(mode)
            return self.effective()

    def effective(self) -> LaneMode:
        return max(self._modes.values(), key=RESTRICTION.index)

    def mode_of(self, role: Role) -> LaneMode:
        return self._modes[role]


class AuthorityLaneControl:
    """One authority's LaneControl (bmis/commands/processor.py) over the lane's own control."""

    def __init__(self, role: Role, arbiter: ModeArbiter, lane):
        self._role, self._arbiter, self._lane = role, arbiter, lane

    def attach(self, runner) -> None:
        """The lane's own control reaches the runner (both authorities share it)."""
        self._lane.attach(runner)

    def set_mode(self, mode: LaneMode, operator_id: str | None) -> None:
        effective = self._arbiter.set(self._role, mode)
        log.info("%s authority mode -> %s; lane mode %s", self._role.value, LaneMode(mode).value, effective.value)
        self._lane.set_mode(effective, operator_id)

    def override_door(self, action, door, operator_id: str, command_id: str | None = None) -> None:
        if str(getattr(action, "value", action)) != "close":
            raise CommandNotPermitted("a one-stop lane does not open its doors by one authority's override")
        self._lane.override_door(action, door, operator_id, command_id)

    def request_status(self) -> dict:
        status = dict(self._lane.request_status())
        status["authority_mode"] = self._arbiter.mode_of(self._role).value
        return status
